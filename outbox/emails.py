"""The outbox: every email is a row first, saved in the transaction of the change it
reports, and after commit a Celery task is woken to deliver what is queued: it claims the
due rows a batch at a time and sends each batch over one SMTP connection. Nothing is lost
when Redis or the SMTP server is down: transient failures are retried with growing delays,
and the periodic sweep wakes the workers for whatever the broker lost or a dead worker left.

States: queued → sending → sent, or failed (refused for good, or out of attempts); a
transient failure puts the email back to queued with the time of its next attempt.
"""

import contextlib
import functools
import itertools
import logging
import math
import random
import re
import smtplib
import threading
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from email import encoders
from email.mime.base import MIMEBase
from email.utils import make_msgid, parseaddr

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import SafeMIMEMultipart
from django.db import IntegrityError, transaction
from django.db.models import Case, F, JSONField, Q, TextField, Value, When
from django.db.models.functions import Lower
from django.db.models.lookups import In
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import format_html, format_html_join, urlize
from django.utils.safestring import SafeString, mark_safe

from outbox import rendering
from outbox.models import OutgoingEmail

logger = logging.getLogger(__name__)
# This worker's (thread's) SMTP connection, kept between emails: see _smtp_connection().
_smtp = threading.local()
# This worker's (thread's) recent sending time per email, which sizes its batches: see _batch_size().
_pace = threading.local()

# The Celery task that delivers the queued emails (outbox.tasks.deliver_emails).
DELIVERY_TASK = "outbox.deliver_emails"
# Emails one claim takes at most, and the first claim of a worker, before it knows the server's pace.
BATCH_SIZE = 100
FIRST_BATCH = 10
# The sending time a claim aims at, from the worker's recent pace: a claimed email waits
# about this long at most before it goes, far less than OUTBOX_SENDING_TIMEOUT (after which
# the sweep takes it for a dead worker's), and a slow server gets small batches.
BATCH_SECONDS = 0.5
# The emails a batch has sent are marked sent with one update once the first of them went
# this long ago, and at the end of the batch: a worker killed mid-batch leaves at most this
# long's worth of sent emails, or the one in hand when each takes longer, that the sweep
# sends again.
MARK_SENT_EVERY = 0.01
# _mark_sent's statement. Its commit need not wait for the disk: should PostgreSQL crash
# before writing it (a fraction of a second), these emails are sent again, as after a
# worker's crash; set_config(..., true) lasts as long as the transaction.
MARK_SENT = (
    "UPDATE outbox_outgoingemail SET status = %s, last_error = '', sent_at = %s"
    " WHERE id = ANY(%s) AND set_config('synchronous_commit', 'off', true) = 'off'"
)
# A delivery task stops after this many seconds and hands what is left to a fresh one: well
# within CELERY_TASK_SOFT_TIME_LIMIT, however long the last email takes (EMAIL_TIMEOUT).
RUN_SECONDS = 20
# Delivery tasks woken at once at most (one per BATCH_SIZE emails queued), so idle workers join in.
MAX_WAKE = 8
# Retry delays double from settings.OUTBOX_RETRY_DELAY up to this many seconds.
MAX_RETRY_DELAY = 1800
# Rows one insert of queue_emails writes at most: a statement of a few megabytes.
INSERT_BATCH = 500
# Emails one sweep hands over at most; a larger backlog goes with the next sweep.
SWEEP_BATCH = 5000
# Seconds an SMTP connection may stay idle and still be reused.
SMTP_MAX_IDLE = 10
# How a plain-text email marks a line as an item of a list.
LIST_ITEM = "- "
LINE_BREAK = mark_safe("<br>")  # nosec B308 B703 (a constant)
# Failures of delivery itself (network, SMTP server, time limit): worth another attempt
# unless the server refused for good (_is_permanent). Any other exception means a message
# our code cannot build, which fails at once.
DELIVERY_ERRORS = (OSError, smtplib.SMTPException, SoftTimeLimitExceeded)


class TransientEmailError(Exception):
    """Delivery failed in a way that may pass; the email is queued again for `retry_in` seconds from now."""

    def __init__(self, message: str, *, retry_in: float) -> None:
        super().__init__(message)
        self.retry_in = retry_in


def compose(
    *,
    heading: str,
    content: str,
    conference=None,
    my_registration_url: str = "",
    images: Sequence[rendering.InlineImage] = (),
) -> tuple[str, str]:
    """The plain-text and HTML bodies of an email whose message is `content` (plain text),
    in the active language: the text as written around a common footer (naming the
    conference, if one is given), and the one HTML layout with the text escaped, its
    links made clickable and its lists ("- " lines) made lists (see html_paragraphs),
    showing `images` (sent with it: RenderedEmail.images) below it."""
    context = {
        "heading": heading,
        "content": content.strip(),
        "content_html": html_paragraphs(content),
        "conference": conference,
        "my_registration_url": my_registration_url,
        "images": images,
    }
    return render_to_string("emails/base.txt", context).strip() + "\n", render_to_string("emails/base.html", context)


def html_paragraphs(text: str) -> SafeString:
    """Plain text as HTML: blocks between blank lines are paragraphs (their lines kept apart
    with <br>), and lines that start with "- " a list, so that screen readers announce a
    list and its length. Every piece is escaped; links are made clickable."""
    html = []
    for block in re.split(r"\n\s*\n", text.strip()):
        for is_list, lines in itertools.groupby(block.splitlines(), key=lambda line: line.startswith(LIST_ITEM)):
            if is_list:
                items = ((_urlize(line.removeprefix(LIST_ITEM)),) for line in lines)
                html.append(format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", items)))
            else:
                html.append(
                    format_html("<p>{}</p>", format_html_join(LINE_BREAK, "{}", ((_urlize(line),) for line in lines)))
                )
    return format_html_join("\n", "{}", ((paragraph,) for paragraph in html))


def _urlize(line: str) -> SafeString:
    return mark_safe(urlize(line.strip(), nofollow=True, autoescape=True))  # noqa: S308  # nosec B308 B703 (escaped by urlize)


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
        # A savepoint, where a dedup key may collide, leaves the caller's transaction usable after
        # a duplicate; without a key it would only cost two round trips, often under a lock.
        with transaction.atomic() if email.dedup_key else contextlib.nullcontext():
            email.save(force_insert=True)
    except IntegrityError:
        if email.dedup_key and OutgoingEmail.objects.filter(dedup_key=email.dedup_key).exists():
            return None
        raise
    transaction.on_commit(enqueue_delivery)
    return email


def queue_emails(emails: Sequence[dict], *, wake_workers: bool = True) -> int:
    """Save many emails in the current transaction with a few inserts, as queue_email saves
    one, and wake the workers for them once that commits (unless the caller knows they are
    awake, or wakes them itself). Each item holds queue_email's keyword arguments. An email
    whose `dedup_key` was used before is left out; returns how many were queued.

    Takes no lock: a caller that may run twice at once serialises itself (on the row its
    emails are about), else a key saved by a concurrent transaction fails the insert."""
    keys = [email["dedup_key"] for email in emails if email.get("dedup_key")]
    used = set(OutgoingEmail.objects.filter(dedup_key__in=keys).values_list("dedup_key", flat=True)) if keys else set()
    rows = [
        OutgoingEmail(**{**email, "attachments": email.get("attachments") or []}, message_id=_make_message_id())
        for email in emails
        if not email.get("dedup_key") or email["dedup_key"] not in used
    ]
    OutgoingEmail.objects.bulk_create(rows, batch_size=INSERT_BATCH)
    if rows and wake_workers:
        transaction.on_commit(lambda: enqueue_delivery(len(rows)))
    return len(rows)


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


def enqueue_delivery(count: int = 1, *, countdown: float | None = None) -> int:
    """Wake the workers to deliver the queued emails (after `countdown` seconds): a delivery
    task per BATCH_SIZE of `count` new emails, up to MAX_WAKE, over one broker connection.
    A task delivers whatever is due, so an email needs no task of its own. Returns how many
    tasks the broker took; never raises for a broker that is down: the rows are safe, and
    the sweep wakes the workers later.

    The task is found by its name in Celery's registry: outbox.tasks calls into this
    module, not the other way."""
    deliver_emails = current_app.tasks[DELIVERY_TASK]
    woken = 0
    try:
        with current_app.producer_or_acquire() as producer:
            for _ in range(min(MAX_WAKE, max(1, math.ceil(count / BATCH_SIZE)))):
                deliver_emails.apply_async(countdown=countdown, producer=producer)
                woken += 1
    except Exception as exc:  # kombu and redis raise several unrelated types when Redis is unreachable
        logger.warning("The broker refused the delivery task (%s); the sweep will wake the workers.", exc)
    return woken


def deliver_queued() -> int:
    """Deliver the queued emails that are due, batch after batch, until none is left, the
    mail server cannot be reached, or RUN_SECONDS have passed (a fresh task then carries
    on); returns how many were sent.

    Each batch is claimed with SELECT … FOR UPDATE SKIP LOCKED and moved to sending in one
    short transaction, so workers running at once take different emails and never wait for
    each other; it goes over this worker's one SMTP connection, and its sent emails are
    marked with one update (see _send_batch). For the emails that failed for a while, a
    task is woken at the first and at the last of their next attempts.
    """
    deadline = time.monotonic() + RUN_SECONDS
    sent = 0
    retries: list[TransientEmailError] = []
    while batch := _claim(size=_batch_size()):
        outcome = _send_batch(batch, deadline=deadline)
        sent += outcome.sent
        retries += outcome.retries
        if outcome.unreachable:
            break
        if time.monotonic() >= deadline:
            enqueue_delivery()
            break
    if retries:
        delays = sorted(retry.retry_in for retry in retries)
        for countdown in dict.fromkeys([delays[0], delays[-1]]):
            enqueue_delivery(countdown=countdown)
    return sent


def send_email(email_id: int) -> None:
    """Send one queued email now, as a worker sends a batch (see deliver_queued); does
    nothing if it is gone, sent, failed or being sent by a worker. Raises TransientEmailError,
    with the delay before its next attempt, if it failed in a way that may pass."""
    batch = _claim(size=1, email_ids=[email_id])
    if batch:
        outcome = _send_batch(batch, deadline=math.inf)
        if outcome.retries:
            raise outcome.retries[0]


@dataclass
class _BatchOutcome:
    sent: int = 0
    retries: list[TransientEmailError] = field(default_factory=list)
    # The server could not be reached: the next batch would fare no better.
    unreachable: bool = False


def _claim(*, size: int, email_ids: list[int] | None = None) -> list[OutgoingEmail]:
    """Take up to `size` queued emails that are due (or those of `email_ids`, due or not),
    oldest first, skipping the rows another transaction holds instead of waiting for them,
    and move them to sending with one more attempt, in one short transaction. An email out
    of attempts (its worker died on every one) is failed instead."""
    now = timezone.now()
    with transaction.atomic():
        wanted = Q(next_attempt_at__lte=now) if email_ids is None else Q(pk__in=email_ids)
        queued = OutgoingEmail.objects.select_for_update(skip_locked=True).filter(
            wanted, status=OutgoingEmail.Status.QUEUED
        )
        batch = []
        for email in queued.order_by("next_attempt_at", "pk")[:size]:
            if email.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                _fail(email, email.last_error or "Out of attempts.")
            else:
                batch.append(email)
        OutgoingEmail.objects.filter(pk__in=[email.pk for email in batch]).update(
            status=OutgoingEmail.Status.SENDING, attempts=F("attempts") + 1, last_attempt_at=now
        )
    for email in batch:
        email.status, email.attempts, email.last_attempt_at = OutgoingEmail.Status.SENDING, email.attempts + 1, now
    return batch


def _send_batch(batch: list[OutgoingEmail], *, deadline: float) -> _BatchOutcome:
    """Send claimed emails one after the other over this worker's SMTP connection.

    The server's acceptance is recorded as MARK_SENT_EVERY says; an email refused for good
    or that cannot be built is failed, one that failed for a while is queued again for
    later (its TransientEmailError in the outcome). When the connection cannot be opened,
    the rest of the batch fails alike, untried; those not tried by `deadline` go back to
    the queue as they were.
    """
    outcome = _BatchOutcome()
    started = time.monotonic()
    unmarked: list[OutgoingEmail] = []
    unmarked_since = started
    tried = 0
    for index, email in enumerate(batch):
        now = time.monotonic()
        if now >= deadline:
            _release(batch[index:])
            break
        tried = index + 1
        if unmarked and now - unmarked_since >= MARK_SENT_EVERY:
            _mark_sent(unmarked)
            unmarked = []
        try:
            connection = _smtp_connection()
        except DELIVERY_ERRORS as exc:
            for left in batch[index:]:
                _record_failure(left, exc, outcome)
            outcome.unreachable = True
            break
        try:
            build_message(email, connection=connection).send()
        except rendering.NothingToSend as exc:
            _fail(email, f"Not sent: {exc}")
        except DELIVERY_ERRORS as exc:
            _close_smtp_connection()
            _record_failure(email, exc, outcome)
        except Exception as exc:
            _close_smtp_connection()
            logger.exception("Email %s cannot be sent.", email.pk)
            _fail(email, _describe(exc))
        else:
            if not unmarked:
                unmarked_since = now
            unmarked.append(email)
            outcome.sent += 1
    _mark_sent(unmarked)
    if tried:
        _pace.seconds_per_email = (time.monotonic() - started) / tried
    return outcome


def _batch_size() -> int:
    """As many emails as this worker sends in about BATCH_SECONDS, at its recent pace."""
    seconds_per_email = getattr(_pace, "seconds_per_email", None)
    if seconds_per_email is None:
        return FIRST_BATCH
    return max(1, min(BATCH_SIZE, int(BATCH_SECONDS / max(seconds_per_email, 1e-6))))


def _record_failure(email: OutgoingEmail, exc: Exception, outcome: _BatchOutcome) -> None:
    if _is_permanent(exc):
        _fail(email, _describe(exc))
        return
    try:
        _retry_later(email, exc)
    except TransientEmailError as retry:
        outcome.retries.append(retry)


def _mark_sent(emails: list[OutgoingEmail]) -> None:
    """Mark sent, with one statement, emails the server accepted; an email written at send
    time keeps what was sent, for the admin and the own-data download, but a confidential
    one's bodies hold a link to an account and are never kept."""
    if not emails:
        return
    now = timezone.now()
    ids = [email.pk for email in emails]
    written = [email for email in emails if email.context is not None]
    # A transaction of its own (a round trip more) only when there are bodies to keep.
    with transaction.atomic() if written else nullcontext():
        database = transaction.get_connection()
        if database.vendor == "postgresql":
            # Written out, as this runs after every few emails and the ORM's compiling would
            # cost more than the statement itself.
            with database.cursor() as cursor:
                cursor.execute(MARK_SENT, [OutgoingEmail.Status.SENT, now, ids])
        else:  # the SQLite fallback of `make run`
            OutgoingEmail.objects.filter(pk__in=ids).update(
                status=OutgoingEmail.Status.SENT, last_error="", sent_at=now
            )
        confidential = [email for email in written if rendering.is_confidential(email.kind)]
        kept = [email for email in written if not rendering.is_confidential(email.kind)]
        OutgoingEmail.objects.bulk_update(confidential, ["subject"])
        OutgoingEmail.objects.bulk_update(kept, ["subject", "body_text", "body_html", "attachments"])
    for email in emails:
        email.status, email.last_error, email.sent_at = OutgoingEmail.Status.SENT, "", now


def _release(emails: list[OutgoingEmail]) -> None:
    """Put claimed emails that were not tried back in the queue as they were, due now."""
    OutgoingEmail.objects.filter(pk__in=[email.pk for email in emails]).update(
        status=OutgoingEmail.Status.QUEUED, attempts=F("attempts") - 1, next_attempt_at=timezone.now()
    )


def build_message(email: OutgoingEmail, *, connection: BaseEmailBackend | None = None) -> EmailMultiAlternatives:
    """The message to send; an email written at send time is written now (see write)."""
    images = _write(email)
    headers = {
        # The same on every attempt, so a copy sent twice is recognisably one message.
        "Message-ID": email.message_id,
        "Auto-Submitted": "auto-generated",
        # Exchange and Outlook: no out-of-office replies to an automatic message.
        "X-Auto-Response-Suppress": "All",
        "Content-Language": email.language,
    }
    message = _Message(
        subject=email.subject,
        body=email.body_text,
        to=[email.to],
        reply_to=[email.reply_to] if email.reply_to else None,
        headers=headers,
        connection=connection,
        images=images if email.body_html else (),
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    for attachment in email.attachments:
        message.attach(attachment["filename"], attachment["content"], attachment["mimetype"])
    return message


class _Message(EmailMultiAlternatives):
    """An email whose HTML shows pictures sent with it (by Content-ID): the HTML and its
    pictures go in a multipart/related, the alternative to the plain text; attachments stay
    beside them in the multipart/mixed, where mail clients list them."""

    def __init__(self, *args, images: Sequence[rendering.InlineImage] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.images = images

    def _create_alternatives(self, msg):
        msg = super()._create_alternatives(msg)
        if not self.images:
            return msg
        parts = msg.get_payload()
        related = SafeMIMEMultipart(_subtype="related", encoding=self.encoding or settings.DEFAULT_CHARSET)
        related.attach(parts[-1])  # the HTML, the last alternative
        for image in self.images:
            maintype, subtype = image.mimetype.split("/", 1)
            part = MIMEBase(maintype, subtype)
            part.set_payload(image.content)
            encoders.encode_base64(part)
            part.add_header("Content-ID", f"<{image.cid}>")
            part.add_header("Content-Disposition", "inline", filename=image.filename)
            related.attach(part)
        parts[-1] = related
        return msg


def write(email: OutgoingEmail) -> OutgoingEmail:
    """Give an email written at send time its subject, bodies and attachments, written by
    its kind's renderer in its language, on the instance (saving is the sender's: see
    _finish); an email written when queued is returned as it is. May raise NothingToSend."""
    _write(email)
    return email


def _write(email: OutgoingEmail) -> tuple[rendering.InlineImage, ...]:
    """write(email), returning the pictures the renderer made for its HTML (never saved)."""
    if email.context is None:
        return ()
    with translation.override(email.language):
        written = rendering.render(email)
    email.subject, email.body_text, email.body_html = written.subject, written.body_text, written.body_html
    email.attachments = written.attachments
    return written.images


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
    if not email_ids:
        return 0
    logger.info("Handing %s lost emails back to the workers.", len(email_ids))
    return len(email_ids) if enqueue_delivery(len(email_ids)) else 0


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
    return make_msgid(domain=_domain_of(settings.DEFAULT_FROM_EMAIL))


@functools.lru_cache(maxsize=4)
def _domain_of(address: str) -> str:
    """The domain of an address; remembered, as parsing it costs more than making the ID."""
    return parseaddr(address)[1].rpartition("@")[2] or "localhost"


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
        _fail(email, f"Out of attempts. {error}")
        return
    delay = retry_delay(email.attempts)
    OutgoingEmail.objects.filter(pk=email.pk).update(
        status=OutgoingEmail.Status.QUEUED,
        last_error=error,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
    )
    raise TransientEmailError(error, retry_in=delay) from exc


def _fail(email: OutgoingEmail, error: str) -> None:
    email.status = OutgoingEmail.Status.FAILED
    email.last_error = error
    email.save(update_fields=["status", "last_error"])


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
