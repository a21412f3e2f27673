"""Every write of the check-in: tickets, check-ins and their undoing, offline scans, badge prints.

The locking contract: a check-in, and its undoing, lock the registration's row
(`select_for_update(no_key=True)`) in one transaction before they look at what stands, so
two staff scanning one person at once are served one after the other: the first records
the check-in, the second is told it stands. The partial unique constraints on CheckIn stand
behind the lock. No conference lock is taken: a check-in changes nobody's place, and one
person's check-in never waits for another's.
"""

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from agenda.models import Conference
from checkin import pdf, selectors
from checkin.exceptions import (
    AlreadyCheckedIn,
    CheckInRefused,
    NotBooked,
    NotConfirmed,
    OtherConference,
    UndoRefused,
    UnknownTicket,
)
from checkin.models import BadgePrint, BadgeRun, BadgeRunPart, CheckIn, OfflineScan, Ticket
from checkin.selectors import Door
from checkin.tickets import qr_png
from registration import tickets as registration_tickets
from registration.models import Booking, Registration, User

logger = logging.getLogger(__name__)
# The Celery task that builds one part of a badge run (checkin.tasks.build_badge_part).
BADGE_PART_TASK = "checkin.build_badge_part"

# A printing of more badges than this goes to the workers, in parts of BADGES_PER_PART.
BADGES_AT_ONCE = 500
BADGES_PER_PART = 500
# How long after a check-in the staff may take it back.
UNDO_WINDOW = dt.timedelta(minutes=1)
# How far back a device's offline scan may date itself; older times are taken as received.
OFFLINE_MAX_AGE = dt.timedelta(days=1)
# What a token can look like (checkin.models.new_token); anything else is refused unread.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def ensure_ticket(registration: Registration) -> Ticket | None:
    """The ticket of a confirmed registration, made on first need; None for any other status.

    Two first requests at once make one ticket: the unique registration column decides."""
    if registration.status != Registration.Status.CONFIRMED:
        return None
    ticket, _created = Ticket.objects.get_or_create(registration=registration)
    return ticket


def email_ticket(registration: Registration) -> registration_tickets.Ticket | None:
    """What registration's emails show of a confirmed registration's ticket (made if it has
    none yet): the ticket page's address and the QR code as a PNG; given to registration.tickets."""
    ticket = ensure_ticket(registration)
    if ticket is None:
        return None
    url = settings.SITE_URL + reverse("checkin:ticket", kwargs={"slug": registration.conference.slug})
    return registration_tickets.Ticket(url=url, qr_png=qr_png(ticket.token))


def ensure_tickets(registrations: list[Registration]) -> None:
    """Give every registration in the list that has none a ticket, in one insert (for badges);
    each gets its `ticket` attribute set."""
    missing = [registration for registration in registrations if not hasattr(registration, "ticket")]
    if not missing:
        return
    Ticket.objects.bulk_create([Ticket(registration=r) for r in missing], ignore_conflicts=True)
    tickets = {t.registration_id: t for t in Ticket.objects.filter(registration__in=missing)}
    for registration in missing:
        registration.ticket = tickets[registration.pk]


def check_in(registration: Registration, *, door: Door, actor: User, at: dt.datetime | None = None) -> CheckIn:
    """Check a confirmed registration in at a door (for a session door, one with a confirmed
    seat there). Locks the registration's row; raises NotConfirmed, NotBooked, or
    AlreadyCheckedIn (with the check-in that stands) and records nothing then."""
    with transaction.atomic():
        registration = Registration.objects.select_for_update(no_key=True).get(pk=registration.pk)
        if registration.status != Registration.Status.CONFIRMED:
            raise NotConfirmed(_not_confirmed_message(registration), registration=registration)
        if (
            door.session is not None
            and not registration.bookings.filter(session=door.session, status=Booking.Status.CONFIRMED).exists()
        ):
            raise NotBooked(registration=registration)
        standing = selectors.check_ins_at(door).filter(registration=registration).select_related("checked_in_by")
        if earlier := standing.first():
            raise AlreadyCheckedIn(already_message(earlier, registration), check_in=earlier, registration=registration)
        try:
            with transaction.atomic():
                return CheckIn.objects.create(
                    registration=registration,
                    day=door.day,
                    session=door.session,
                    checked_in_at=at or timezone.now(),
                    checked_in_by=actor,
                )
        except IntegrityError:
            # Only a writer that skipped the lock gets here; the constraint still holds.
            earlier = standing.get()
            message = already_message(earlier, registration)
            raise AlreadyCheckedIn(message, check_in=earlier, registration=registration) from None


def check_in_ticket(
    conference: Conference, token: str, *, door: Door, actor: User, at: dt.datetime | None = None
) -> CheckIn:
    """Check in the holder of the ticket with `token` at a door of `conference`. Raises
    UnknownTicket (forged, mistyped) or OtherConference before `check_in`'s refusals."""
    token = token.strip()
    if not TOKEN_PATTERN.fullmatch(token):
        raise UnknownTicket
    try:
        ticket = Ticket.objects.select_related("registration").get(token=token)
    except Ticket.DoesNotExist:
        raise UnknownTicket from None
    if ticket.registration.conference_id != conference.pk:
        raise OtherConference
    return check_in(ticket.registration, door=door, actor=actor, at=at)


def undo_check_in(check_in: CheckIn, *, actor: User) -> CheckIn:
    """Take back a check-in within UNDO_WINDOW of it. Locks the registration's row, as a
    check-in does; raises UndoRefused when it is too late or already undone."""
    with transaction.atomic():
        Registration.objects.select_for_update(no_key=True).filter(pk=check_in.registration_id).first()
        check_in = CheckIn.objects.get(pk=check_in.pk)
        if check_in.undone_at is not None:
            raise UndoRefused(_("This check-in was already undone."))
        if timezone.now() - check_in.checked_in_at > UNDO_WINDOW:
            raise UndoRefused
        check_in.undone_at = timezone.now()
        check_in.undone_by = actor
        check_in.save(update_fields=["undone_at", "undone_by"])
        return check_in


@dataclass
class Outcome:
    """What the door shows after a scan or a tap: green (admitted) or red, and why."""

    admitted: bool
    code: str
    message: str
    registration: Registration | None = None
    check_in: CheckIn | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"admitted": self.admitted, "code": self.code, "message": str(self.message), **self.details}


def scan(
    conference: Conference,
    *,
    door: Door,
    actor: User,
    token: str | None = None,
    registration: Registration | None = None,
    at: dt.datetime | None = None,
) -> Outcome:
    """Check in by ticket token or by registration (from a search), and say what happened."""
    try:
        if registration is not None:
            done = check_in(registration, door=door, actor=actor, at=at)
        else:
            done = check_in_ticket(conference, token or "", door=door, actor=actor, at=at)
    except CheckInRefused as refusal:
        holder = refusal.registration
        return Outcome(False, refusal.code, refusal.message, holder, details=_person(holder, door))
    registration = (
        selectors.for_the_door(conference, door).get(pk=done.registration_id)
        if registration is None or not hasattr(registration, "bookings_that_day")
        else registration
    )
    message = _("Checked in: %(name)s") % {"name": registration.full_name}
    details = {**_person(registration, door), "check_in": done.pk}
    return Outcome(True, "checked_in", message, registration, done, details)


def _person(registration: Registration | None, door: Door) -> dict[str, Any]:
    if registration is None:
        return {}
    bookings = getattr(registration, "bookings_that_day", None)
    if bookings is None:
        bookings = selectors.for_the_door(registration.conference, door).get(pk=registration.pk).bookings_that_day
        registration.bookings_that_day = bookings
    return {
        "name": registration.full_name,
        "organisation": registration.organisation,
        "number": registration.number,
        "pre_events": [booking.session.title for booking in bookings],
        "flags": flags(registration),
    }


def flags(registration: Registration) -> list[str]:
    """What the door staff should know: the dietary and access needs the attendee gave the
    organisers for the event, and a wish to stay out of photos."""
    found = []
    if registration.dietary_requirements:
        found.append(_("Dietary requirements: %(what)s") % {"what": registration.dietary_requirements})
    if registration.accessibility_needs:
        found.append(_("Accessibility needs: %(what)s") % {"what": registration.accessibility_needs})
    if registration.photo_opt_out:
        found.append(_("No photos, please"))
    return found


def sync_offline_scans(conference: Conference, scans: list[dict], *, actor: User) -> list[dict[str, Any]]:
    """Record the scans a device queued while offline; each dict has `nonce`, `token`, `door`
    (a door key) and may have `scanned_at` (milliseconds since the epoch). Returns one outcome
    per scan, in order. A nonce already received returns the outcome it had then, with
    `replayed` true, and records nothing: sending a batch twice does no harm. Each scan is
    one transaction (its nonce row and its check-in commit together), so a batch cut off
    halfway is whole up to where it stopped."""
    results = []
    for item in scans:
        nonce = str(item.get("nonce", "")).strip()
        if not nonce or len(nonce) > 64:
            results.append({"admitted": False, "code": "invalid", "message": _("This scan has no valid nonce.")})
            continue
        results.append(_sync_one(conference, item, nonce=nonce, actor=actor))
    return results


def _sync_one(conference: Conference, item: dict, *, nonce: str, actor: User) -> dict[str, Any]:
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = OfflineScan.objects.create(nonce=nonce, conference=conference, scanned_by=actor)
        except IntegrityError:
            # A nonce received before (its transaction committed, or waited for here on the index).
            earlier = OfflineScan.objects.filter(nonce=nonce, conference=conference).first()
            if earlier is None:
                return {"nonce": nonce, "admitted": False, "code": "invalid", "message": _("This nonce is taken.")}
            return {**earlier.outcome, "nonce": nonce, "replayed": True}
        try:
            door = selectors.door_for(conference, str(item.get("door", "")))
        except CheckInRefused as refusal:
            outcome = Outcome(False, refusal.code, refusal.message)
        else:
            outcome = scan(conference, door=door, actor=actor, token=str(item.get("token", "")), at=_scanned_at(item))
        record.outcome = outcome.as_json()
        record.save(update_fields=["outcome"])
        return {**record.outcome, "nonce": nonce, "replayed": False}


def _scanned_at(item: dict) -> dt.datetime | None:
    """The device's time of the scan, if it is a plausible one; else None (now)."""
    try:
        moment = dt.datetime.fromtimestamp(float(item.get("scanned_at")) / 1000, tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    now = timezone.now()
    return moment if now - OFFLINE_MAX_AGE <= moment <= now else None


def start_badge_run(
    conference: Conference, registration_ids: list[int], *, layout: str, actor: User, language: str
) -> BadgeRun:
    """Ask the workers for the badges of `registration_ids`, in that order, BADGES_PER_PART to a
    PDF; the parts are queued once the run is saved. Takes no lock. A broker that is down
    leaves the parts unbuilt: the run's page offers to queue them again."""
    run = BadgeRun.objects.create(
        conference=conference,
        requested_by=actor,
        layout=layout,
        language=language,
        registration_ids=registration_ids,
        part_size=BADGES_PER_PART,
    )
    transaction.on_commit(lambda: queue_badge_parts(run))
    return run


def queue_badge_parts(run: BadgeRun) -> int:
    """Hand the parts of a run not built yet to the workers; returns how many were handed over.
    The task is found by its name in Celery's registry: checkin.tasks calls into this module."""
    build_badge_part = current_app.tasks[BADGE_PART_TASK]
    built = set(run.parts.values_list("index", flat=True))
    queued = 0
    for index in range(run.part_count):
        if index in built:
            continue
        try:
            build_badge_part.delay(run_id=run.pk, index=index)
        except Exception:  # kombu and redis raise several unrelated types when Redis is unreachable
            logger.warning("Badge run %s: the broker did not take part %s", run.pk, index, exc_info=True)
            break
        queued += 1
    return queued


def build_badge_part(run_id: int, index: int) -> BadgeRunPart | None:
    """Build part `index` of a badge run: its PDF, in the run's language. Idempotent: a part
    built before (or by a worker at the same time: the unique index decides) is left alone."""
    run = BadgeRun.objects.select_related("conference").filter(pk=run_id).first()
    if run is None or not 0 <= index < run.part_count or run.parts.filter(index=index).exists():
        return None
    ids = run.registration_ids[index * run.part_size : (index + 1) * run.part_size]
    by_id = Registration.objects.select_related("ticket").in_bulk(ids)
    # Someone deleted since the run was asked for is left out; the order stays.
    registrations = [by_id[pk] for pk in ids if pk in by_id]
    ensure_tickets(registrations)
    with translation.override(run.language):
        content = pdf.badges(registrations, layout=run.layout, conference=run.conference)
    try:
        with transaction.atomic():
            return BadgeRunPart.objects.create(run=run, index=index, content=content)
    except IntegrityError:
        return None


def record_badge_print(conference: Conference, *, actor: User, badges: int) -> BadgePrint:
    """Note that everyone's (or the newcomers') badges were printed: the next "since the last
    print" starts here. Takes no lock: two prints at once both count, one after the other."""
    return BadgePrint.objects.create(conference=conference, printed_by=actor, badges=badges)


def already_message(check_in: CheckIn, registration: Registration) -> str:
    conference = registration.conference
    when = formats.time_format(timezone.localtime(check_in.checked_in_at, conference.tz), "TIME_FORMAT")
    by = check_in.checked_in_by.email if check_in.checked_in_by else _("someone")
    return _("Already checked in at %(time)s (%(zone)s) by %(by)s.") % {
        "time": when,
        "zone": conference.timezone,
        "by": by,
    }


def _not_confirmed_message(registration: Registration) -> str:
    return _("Not admitted (registration status: %(status)s).") % {"status": registration.get_status_display()}


def erase_user_badges(user) -> None:
    """Check-in's part of deleting an account: as `erase_badges`, for all of the user's registrations."""
    erase_badges(list(Registration.objects.filter(user=user).values_list("pk", flat=True)))


def erase_badges(registration_ids: list[int]) -> None:
    """Check-in's part of erasing a conference's registrations (accounts.personal_data,
    inside its transaction): the printed badge runs with any of these people go (their PDFs
    carry names), and so do the outcomes of the conference's offline scans (which name whom
    a scan found). Tickets and check-ins stay: they name nobody once the registration doesn't."""
    erased = set(registration_ids)
    conferences = Registration.objects.filter(pk__in=registration_ids).values("conference")
    runs = BadgeRun.objects.filter(conference__in=conferences).values_list("pk", "registration_ids")
    BadgeRun.objects.filter(pk__in=[pk for pk, people in runs if erased & set(people)]).delete()
    OfflineScan.objects.filter(conference__in=conferences).exclude(outcome={}).update(outcome={})
