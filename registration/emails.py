"""The outbox: every email is a row first, written in the transaction of the change it
reports, and a Celery task delivers it after commit. Nothing is lost when Redis or the
SMTP server is down; the periodic sweep hands queued rows to the workers again."""

import logging
import smtplib
from datetime import timedelta
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from registration.models import OutgoingEmail, Registration

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
# An email left in "sending" this long belongs to a worker that died mid-send.
SENDING_TIMEOUT = timedelta(minutes=5)
# A queued email untouched this long was never handed to a worker (broker down).
QUEUED_GRACE = timedelta(minutes=1)


class TransientEmailError(Exception):
    """Delivery failed in a way that may pass: try again later."""


def queue_email(
    *,
    to: str,
    subject: str,
    body_text: str,
    body_html: str = "",
    kind: str,
    language: str,
    registration: Registration | None = None,
    attachments: list[dict] | None = None,
) -> OutgoingEmail:
    """Save an email in the current transaction and enqueue its delivery once that commits."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(">") or "localhost"
    email = OutgoingEmail.objects.create(
        to=to,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        kind=kind,
        language=language,
        registration=registration,
        attachments=attachments or [],
        message_id=make_msgid(domain=domain),
    )
    transaction.on_commit(lambda: enqueue_delivery(email.pk))
    return email


def enqueue_delivery(email_id: int) -> None:
    """Hand an email to the workers; if the broker is down, the periodic sweep retries.
    Without Redis (the fallback of `make run`) tasks are eager: it is sent here and now."""
    from registration.tasks import deliver_email  # imported here: the tasks module imports this one

    try:
        # Through the task, not send_task(): only the task honours task_always_eager.
        deliver_email.apply_async(kwargs={"email_id": email_id})
    except Exception:  # kombu raises several unrelated types when Redis is unreachable
        logger.warning("Could not enqueue email %s; the sweep will try again.", email_id, exc_info=True)


def send_email(email_id: int) -> None:
    """Send one queued email over SMTP, at most once unless a worker dies mid-send.

    Takes the row lock only to move it from queued to sending, so a second delivery of the
    same email returns at once. Raises TransientEmailError when a retry may succeed.
    """
    with transaction.atomic():
        email = (
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status=OutgoingEmail.Status.QUEUED)
            .first()
        )
        if email is None:
            return
        email.status = OutgoingEmail.Status.SENDING
        email.attempts += 1
        email.last_attempt_at = timezone.now()
        email.save(update_fields=["status", "attempts", "last_attempt_at"])

    try:
        build_message(email).send()
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
        code = getattr(exc, "smtp_code", None) or _first_recipient_code(exc)
        if code is not None and code >= 500:
            _finish(email, OutgoingEmail.Status.FAILED, error=str(exc))
            return
        _retry_later(email, exc)
    except (TimeoutError, OSError, smtplib.SMTPException) as exc:
        _retry_later(email, exc)
    else:
        _finish(email, OutgoingEmail.Status.SENT)


def build_message(email: OutgoingEmail) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        to=[email.to],
        headers={"Message-ID": email.message_id, "Auto-Submitted": "auto-generated"},
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    for attachment in email.attachments:
        message.attach(attachment["filename"], attachment["content"], attachment["mimetype"])
    return message


def requeue_stale_emails() -> int:
    """Enqueue emails the workers never got or lost mid-send; returns how many."""
    now = timezone.now()
    OutgoingEmail.objects.filter(status=OutgoingEmail.Status.SENDING, last_attempt_at__lt=now - SENDING_TIMEOUT).update(
        status=OutgoingEmail.Status.QUEUED
    )
    stale_ids = list(
        OutgoingEmail.objects.filter(status=OutgoingEmail.Status.QUEUED, created_at__lt=now - QUEUED_GRACE)
        .exclude(last_attempt_at__gte=now - QUEUED_GRACE)
        .values_list("pk", flat=True)[:1000]
    )
    for email_id in stale_ids:
        enqueue_delivery(email_id)
    return len(stale_ids)


def _first_recipient_code(exc: Exception) -> int | None:
    recipients = getattr(exc, "recipients", None) or {}
    return next((code for code, _message in recipients.values()), None)


def _retry_later(email: OutgoingEmail, exc: Exception) -> None:
    if email.attempts >= MAX_ATTEMPTS:
        _finish(email, OutgoingEmail.Status.FAILED, error=str(exc))
        return
    _finish(email, OutgoingEmail.Status.QUEUED, error=str(exc))
    raise TransientEmailError(str(exc)) from exc


def _finish(email: OutgoingEmail, status: str, *, error: str = "") -> None:
    email.status = status
    email.last_error = error
    fields = ["status", "last_error"]
    if status == OutgoingEmail.Status.SENT:
        email.sent_at = timezone.now()
        fields.append("sent_at")
    email.save(update_fields=fields)
