"""The emails that tell attendees what happened to their registration.

Each is saved to the outbox (outbox.emails) inside the transaction of the change, so it
is sent if and only if the change commits; the row holds only the registration and the
few facts of the moment (a waiting-list position, a reason, a previous start), and
render_email writes it, in the attendee's language and the conference's time zone, when
it is sent: rendering texts and calendars while the registration's locks are held would
keep every other registration waiting.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext

from agenda.calendar import build_calendar
from agenda.models import Conference, Session
from outbox.emails import compose, queue_rendered_email
from outbox.models import OutgoingEmail
from outbox.rendering import InlineImage, NothingToSend, RenderedEmail, make_cid
from registration import programme, tickets
from registration.models import Booking, Registration

KINDS = (
    "received",
    "confirmed",
    "waitlisted",
    "promoted",
    "changed",
    "cancelled",
    "approved",
    "rejected",
    "reminder",
    "session_changed",
)
# What the caller must give for these kinds (see notify).
REQUIRED_CONTEXT = {"waitlisted": {"position"}, "session_changed": {"session"}}
# Emails that give or update a place: they carry the conference and the booked sessions as
# an iCalendar file, with the UIDs of the agenda's exports so calendars update, not double.
CALENDAR_KINDS = frozenset({"confirmed", "promoted", "approved", "changed", "session_changed"})
# Emails that show the place (includes/place.txt): a confirmed registration's carry its
# ticket, the link and the QR code as a picture (registration.tickets).
TICKET_KINDS = frozenset({"confirmed", "promoted", "approved", "changed"})


def notify(
    registration: Registration, kind: str, *, extra_context: dict | None = None, dedup_key: str | None = None
) -> OutgoingEmail | None:
    """Queue the `kind` email to a registration's attendee; call it inside the transaction of
    the change it reports. Takes no lock and writes one small row; the email is written
    when it is sent (render_email), so it lists the bookings confirmed by then.

    Extra context by kind: waitlisted needs `position`; rejected takes a `reason`;
    promoted takes the `session` whose seat was given (without it, the promotion is to a
    place at the conference); session_changed needs `session` (and takes `previous_start`). Returns None, queuing
    nothing, when the attendee deleted their account or `dedup_key` was used before.
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown email kind: {kind}")
    missing = REQUIRED_CONTEXT.get(kind, set()) - set(extra_context or {})
    if missing:
        raise ValueError(f"The {kind} email needs {', '.join(sorted(missing))}.")
    user = registration.user
    if user is None:
        return None
    context = {"registration_id": registration.pk}
    for name, value in (extra_context or {}).items():
        if isinstance(value, Session):
            context[f"{name}_id"] = value.pk
        elif isinstance(value, list | tuple | set) and all(isinstance(item, Session) for item in value) and value:
            context[f"{name}_ids"] = [session.pk for session in value]
        elif isinstance(value, datetime.datetime):
            context[name] = value.isoformat()
        else:
            context[name] = value
    return queue_rendered_email(
        to=user.email,
        kind=kind,
        context=context,
        language=registration.language,
        conference=registration.conference,
        reply_to=registration.conference.contact_email,
        dedup_key=dedup_key,
    )


def render_email(email: OutgoingEmail) -> RenderedEmail:
    """Write a notify() email at send time (outbox.rendering), in the conference's time zone,
    from the registration, its confirmed bookings and the context saved with it."""
    registration = (
        Registration.objects.select_related("user", "conference").filter(pk=email.context["registration_id"]).first()
    )
    if registration is None or registration.user is None:
        raise NothingToSend("the account was deleted.")
    conference = registration.conference
    bookings = list(registration.bookings.select_related("session__room", "session__conference"))
    sessions = [booking.session for booking in bookings if booking.status == Booking.Status.CONFIRMED]
    context = {
        "registration": registration,
        "conference": conference,
        "sessions": sessions,
        "waiting_session_ids": {
            booking.session_id for booking in bookings if booking.status != Booking.Status.CONFIRMED
        },
    }
    for name, value in email.context.items():
        if name == "session_id":
            context["session"] = Session.objects.select_related("room", "conference").filter(pk=value).first()
            if context["session"] is None:
                raise NothingToSend("the session was deleted.")
        elif name.endswith("_ids"):
            by_id = Session.objects.select_related("room", "conference").in_bulk(value)
            context[name.removesuffix("_ids")] = [by_id[pk] for pk in value if pk in by_id]
        elif name == "previous_start":
            context[name] = datetime.datetime.fromisoformat(value) if value else None
        elif name == "changes":
            context[name] = [_described_change(field, *values) for field, values in value.items()]
        elif name != "registration_id":
            context[name] = value
    kind = email.kind
    if kind == "reminder":
        # The day's confirmation: the attendee's own programme, with what other apps add to it.
        context["programme_days"] = programme.booked_days(registration.user, conference, sessions)
    my_registration_url = settings.SITE_URL + registration.get_absolute_url()
    prefix = f"emails/registration/{kind}"
    images = ()
    ticket = tickets.ticket_for(registration) if kind in TICKET_KINDS else None
    if ticket is not None:
        context["ticket_url"] = ticket.url
        images = (
            InlineImage(
                cid=make_cid("ticket"),
                content=ticket.qr_png,
                filename="ticket.png",
                alt=gettext("QR code of your ticket"),
            ),
        )
    with timezone.override(conference.tz):
        heading = _one_line(render_to_string(f"{prefix}_subject.txt", context))
        # Translators: the subject of every email about a conference, e.g. "Cluster Days 2026: See you on 3 March".
        subject = gettext("%(conference)s: %(subject)s") % {"conference": conference.name, "subject": heading}
        body_text, body_html = compose(
            heading=heading,
            content=render_to_string(f"{prefix}_message.txt", context),
            conference=conference,
            my_registration_url=my_registration_url,
            images=images,
        )
    attachments = [_calendar_attachment(conference, sessions)] if kind in CALENDAR_KINDS else []
    return RenderedEmail(_one_line(subject), body_text, body_html, attachments, images)


def notify_session_change(*, session: Session, changes: dict) -> None:
    """On the agenda's SESSION_CHANGED (agenda/events.py): tell everyone with a confirmed seat on a
    session that moved or was cancelled. Runs inside the agenda's transaction, so the
    notices exist if and only if the change does."""
    previous_start = changes.get("start", (None, None))[0]
    extra_context = {
        "session": session,
        "previous_start": previous_start if isinstance(previous_start, datetime.datetime) else None,
    }
    bookings = Booking.objects.filter(
        session=session,
        status=Booking.Status.CONFIRMED,
        registration__status__in=Registration.LIVE_STATUSES,
    ).select_related("registration__user", "registration__conference")
    for booking in bookings:
        notify(booking.registration, "session_changed", extra_context=extra_context)


def queue_reminders(*, limit: int) -> int:
    """Queue the reminder, at most `limit` of them, for confirmed registrations of
    conferences that start within REMINDER_DAYS_BEFORE days (in their own time zone) and
    have had none; returns how many were queued. Once per registration: the reminder's
    dedup key holds even when two runs overlap. Each in its own short transaction."""
    now = timezone.now()
    days = settings.REMINDER_DAYS_BEFORE
    # A day either side of the UTC date covers every time zone; each is then checked exactly.
    candidates = Conference.objects.published().filter(
        start_date__range=(now.date() - datetime.timedelta(days=1), now.date() + datetime.timedelta(days=days + 1))
    )
    due = [
        conference.pk
        for conference in candidates
        if 0 <= (conference.start_date - now.astimezone(conference.tz).date()).days <= days
    ]
    registrations = (
        Registration.objects.filter(conference__in=due, status=Registration.Status.CONFIRMED, user__isnull=False)
        # The reminder's dedup key says who has had one (outbox's unique index on it).
        .exclude(
            Exists(
                OutgoingEmail.objects.filter(dedup_key=Concat(Value("reminder:"), Cast(OuterRef("pk"), CharField())))
            )
        )
        .select_related("user", "conference")
        .order_by("pk")[:limit]
    )
    queued = 0
    for registration in registrations:
        with transaction.atomic():
            if notify(registration, "reminder", dedup_key=f"reminder:{registration.pk}"):
                queued += 1
    return queued


def _described_change(field_name: str, before, after) -> dict[str, str]:
    """A detail's change as the attendee reads it, in their language: the field's label and
    the values before and after (the labels of choices, yes or no, "(none)" for empty)."""
    field = Registration._meta.get_field(field_name)
    choices = dict(field.flatchoices) if field.choices else {}

    def shown(value) -> str:
        if isinstance(value, bool):
            return gettext("yes") if value else gettext("no")
        if value in ("", None):
            return gettext("(none)")
        return str(choices.get(value, value))

    return {"label": capfirst(field.verbose_name), "before": shown(before), "after": shown(after)}


def _calendar_attachment(conference: Conference, sessions: list[Session]) -> dict:
    return {
        "filename": f"{conference.slug}.ics",
        "content": build_calendar(conference, sessions, include_conference=True).decode(),
        "mimetype": "text/calendar",
    }


def _one_line(text: str) -> str:
    # A subject is one header line: template newlines would break it (or be refused).
    return " ".join(text.split())
