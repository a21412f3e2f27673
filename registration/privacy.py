"""How long a conference keeps its registrations' personal data, and its erasure.

Each conference says how long (agenda.Conference.personal_data_months after its last day,
and sensitive_answers_days for the dietary and accessibility answers, which can reveal
health or religion and go first). The beat task registration.erase_personal_data runs
`erase_due` every hour: it erases what is due in batches, each batch one transaction, and
warns each conference's organisers a month before its personal data goes. Every step is
idempotent: erased rows are marked (Registration.personal_data_erased_at) or empty, and
the warning has a once-only key.

The erasure is the one that deleting an account does (accounts.personal_data), limited to
one conference's registrations: every app's part erases what it keeps about them, the
emails about the conference to those people lose their bodies, and the rows stay for the
figures (status, country, organisation type, bookings, check-ins).
"""

import contextlib
import datetime as dt
import logging
from dataclasses import dataclass

from django.contrib.postgres.fields import ArrayField
from django.db import transaction
from django.db.models import CharField, F, Func, JSONField, Value
from django.db.models.functions import Cast
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import personal_data, teams
from agenda.models import Conference
from outbox.emails import compose, queue_email
from registration import services
from registration.exceptions import ChangesClosed, InvalidTransition
from registration.models import Consent, Registration, RegistrationChange, User

logger = logging.getLogger(__name__)

# Registrations one transaction erases: short enough not to hold up anyone else.
BATCH = 200
# How long before the erasure the organisers are told.
WARNING_AHEAD = dt.timedelta(days=30)
# Who is told: those who may change the conference's registrations.
WARNED_PERMISSION = "can_change_registrations"

Action = RegistrationChange.Action


@dataclass(frozen=True)
class Retention:
    """What a conference will erase, when, and how much is left to erase."""

    conference: Conference
    answers_erased_at: dt.datetime
    answers_left: int
    personal_data_erased_at: dt.datetime
    registrations_left: int

    @property
    def warning_at(self) -> dt.datetime:
        return self.personal_data_erased_at - WARNING_AHEAD


def _with_answers(conference: Conference):
    return Registration.objects.filter(conference=conference).exclude(dietary_requirements="", accessibility_needs="")


def _not_erased(conference: Conference):
    return Registration.objects.filter(conference=conference, personal_data_erased_at__isnull=True)


def retention(conference: Conference) -> Retention:
    """The conference's erasure dates and what is left to erase (two counts)."""
    return Retention(
        conference=conference,
        answers_erased_at=conference.sensitive_answers_erased_at,
        answers_left=_with_answers(conference).count(),
        personal_data_erased_at=conference.personal_data_erased_at,
        registrations_left=_not_erased(conference).count(),
    )


def erase_due(*, now: dt.datetime | None = None, limit: int = BATCH * 10) -> int:
    """Erase what is due in every conference, at most `limit` registrations, and send the
    warnings that are due; returns how many registrations were erased or lost their answers
    (`limit` means more may be due). Only conferences that have ended are looked at."""
    now = now or timezone.now()
    done = 0
    for conference in Conference.objects.filter(end_date__lt=now.date()).order_by("end_date", "pk"):
        if now < conference.ends_at:
            continue
        if now >= conference.sensitive_answers_erased_at:
            done += erase_sensitive_answers(conference, limit=limit - done)
        if now >= conference.personal_data_erased_at:
            done += erase_personal_data(conference, limit=limit - done)
        elif now >= conference.personal_data_erased_at - WARNING_AHEAD:
            warn_organisers(conference)
        if done >= limit:
            break
    return done


def erase_sensitive_answers(conference: Conference, *, limit: int) -> int:
    """Blank the dietary and accessibility answers of the conference's registrations, and the
    old values of them in their history, batch by batch; returns how many registrations
    had some."""
    erased = _in_batches(_with_answers(conference), _erase_answers, limit=limit)
    if erased:
        logger.info("Erased the dietary and accessibility answers of %d registrations of %s", erased, conference.slug)
    return erased


def erase_personal_data(conference: Conference, *, limit: int) -> int:
    """Erase the personal data of the conference's registrations, batch by batch, in every app
    (accounts.personal_data.erase_registrations); returns how many were erased."""
    erased = _in_batches(_not_erased(conference), lambda ids: _erase(conference, ids), limit=limit)
    if erased:
        logger.info("Erased the personal data of %d registrations of %s", erased, conference.slug)
    return erased


def _in_batches(registrations, erase, *, limit: int) -> int:
    """Call `erase(ids)` on the `registrations` still to erase, BATCH at a time, each batch in
    its own transaction with its rows locked (rows another transaction holds wait for the next
    run), until none is left or `limit` is reached; returns how many were erased."""
    erased = 0
    while erased < limit:
        with transaction.atomic():
            ids = list(
                registrations.select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", flat=True)[: min(BATCH, limit - erased)]
            )
            if not ids:
                break
            erase(ids)
        erased += len(ids)
    return erased


def _erase_answers(registration_ids: list[int]) -> None:
    now = timezone.now()
    fields = list(Registration.SENSITIVE_FIELDS)
    Registration.objects.filter(pk__in=registration_ids).update(updated_at=now, **dict.fromkeys(fields, ""))
    # The history's changes of details quote the old and new answers.
    RegistrationChange.objects.filter(registration__in=registration_ids, details__has_any_keys=fields).update(
        details=Func(
            F("details"),
            Cast(Value(fields), ArrayField(CharField())),
            function="",
            arg_joiner=" - ",
            output_field=JSONField(),
        )
    )
    RegistrationChange.objects.bulk_create(
        RegistrationChange(registration_id=pk, action=Action.ANSWERS_ERASED, created_at=now) for pk in registration_ids
    )


def _erase(conference: Conference, registration_ids: list[int]) -> None:
    people = User.objects.filter(registrations__in=registration_ids)
    personal_data.erase_registrations(
        registration_ids, addresses=personal_data.addresses_of(people), conference=conference
    )


def withdraw_privacy_consent(registration: Registration, *, actor: User) -> None:
    """The attendee withdraws their agreement to the privacy statement: their registration is
    cancelled (its place goes to those waiting) unless the conference has begun or it is
    over already, the withdrawal is recorded with its time, and the registration's personal
    data is erased at once, as at the end of the retention period. Raises InvalidTransition
    once it is erased."""
    with transaction.atomic():
        if registration.status in Registration.LIVE_STATUSES:
            # Once the conference has begun the place stays, without a name.
            with contextlib.suppress(ChangesClosed):
                services.cancel_registration(registration, actor=actor)
        locked = Registration.objects.select_for_update(no_key=True).get(pk=registration.pk)
        if locked.personal_data_erased_at is not None:
            raise InvalidTransition(_("This registration's personal data has been erased."))
        Consent.objects.filter(registration=locked, withdrawn_at=None).update(withdrawn_at=timezone.now())
        _erase(registration.conference, [registration.pk])
    logger.info("Erased the personal data of registration %d on withdrawal of consent", registration.pk)


def warn_organisers(conference: Conference) -> int:
    """Email each organiser who may change the conference's registrations, once for each
    erasure date, that its personal data goes on that date and how much; nothing if all is
    erased already. Returns how many warnings were queued (0 when sent before)."""
    left = retention(conference)
    if not left.registrations_left:
        return 0
    queued = 0
    for organiser in teams.members_with(conference, WARNED_PERMISSION):
        with translation.override(organiser.language):
            subject, body_text, body_html = _warning(left)
        queued += (
            queue_email(
                to=organiser.email,
                subject=subject,
                body_text=body_text,
                body_html=body_html,
                kind="retention_warning",
                language=organiser.language,
                conference=conference,
                dedup_key=f"retention-warning:{conference.pk}:{left.personal_data_erased_at.date()}:{organiser.pk}",
            )
            is not None
        )
    return queued


def _warning(left: Retention) -> tuple[str, str, str]:
    conference = left.conference
    when = timezone.localtime(left.personal_data_erased_at, conference.tz)
    subject = _("%(conference)s: its attendees' personal data is erased on %(date)s") % {
        "conference": conference.name,
        "date": formats.date_format(when, "DATE_FORMAT"),
    }
    content = ngettext(
        "On %(date)s (%(zone)s) the personal data of the %(count)d registration of %(conference)s is erased, "
        "as its privacy statement promised: names, email addresses, organisations, answers and the emails "
        "sent to them. The registration stays, without them, for the figures.\n\n"
        "Export what you still need before then. To keep the data longer, change the period in the "
        "conference's settings in the admin and update the privacy statement to say so.",
        "On %(date)s (%(zone)s) the personal data of the %(count)d registrations of %(conference)s is erased, "
        "as its privacy statement promised: names, email addresses, organisations, answers and the emails "
        "sent to them. The registrations stay, without them, for the figures.\n\n"
        "Export what you still need before then. To keep the data longer, change the period in the "
        "conference's settings in the admin and update the privacy statement to say so.",
        left.registrations_left,
    ) % {
        "date": formats.date_format(when, "DATE_FORMAT"),
        "zone": conference.timezone,
        "count": left.registrations_left,
        "conference": conference.name,
    }
    body_text, body_html = compose(heading=subject, content=content, conference=conference)
    return subject, body_text, body_html


def consents_in_force(registration: Registration) -> set[str]:
    """The purposes the attendee agrees to now."""
    return set(Consent.objects.filter(registration=registration, withdrawn_at=None).values_list("purpose", flat=True))
