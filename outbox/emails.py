"""The outbox: every email is a row first, saved in the transaction of the change it
reports, and a Celery task delivers it after commit. Nothing is lost when Redis
or the SMTP server is down: transient failures are retried with growing delays, and the
periodic sweep hands back to the workers whatever the broker lost or a dead worker left.

States: queued → sending → sent, or failed (refused for good, or out of attempts); a
transient failure puts the email back to queued with the time of its next attempt.
"""

import logging
import random
import smtplib
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import timedelta
from email.utils import make_msgid, parseaddr

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, transaction
from django.db.models import Case, F, JSONField, Q, TextField, Value, When
from django.db.models.functions import Lower
from django.db.models.lookups import In
from django.template.loader import render_to_string
from django.utils import timezone, translation

from outbox import rendering
from outbox.models import OutgoingEmail

logger = logging.getLogger(__name__)
# This worker's (thread's) SMTP connection, kept between emails: see _smtp_connection().
_smtp = threading.local()

# The Celery task that delivers one email (outbox.tasks.deliver_email).
DELIVERY_TASK = "outbox.deliver_email"
# Retry delays double from settings.OUTBOX_RETRY_DELAY up to this many seconds.
MAX_RETRY_DELAY = 1800
# Emails one sweep hands over at most; a larger backlog goes with the next sweep.
SWEEP_BATCH = 5000
# Seconds an SMTP connection may stay idle and still be reused.
SMTP_MAX_IDLE = 10
# Failures of delivery itself (network, SMTP server, time limit): worth another attempt
# unless the server refused for good (_is_permanent). Any other exception means a message
# our code cannot build, which fails at once.
DELIVERY_ERRORS = (OSError, smtplib.SMTPException, SoftTimeLimitExceeded)


class TransientEmailError(Exception):
    """Delivery failed in a way that may pass; the email is queued again for `retry_in` seconds from now."""

    def __init__(self, message: str, *, retry_in: float) -> None:
        super().__init__(message)
        self.retry_in = retry_in


def compose(*, heading: str, content: str, conference=None, my_registration_url: str = "") -> tuple[str, str]:
    """The plain-text and HTML bodies of an email whose message is `content` (plain text),
    in the active language: the text as written around a common footer (naming the
    conference, if one is given), and the one HTML layout with the text escaped and its
    links made clickable."""
    context = {
        "heading": heading,
        "content": content.strip(),
        "conference": conference,
        "my_registration_url": my_registration_url,
    }
    return render_to_string("emails/base.txt", context).strip() + "\n", render_to_string("emails/base.html", context)


def queue_email(
    *,
    to: str,
    subject: str,
    body_text: str,
    body_html: str = "",
    kind: str,
    language: str,
    conference=None,
    attachments: list[dict] | None = None,
    reply_to: str = "",
    dedup_key: str | None = None,
) -> OutgoingEmail | None:
    """Save an email written now, in the current transaction, and hand it to the workers
    once that commits. Use it for an email written by hand or once for many (a message to
    attendees, a report to the organisers); an email written for one occasion from the
    database's rows, or one holding a link that grants access, is queue_rendered_email's.

    Call it inside the transaction of the change the email reports, so that the email
    exists if and only if the change does. With `dedup_key`, an email already saved under
    the same key wins: nothing is queued and None is returned (a unique index decides,
    so this holds between concurrent transactions too). `conference` is the conference
    the email is about, if any: its organisers see the email.
    """
    return _save(
        OutgoingEmail(
            to=to,
            subject=subject,
            body_text=body_text,
            body_html=body_html,
            kind=kind,
            language=language,
            conference=conference,
            attachments=attachments or [],
            reply_to=reply_to,
            dedup_key=dedup_key,
        )
    )


def queue_rendered_email(
    *,
    to: str,
    kind: str,
    context: dict,
    language: str,
    conference=None,
    reply_to: str = "",
    dedup_key: str | None = None,
) -> OutgoingEmail | None:
    """Save an email that the renderer registered for `kind` (outbox.rendering) writes when
    it is sent, from `context` (JSON: ids and small values, never a secret); otherwise as
    queue_email. Use it for the emails an app sends about its rows (kept out of the
    writing transaction, which stays short) and for any email with a link that grants
    access (only what makes the link is stored)."""
    if not rendering.is_registered(kind):
        raise ValueError(f"No renderer is registered for {kind} emails.")
    return _save(
        OutgoingEmail(
            to=to,
            kind=kind,
            context=context,
            language=language,
            conference=conference,
            reply_to=reply_to,
            dedup_key=dedup_key,
        )
    )


def _save(email: OutgoingEmail) -> OutgoingEmail | None:
    email.message_id = _make_message_id()
    try:
        with transaction.atomic():  # a savepoint: a duplicate key leaves the caller's transaction usable
            email.save(force_insert=True)
    except IntegrityError:
        if email.dedup_key and OutgoingEmail.objects.filter(dedup_key=email.dedup_key).exists():
            return None
        raise
    transaction.on_commit(lambda: enqueue_delivery(email.pk))
    return email


def queue_emails(emails: Sequence[dict]) -> int:
    """Save many emails in the current transaction with one insert, as queue_email saves one,
    and hand them to the workers over one broker connection once that commits. Each item
    holds queue_email's keyword arguments. An email whose `dedup_key` was used before is
    left out; returns how many were queued.

    Takes no lock: a caller that may run twice at once serialises itself (on the row its
    emails are about), else a key saved by a concurrent transaction fails the insert."""
    keys = [email["dedup_key"] for email in emails if email.get("dedup_key")]
    used = set(OutgoingEmail.objects.filter(dedup_key__in=keys).values_list("dedup_key", flat=True)) if keys else set()
    rows = [
        OutgoingEmail(**{**email, "attachments": email.get("attachments") or []}, message_id=_make_message_id())
        for email in emails
        if not email.get("dedup_key") or email["dedup_key"] not in used
    ]
    ids = [email.pk for email in OutgoingEmail.objects.bulk_create(rows)]
    transaction.on_commit(lambda: enqueue_deliveries(ids))
    return len(ids)


def resend_email(email: OutgoingEmail) -> OutgoingEmail:
    """Queue a copy of a sent or failed email, with a Message-ID of its own; the original stays
    as it was. An email written at send time is written anew (a fresh link, today's facts)."""
    if email.context is not None:
        copy = queue_rendered_email(
            to=email.to,
            kind=email.kind,
            context=email.context,
            language=email.language,
            conference=email.conference,
            reply_to=email.reply_to,
        )
    else:
        copy = queue_email(
            to=email.to,
            subject=email.subject,
            body_text=email.body_text,
            body_html=email.body_html,
            kind=email.kind,
            language=email.language,
            conference=email.conference,
            attachments=email.attachments,
            reply_to=email.reply_to,
        )
    assert copy is not None  # no dedup key, so always queued
    return copy


def enqueue_delivery(email_id: int) -> None:
    """Hand one email to the workers; if the broker is down, the sweep does it later."""
    enqueue_deliveries([email_id])


def enqueue_deliveries(email_ids: Iterable[int]) -> int:
    """Hand emails to the workers over one broker connection; returns how many the broker
    took. Never raises for a broker that is down: the rows are safe and the sweep retries.

    The task is found by its name in Celery's registry: outbox.tasks calls into this
    module, not the other way."""
    deliver_email = current_app.tasks[DELIVERY_TASK]
    handed_over = 0
    try:
        with current_app.producer_or_acquire() as producer:
            for email_id in email_ids:
                deliver_email.apply_async(kwargs={"email_id": email_id}, producer=producer)
                handed_over += 1
    except Exception as exc:  # kombu and redis raise several unrelated types when Redis is unreachable
        logger.warning(
            "The broker refused emails after %s of them (%s); the sweep will hand them over.", handed_over, exc
        )
    return handed_over


def send_email(email_id: int) -> None:
    """Send one queued email over SMTP: at most once, unless the worker dies between the
    server's acceptance and the row being marked sent (the sweep then sends it again).

    Locks the row only to move it from queued to sending, so a second delivery of the same
    email waits for that short transaction, then finds the email taken and returns. Marks
    the email sent; failed on a permanent refusal (5xx for the recipient or the message),
    on a message that cannot be built, or once out of attempts; otherwise queues it again
    and raises TransientEmailError with the delay before the next attempt.
    """
    with transaction.atomic():
        email = (
            OutgoingEmail.objects.select_for_update().filter(pk=email_id, status=OutgoingEmail.Status.QUEUED).first()
        )
        if email is None:
            return
        if email.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            # Its last attempt never finished: the worker died on it every time.
            _finish(email, OutgoingEmail.Status.FAILED, error=email.last_error or "Out of attempts.")
            return
        email.status = OutgoingEmail.Status.SENDING
        email.attempts += 1
        email.last_attempt_at = timezone.now()
        email.save(update_fields=["status", "attempts", "last_attempt_at"])

    try:
        build_message(email, connection=_smtp_connection()).send()
    except rendering.NothingToSend as exc:
        _finish(email, OutgoingEmail.Status.FAILED, error=f"Not sent: {exc}")
    except DELIVERY_ERRORS as exc:
        _close_smtp_connection()
        if _is_permanent(exc):
            _finish(email, OutgoingEmail.Status.FAILED, error=_describe(exc))
        else:
            _retry_later(email, exc)
    except Exception as exc:
        _close_smtp_connection()
        logger.exception("Email %s cannot be sent.", email.pk)
        _finish(email, OutgoingEmail.Status.FAILED, error=_describe(exc))
    else:
        _finish(email, OutgoingEmail.Status.SENT)


def build_message(email: OutgoingEmail, *, connection: BaseEmailBackend | None = None) -> EmailMultiAlternatives:
    """The message to send; an email written at send time is written now (see write)."""
    write(email)
    headers = {
        # The same on every attempt, so a copy sent twice is recognisably one message.
        "Message-ID": email.message_id,
        "Auto-Submitted": "auto-generated",
        # Exchange and Outlook: no out-of-office replies to an automatic message.
        "X-Auto-Response-Suppress": "All",
        "Content-Language": email.language,
    }
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        to=[email.to],
        reply_to=[email.reply_to] if email.reply_to else None,
        headers=headers,
        connection=connection,
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    for attachment in email.attachments:
        message.attach(attachment["filename"], attachment["content"], attachment["mimetype"])
    return message


def write(email: OutgoingEmail) -> OutgoingEmail:
    """Give an email written at send time its subject, bodies and attachments, written by
    its kind's renderer in its language, on the instance (saving is the sender's: see
    _finish); an email written when queued is returned as it is. May raise NothingToSend."""
    if email.context is not None:
        with translation.override(email.language):
            written = rendering.render(email)
        email.subject, email.body_text, email.body_html = written.subject, written.body_text, written.body_html
        email.attachments = written.attachments
    return email


def retry_delay(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th attempt failed: doubling, capped, with jitter
    so that emails which failed together do not all come back at the same moment."""
    delay = min(settings.OUTBOX_RETRY_DELAY * 2 ** (attempts - 1), MAX_RETRY_DELAY)
    return delay * random.uniform(0.75, 1)  # noqa: S311 (spreading load, not security)


def requeue_stale_emails() -> int:
    """Hand back to the workers what they lost; returns how many emails were handed over.

    Lost are: emails queued whose hand-over (or retry) is OUTBOX_SWEEP_GRACE seconds
    overdue — the broker was down or lost them — and emails sending for longer than
    OUTBOX_SENDING_TIMEOUT seconds, whose worker died. Skips rows other transactions hold,
    so it never waits for a worker, and marks what it hands over so that the next sweep
    leaves it alone for another grace period.
    """
    now = timezone.now()
    overdue = Q(
        status=OutgoingEmail.Status.QUEUED, next_attempt_at__lte=now - timedelta(seconds=settings.OUTBOX_SWEEP_GRACE)
    )
    abandoned = Q(
        status=OutgoingEmail.Status.SENDING,
        last_attempt_at__lt=now - timedelta(seconds=settings.OUTBOX_SENDING_TIMEOUT),
    )
    with transaction.atomic():
        email_ids = list(
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(overdue | abandoned)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        OutgoingEmail.objects.filter(pk__in=email_ids).update(
            last_error=Case(
                When(status=OutgoingEmail.Status.SENDING, then=Value("The worker stopped while sending it.")),
                default=F("last_error"),
                output_field=TextField(),
            ),
            status=OutgoingEmail.Status.QUEUED,
            next_attempt_at=now,
        )
    if email_ids:
        logger.info("Handing %s lost emails back to the workers.", len(email_ids))
    return enqueue_deliveries(email_ids)


def _smtp_connection() -> BaseEmailBackend:
    """This worker's open connection to the mail server, reused from one email to the next
    (opening one costs more than sending a message). A connection idle for SMTP_MAX_IDLE
    seconds, or opened with other settings, is replaced: servers drop idle clients, and
    finding that out mid-message would leave it unclear whether the message went."""
    config = (settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_HOST_USER)
    now = time.monotonic()
    if getattr(_smtp, "connection", None) and (_smtp.config != config or now - _smtp.used_at > SMTP_MAX_IDLE):
        _close_smtp_connection()
    if not getattr(_smtp, "connection", None):
        connection = get_connection()
        connection.open()
        _smtp.connection, _smtp.config = connection, config
    _smtp.used_at = now
    return _smtp.connection


def _close_smtp_connection() -> None:
    """Drop this worker's connection, after an error that may have left it unusable."""
    connection, _smtp.connection = getattr(_smtp, "connection", None), None
    if connection:
        try:
            connection.close()
        except smtplib.SMTPException:  # closing a connection that is already broken
            logger.debug("Closing the SMTP connection failed.", exc_info=True)


def _make_message_id() -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return make_msgid(domain=domain)


def _is_permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _message in exc.recipients.values())
    # A message refused at DATA with 5xx (content, size, policy) would be refused again.
    return isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500


def _describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        details = "; ".join(
            f"{address}: {code} {_decode(message)}" for address, (code, message) in exc.recipients.items()
        )
        return f"Recipient refused: {details}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {exc.smtp_code} {_decode(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _decode(message: bytes | str) -> str:
    return message.decode(errors="replace") if isinstance(message, bytes) else message


def _retry_later(email: OutgoingEmail, exc: Exception) -> None:
    error = _describe(exc)
    if email.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        _finish(email, OutgoingEmail.Status.FAILED, error=f"Out of attempts. {error}")
        return
    delay = retry_delay(email.attempts)
    OutgoingEmail.objects.filter(pk=email.pk).update(
        status=OutgoingEmail.Status.QUEUED,
        last_error=error,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
    )
    raise TransientEmailError(error, retry_in=delay) from exc


def _finish(email: OutgoingEmail, status: str, *, error: str = "") -> None:
    email.status = status
    email.last_error = error
    fields = ["status", "last_error"]
    if status == OutgoingEmail.Status.SENT:
        email.sent_at = timezone.now()
        fields.append("sent_at")
        if email.context is not None:
            # What was sent, for the admin and the own-data download; a confidential
            # email's bodies hold a link to an account and are never kept.
            fields.append("subject")
            if not rendering.is_confidential(email.kind):
                fields += ["body_text", "body_html", "attachments"]
    email.save(update_fields=fields)


def emails_to(addresses: set[str]) -> list[dict]:
    """What was sent (or is on its way) to, or on behalf of, any of `addresses`: the kinds,
    subjects and states, for a person's own-data download."""
    return [
        {
            "kind": email.kind,
            "subject": email.subject,
            "status": email.status,
            "created_at": email.created_at.isoformat(),
        }
        for email in OutgoingEmail.objects.filter(_about(addresses)).order_by("created_at", "pk")
    ]


def erase_emails(addresses: set[str], *, reason: str, conference=None) -> int:
    """Erase the emails to any of `addresses`, or written by them (a reply-to address, as in a
    report to the organisers), only those about `conference` if one is given: the rows stay
    for the outbox's figures, without recipient, subject, bodies, attachments or error (which
    may quote the address); those not sent yet never will be, with `reason` as their error.
    Returns how many rows were erased."""
    unsent = Q(status__in=[OutgoingEmail.Status.QUEUED, OutgoingEmail.Status.SENDING])
    emails = OutgoingEmail.objects.filter(_about(addresses))
    if conference is not None:
        emails = emails.filter(conference=conference)
    # Both cases read the row as it was before this update.
    return emails.update(
        status=Case(When(unsent, then=Value(OutgoingEmail.Status.FAILED)), default=F("status")),
        last_error=Case(When(unsent, then=Value(reason)), default=Value("")),
        to="",
        reply_to="",
        subject="",
        body_text="",
        body_html="",
        attachments=[],
        context=Case(When(context__isnull=True, then=None), default=Value({}, output_field=JSONField())),
    )


def _about(addresses: set[str]) -> Q:
    # One IN list per column, whatever the number of addresses (a conference's erasure
    # passes hundreds at once); addresses are compared ignoring case, as they are kept.
    lowered = sorted({address.lower() for address in addresses})
    return Q(In(Lower("to"), lowered)) | Q(In(Lower("reply_to"), lowered))
