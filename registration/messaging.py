"""Messages from the organisers to their attendees: who is in the audience, what each one
reads, and sending through the outbox, once per recipient.

Sending is two steps. `start_sending` locks the message row and moves it from draft to
sending in one transaction, so a second click finds it no longer a draft; the task
`registration.queue_message` then writes the outbox rows in batches, each batch in one
transaction with the message's cursor (`queued_up_to`), so a retried or interrupted task
carries on where the last committed batch ended. Each row has a dedup key per message
and registration: a recipient gets the message once whatever happens to the task.
The outbox's workers are woken when the first batch commits and when the last has: in
between, they claim the rows of each batch as it commits, with no task per email.
"""

import logging
import re
from collections.abc import Callable

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from outbox.emails import compose, enqueue_delivery, queue_email, queue_emails
from registration.exceptions import RegistrationError
from registration.models import Booking, Message, Registration

logger = logging.getLogger(__name__)

# The task that writes a message's outbox rows (registration.tasks.queue_message).
QUEUE_TASK = "registration.queue_message"
PLACEHOLDERS = ("given_name", "family_name", "conference", "my_registration_url")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Outbox rows one transaction writes.
BATCH_SIZE = 1000
# The statuses an audience may pick: those whose people are still coming, or may be.
AUDIENCE_STATUSES = Registration.LIVE_STATUSES

# Whether a registration checked in is known to the app that checks people in, which
# registration must not import: it tells us here (see check_in_known_by).
_checked_in: list[Callable[[], QuerySet]] = []


class MessageError(RegistrationError):
    default_message = _("This message cannot be sent.")


def check_in_known_by(registration_ids: Callable[[], QuerySet]) -> None:
    """Let audiences be narrowed to those checked in, or not: `registration_ids()` returns
    the primary keys of the registrations checked in, as a subquery."""
    _checked_in[:] = [registration_ids]


def can_filter_check_in() -> bool:
    return bool(_checked_in)


def unknown_placeholders(text: str) -> list[str]:
    """The `{name}`s in `text` that are not placeholders, in order of appearance, once each."""
    return list(dict.fromkeys(name for name in PLACEHOLDER.findall(text) if name not in PLACEHOLDERS))


def _fill(text: str, values: dict[str, str], escape_values: bool = False) -> str:
    def value(match: re.Match) -> str:
        if match.group(1) not in values:
            return match.group(0)
        return escape(values[match.group(1)]) if escape_values else values[match.group(1)]

    return PLACEHOLDER.sub(value, text)


def audience(message: Message) -> QuerySet[Registration]:
    """The registrations the message goes to, of its conference only, as it stands now.

    Only attendees with an account (an erased one has no address); an optional message
    leaves out those whose consent to optional messages is not in force (registration.Consent)."""
    registrations = Registration.objects.filter(
        conference=message.conference_id,
        status__in=[status for status in message.statuses if status in AUDIENCE_STATUSES],
        user__isnull=False,
    )
    if message.pre_event_id:
        registrations = registrations.filter(
            pk__in=Booking.objects.filter(session=message.pre_event_id, status=Booking.Status.CONFIRMED).values(
                "registration"
            )
        )
    if message.checked_in and _checked_in:
        checked_in = Q(pk__in=_checked_in[0]())
        registrations = registrations.filter(checked_in if message.checked_in == Message.CheckedIn.YES else ~checked_in)
    if message.countries:
        registrations = registrations.filter(country__in=message.countries)
    if message.organisation_types:
        registrations = registrations.filter(organisation_type__in=message.organisation_types)
    if not message.essential:
        registrations = registrations.filter(essential_messages_only=False)
    return registrations


class Rendered:
    """A message in one language with the placeholders that are the same for every recipient
    filled in and the layout rendered once; each recipient's names go in last."""

    def __init__(self, message: Message, language: str) -> None:
        conference = message.conference
        shared = {
            "conference": conference.name,
            "my_registration_url": settings.SITE_URL + reverse("registration:mine", kwargs={"slug": conference.slug}),
        }
        subject, body = message.text_in(language)
        self.language = language
        with translation.override(language), timezone.override(conference.tz):
            self.subject = _fill(subject, shared)
            self.body_text, self.body_html = compose(
                heading=self.subject,
                content=_fill(body, shared),
                conference=conference,
                my_registration_url=shared["my_registration_url"],
            )

    def for_recipient(self, registration: Registration) -> tuple[str, str, str]:
        """Subject, text and HTML with the recipient's names in; escaped in the HTML."""
        names = {"given_name": registration.given_name, "family_name": registration.family_name}
        # One line: a name cannot break the subject header.
        subject = " ".join(_fill(self.subject, names).split())
        return subject, _fill(self.body_text, names), _fill(self.body_html, names, escape_values=True)


def preview(message: Message) -> tuple[Registration | None, tuple[str, str, str] | None]:
    """The first recipient and what they would read, or (None, None) for an empty audience."""
    registration = audience(message).order_by("pk").first()
    if registration is None:
        return None, None
    return registration, Rendered(message, registration.language).for_recipient(registration)


def send_test(message: Message, *, user) -> None:
    """Email `user` what the first recipient would read (in the message's own language, with
    the user's address for a name, when the audience is empty)."""
    registration, rendered = preview(message)
    language = registration.language if registration else message.language
    if rendered is None:
        rendered = Rendered(message, language).for_recipient(Registration(given_name=user.email, family_name=""))
    subject, body_text, body_html = rendered
    with transaction.atomic():
        queue_email(
            to=user.email,
            subject=gettext("[Test] %(subject)s") % {"subject": subject},
            body_text=body_text,
            body_html=body_html,
            kind="message_test",
            language=language,
            conference=message.conference,
        )


def start_sending(message_id: int, *, actor, expected: int | None = None) -> Message:
    """Move a draft to sending and hand it to the task that queues its emails.

    Locks the message row: of two clicks on "send", the second finds the message no longer
    a draft and raises MessageError, sending nothing. Raises MessageError too for an empty
    audience, and for an audience that changed size since the confirmation said `expected`.
    """
    with transaction.atomic():
        message = Message.objects.select_for_update().select_related("conference").get(pk=message_id)
        if message.state != Message.State.DRAFT:
            raise MessageError(_("This message has already been sent; nobody gets it twice."))
        count = audience(message).count()
        if count == 0:
            raise MessageError(_("Nobody is in this audience; nothing was sent. Widen the audience first."))
        if expected is not None and count != expected:
            raise MessageError(
                ngettext(
                    "The audience changed since you looked: it is now %(count)d person. Check and confirm again.",
                    "The audience changed since you looked: it is now %(count)d people. Check and confirm again.",
                    count,
                )
                % {"count": count}
            )
        message.state = Message.State.SENDING
        message.sent_by = actor
        message.send_started_at = timezone.now()
        message.recipient_count = count
        message.save(update_fields=["state", "sent_by", "send_started_at", "recipient_count"])
        transaction.on_commit(lambda: hand_over(message.pk))
    return message


def hand_over(message_id: int) -> None:
    """Give the message to the task that queues its emails; the task is found by its name
    (registration.tasks calls into this module, not the other way)."""
    try:
        current_app.tasks[QUEUE_TASK].delay(message_id=message_id)
    except Exception as exc:  # kombu and redis raise several unrelated types when Redis is unreachable
        logger.warning("The broker refused message %s (%s); carry on sending it from the admin.", message_id, exc)


def queue_batch(message_id: int, *, size: int = BATCH_SIZE) -> int:
    """Queue the next `size` recipients' emails of a message being sent, in one transaction
    that also moves its cursor; marks it sent when none are left. Returns how many were
    queued (0 once done, or if the message is not being sent)."""
    with transaction.atomic():
        message = Message.objects.select_for_update().select_related("conference").filter(pk=message_id).first()
        if message is None or message.state != Message.State.SENDING:
            return 0
        batch = list(
            audience(message)
            .filter(pk__gt=message.queued_up_to)
            .select_related("user")
            .order_by("pk")
            .only("pk", "given_name", "family_name", "language", "user__email")[:size]
        )
        if not batch:
            message.state = Message.State.SENT
            message.save(update_fields=["state"])
            # In case the workers ran dry before the last batches committed.
            transaction.on_commit(lambda: enqueue_delivery(message.recipient_count or 0))
            return 0
        rendered: dict[str, Rendered] = {}
        emails = []
        for registration in batch:
            language = registration.language
            if language not in rendered:
                rendered[language] = Rendered(message, language)
            subject, body_text, body_html = rendered[language].for_recipient(registration)
            emails.append(
                {
                    "to": registration.user.email,
                    "subject": subject,
                    "body_text": body_text,
                    "body_html": body_html,
                    "kind": message.email_kind,
                    "language": language,
                    "conference": message.conference,
                    "dedup_key": f"message:{message.pk}:{registration.pk}",
                }
            )
        # The message row's lock keeps two runs from inserting the same keys at once.
        queue_emails(emails, wake_workers=message.queued_up_to == 0)
        message.queued_up_to = batch[-1].pk
        message.save(update_fields=["queued_up_to"])
        return len(batch)


def progress(message: Message) -> dict:
    """What the progress display shows; `message` comes from Message.objects.with_counts()."""
    return {
        "state": message.state,
        "state_label": str(message.get_state_display()),
        "recipients": message.recipient_count or 0,
        "queued": message.queued_count,
        "sent": message.sent_count,
        "failed": message.failed_count,
    }
