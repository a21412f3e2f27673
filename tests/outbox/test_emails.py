import datetime as dt
import threading
import time

import pytest
from celery import current_app
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outbox import emails
from outbox.emails import (
    TransientEmailError,
    compose,
    queue_email,
    requeue_stale_emails,
    resend_email,
    retry_delay,
    send_email,
)
from outbox.models import OutgoingEmail
from tests.factories import ConferenceFactory
from tests.services import free_port

pytestmark = pytest.mark.django_db


def make_email(**fields) -> OutgoingEmail:
    """An email row as queue_email writes it, without handing it to the broker."""
    defaults = {
        "to": "ela@example.pl",
        "subject": "Cluster Days: Your registration is confirmed",
        "body_text": "Dear Elźbieta,\n",
        "body_html": "<p>Dear Elźbieta,</p>",
        "kind": "confirmed",
        "language": "pl",
        "message_id": f"<{timezone.now().timestamp()}.{OutgoingEmail.objects.count()}@example.org>",
    }
    return OutgoingEmail.objects.create(**(defaults | fields))


def test_queue_email_hands_over_only_after_commit(broker_queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email = queue_email(to="ela@example.pl", subject="S", body_text="T", kind="confirmed", language="en")
        assert broker_queue() == []

    assert broker_queue() == [("outbox.deliver_emails", None)]
    assert email.status == OutgoingEmail.Status.QUEUED
    assert email.message_id.startswith("<")
    assert email.message_id.endswith("@localhost>")


def test_queue_email_dedup_key_queues_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        first = queue_email(
            to="a@example.org", subject="S", body_text="T", kind="reminder", language="en", dedup_key="k"
        )
        second = queue_email(
            to="a@example.org", subject="S", body_text="T", kind="reminder", language="en", dedup_key="k"
        )

    assert second is None
    assert list(OutgoingEmail.objects.values_list("pk", flat=True)) == [first.pk]
    assert len(callbacks) == 1


def test_compose_escapes_text_in_html_and_links_urls():
    conference = ConferenceFactory(name="R&D Days")
    text, html = compose(
        heading="Hello <b>",
        content="Dear <Ela> & co,\n\nGo to https://example.org/a?b=1&c=2 now.",
        conference=conference,
        my_registration_url="https://example.org/r-d/my-registration/",
    )

    assert text.startswith("Dear <Ela> & co,\n\nGo to https://example.org/a?b=1&c=2 now.\n")
    assert "See or change your registration: https://example.org/r-d/my-registration/" in text
    assert "<h1>Hello &lt;b&gt;</h1>" in html
    assert "<p>Dear &lt;Ela&gt; &amp; co,</p>" in html
    assert '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow">https://example.org/a?b=1&amp;c=2</a>' in html
    assert "R&amp;D Days" in html


def test_compose_makes_dash_lines_a_real_list_in_html():
    text, html = compose(
        heading="Your sessions",
        content="Your sessions:\n- Lab <1> https://example.org/lab\n- Tour & lunch\nSee you there.\n\n- Alone",
    )

    assert "Your sessions:\n- Lab <1> https://example.org/lab\n- Tour & lunch\nSee you there." in text
    assert (
        "<p>Your sessions:</p>\n<ul><li>Lab &lt;1&gt; "
        '<a href="https://example.org/lab" rel="nofollow">https://example.org/lab</a></li>'
        "<li>Tour &amp; lunch</li></ul>\n<p>See you there.</p>\n<ul><li>Alone</li></ul>"
    ) in html


def test_send_email_delivers_with_headers_parts_and_attachment(smtp_backend):
    email = make_email(
        attachments=[
            {"filename": "cluster.ics", "content": "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "mimetype": "text/calendar"}
        ],
        reply_to="team@example.org",
    )

    send_email(email.pk)

    message = smtp_backend.to("ela@example.pl")
    assert message["Message-ID"] == email.message_id
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["Content-Language"] == "pl"
    assert message["Reply-To"] == "team@example.org"
    assert message["Subject"] == "Cluster Days: Your registration is confirmed"
    assert message.get_body(preferencelist=("plain",)).get_content() == "Dear Elźbieta,\r\n"
    assert message.get_body(preferencelist=("html",)).get_content().strip() == "<p>Dear Elźbieta,</p>"
    (attachment,) = message.iter_attachments()
    assert (attachment.get_filename(), attachment.get_content_type()) == ("cluster.ics", "text/calendar")
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == (OutgoingEmail.Status.SENT, 1, "")
    assert email.sent_at is not None


def test_send_email_twice_sends_once(smtp_backend):
    email = make_email()

    send_email(email.pk)
    send_email(email.pk)

    assert len(smtp_backend.messages) == 1
    email.refresh_from_db()
    assert email.attempts == 1


def test_send_email_leaves_sending_and_failed_alone(smtp_backend):
    sending = make_email(status=OutgoingEmail.Status.SENDING)
    failed = make_email(status=OutgoingEmail.Status.FAILED)

    send_email(sending.pk)
    send_email(failed.pk)
    send_email(0)

    assert smtp_backend.messages == []


def test_send_email_connection_refused_queues_again_with_delay(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens there
    settings.OUTBOX_RETRY_DELAY = 60
    email = make_email()

    with pytest.raises(TransientEmailError) as raised:
        send_email(email.pk)

    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.QUEUED
    assert email.attempts == 1
    assert email.last_error.startswith("ConnectionRefusedError")
    assert 45 <= raised.value.retry_in <= 60
    assert email.next_attempt_at == pytest.approx(
        email.last_attempt_at + dt.timedelta(seconds=raised.value.retry_in), abs=dt.timedelta(seconds=1)
    )


def test_send_email_temporary_refusal_queues_again(smtp_backend):
    smtp_backend.refusals["ela@example.pl"] = "452 4.2.2 Mailbox full, try later"
    email = make_email()

    with pytest.raises(TransientEmailError):
        send_email(email.pk)

    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.QUEUED
    assert email.last_error == "Recipient refused: ela@example.pl: 452 4.2.2 Mailbox full, try later"


def test_send_email_permanent_refusal_fails_without_retry(smtp_backend):
    smtp_backend.refusals["gone@example.pl"] = "550 5.1.1 No such user"
    email = make_email(to="gone@example.pl")

    send_email(email.pk)

    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.FAILED
    assert email.attempts == 1
    assert email.last_error == "Recipient refused: gone@example.pl: 550 5.1.1 No such user"
    assert email.sent_at is None


def test_send_email_out_of_attempts_fails(settings, smtp_backend):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    smtp_backend.refusals["ela@example.pl"] = "421 4.7.0 Try again later"
    email = make_email(attempts=2)

    send_email(email.pk)

    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.FAILED
    assert email.attempts == 3
    assert email.last_error.startswith("Out of attempts. Recipient refused: ela@example.pl: 421")


def test_send_email_abandoned_on_every_attempt_fails(settings, smtp_backend):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    email = make_email(attempts=3, last_error="The worker stopped while sending it.")

    send_email(email.pk)

    email.refresh_from_db()
    assert (email.status, email.last_error) == (OutgoingEmail.Status.FAILED, "The worker stopped while sending it.")
    assert smtp_backend.messages == []


def test_send_email_that_cannot_be_built_fails_at_once(smtp_backend):
    email = make_email(attachments=[{"filename": "broken.ics"}])

    send_email(email.pk)

    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.FAILED
    assert email.last_error == "KeyError: 'content'"


def test_retry_delay_grows_and_is_capped(settings):
    settings.OUTBOX_RETRY_DELAY = 30

    delays = [retry_delay(attempts) for attempts in range(1, 12)]

    assert 22.5 <= delays[0] <= 30
    assert 45 <= delays[1] <= 60
    assert 240 * 0.75 <= delays[4] <= 480
    assert all(emails.MAX_RETRY_DELAY * 0.75 <= delay <= emails.MAX_RETRY_DELAY for delay in delays[7:])


def test_requeue_stale_emails_hands_over_what_was_lost(settings, broker_queue):
    settings.OUTBOX_SWEEP_GRACE = 60
    settings.OUTBOX_SENDING_TIMEOUT = 300
    now = timezone.now()
    lost = make_email(next_attempt_at=now - dt.timedelta(seconds=61))
    retry_overdue = make_email(next_attempt_at=now - dt.timedelta(seconds=90), attempts=2, last_error="451 later")
    abandoned = make_email(status=OutgoingEmail.Status.SENDING, last_attempt_at=now - dt.timedelta(seconds=301))
    make_email(next_attempt_at=now - dt.timedelta(seconds=30))  # just handed over
    make_email(next_attempt_at=now + dt.timedelta(seconds=600))  # waiting for its retry
    make_email(status=OutgoingEmail.Status.SENDING, last_attempt_at=now - dt.timedelta(seconds=100))  # still sending
    make_email(status=OutgoingEmail.Status.SENT, next_attempt_at=now - dt.timedelta(days=1))
    make_email(status=OutgoingEmail.Status.FAILED, next_attempt_at=now - dt.timedelta(days=1))

    assert requeue_stale_emails() == 3
    assert requeue_stale_emails() == 0  # handed over: left alone for another grace period

    assert broker_queue() == [("outbox.deliver_emails", None)]
    assert set(
        OutgoingEmail.objects.filter(
            status=OutgoingEmail.Status.QUEUED, next_attempt_at__lte=timezone.now()
        ).values_list("pk", flat=True)
    ) >= {lost.pk, retry_overdue.pk, abandoned.pk}
    abandoned.refresh_from_db()
    assert (abandoned.status, abandoned.last_error) == (
        OutgoingEmail.Status.QUEUED,
        "The worker stopped while sending it.",
    )
    retry_overdue.refresh_from_db()
    assert retry_overdue.last_error == "451 later"
    assert retry_overdue.next_attempt_at >= now


def test_resend_email_queues_a_copy_with_its_own_message_id(django_capture_on_commit_callbacks):
    original = make_email(status=OutgoingEmail.Status.SENT, attempts=1, attachments=[{"filename": "a.ics"}])

    with django_capture_on_commit_callbacks() as callbacks:
        copy = resend_email(original)

    assert copy.pk != original.pk
    assert copy.message_id != original.message_id
    assert (copy.status, copy.attempts) == (OutgoingEmail.Status.QUEUED, 0)
    assert (copy.to, copy.subject, copy.body_text, copy.body_html, copy.attachments, copy.kind) == (
        original.to,
        original.subject,
        original.body_text,
        original.body_html,
        original.attachments,
        original.kind,
    )
    assert len(callbacks) == 1
    original.refresh_from_db()
    assert original.status == OutgoingEmail.Status.SENT


def test_send_email_reuses_the_smtp_connection_while_fresh(smtp_backend, monkeypatch):
    emails_sent = [make_email(to=f"person{n}@example.org") for n in range(3)]

    send_email(emails_sent[0].pk)
    send_email(emails_sent[1].pk)
    monkeypatch.setattr(emails, "SMTP_MAX_IDLE", -1)  # as if idle for too long
    send_email(emails_sent[2].pk)

    first, second, third = smtp_backend.peers
    assert first == second
    assert third != first
    assert OutgoingEmail.objects.filter(status=OutgoingEmail.Status.SENT).count() == 3


def test_send_email_after_a_refusal_starts_a_new_connection(smtp_backend):
    smtp_backend.refusals["gone@example.org"] = "550 5.1.1 No such user"
    for to in ("one@example.org", "gone@example.org", "two@example.org"):
        send_email(make_email(to=to).pk)

    first, second = smtp_backend.peers
    assert first != second


@pytest.fixture
def eager_tasks():
    """The fallback of `make run` without Redis: tasks run eagerly, in the web process."""
    # Celery's settings object cannot be monkeypatched (it has no attribute to restore).
    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = previous


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_tasks")
def test_queue_email_without_a_broker_sends_in_process(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email = queue_email(
            to="elzbieta@example.eu",
            subject="Your place at GROW your REGIOn",
            body_text="See you in Valencia.",
            kind="confirmed",
            language="en",
        )

    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT
    assert [(message.to, message.subject) for message in mailoutbox] == [
        (["elzbieta@example.eu"], "Your place at GROW your REGIOn")
    ]


def test_queue_rendered_email_of_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="No renderer is registered for mystery emails"):
        emails.queue_rendered_email(to="ela@example.pl", kind="mystery", context={}, language="en")

    assert not OutgoingEmail.objects.exists()


def test_erase_emails_erases_the_context_of_emails_written_at_send_time():
    email = emails.queue_rendered_email(
        to="ela@example.pl", kind="account_unknown_account", context={"ip": "192.0.2.7"}, language="en"
    )
    kept = make_email(to="other@example.org")

    emails.erase_emails({"ela@example.pl"}, reason="Not sent: the account was deleted.")

    email.refresh_from_db()
    kept.refresh_from_db()
    assert (email.context, email.to, email.status) == ({}, "", OutgoingEmail.Status.FAILED)
    assert kept.context is None


def test_resend_email_written_at_send_time_is_written_anew(mailoutbox):
    email = emails.queue_rendered_email(
        to="ela@example.pl", kind="account_unknown_account", context={"signup_url": "https://x.eu/s/"}, language="pl"
    )
    emails.send_email(email.pk)

    copy = resend_email(OutgoingEmail.objects.get(pk=email.pk))
    emails.send_email(copy.pk)

    copy.refresh_from_db()
    assert (copy.context, copy.language, copy.status) == (email.context, "pl", OutgoingEmail.Status.SENT)
    assert copy.message_id != email.message_id
    assert [message.subject for message in mailoutbox] == [copy.subject, copy.subject]
    assert copy.subject


def test_queue_emails_saves_many_at_once_and_skips_used_dedup_keys(broker_queue, django_capture_on_commit_callbacks):
    def email(n: int, key: str | None) -> dict:
        return {
            "to": f"person{n}@example.org",
            "subject": f"Subject {n}",
            "body_text": "Text",
            "body_html": "<p>Text</p>",
            "kind": "bulk",
            "language": "es",
            "dedup_key": key,
        }

    with django_capture_on_commit_callbacks(execute=True):
        assert emails.queue_emails([email(1, "bulk:1"), email(2, None)]) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert emails.queue_emails([email(1, "bulk:1"), email(3, "bulk:3")]) == 1

    saved = OutgoingEmail.objects.order_by("to")
    assert [(e.to, e.dedup_key, e.language, e.status) for e in saved] == [
        ("person1@example.org", "bulk:1", "es", "queued"),
        ("person2@example.org", None, "es", "queued"),
        ("person3@example.org", "bulk:3", "es", "queued"),
    ]
    assert len({e.message_id for e in saved}) == 3
    # One delivery task for each commit, not one per email.
    assert broker_queue() == [("outbox.deliver_emails", None)] * 2


@pytest.fixture
def whole_batches(monkeypatch):
    """Batches of up to BATCH_SIZE from the first claim, marked sent once each, whatever this
    machine's pace."""
    monkeypatch.setattr(emails, "FIRST_BATCH", emails.BATCH_SIZE)
    monkeypatch.setattr(emails, "BATCH_SECONDS", 3600)
    monkeypatch.setattr(emails, "MARK_SENT_EVERY", 3600)


@pytest.mark.usefixtures("whole_batches")
def test_deliver_queued_sends_a_batch_over_one_connection_in_a_constant_number_of_queries(smtp_backend):
    def deliver(count: int) -> list[str]:
        for n in range(count):
            make_email(to=f"person{n}@example.org")
        with CaptureQueriesContext(connection) as queries:
            assert emails.deliver_queued() == count
        return [query["sql"] for query in queries.captured_queries]

    few, many = deliver(3), deliver(30)

    assert len(few) == len(many)
    assert any(sql.endswith("FOR UPDATE SKIP LOCKED") for sql in many)
    assert [sql.split()[0] for sql in many if "outbox_outgoingemail" in sql].count("UPDATE") == 2  # claimed, sent
    assert len(set(smtp_backend.peers)) == 1
    assert set(OutgoingEmail.objects.values_list("status", "attempts")) == {(OutgoingEmail.Status.SENT, 1)}


def test_deliver_queued_leaves_emails_not_yet_due(smtp_backend):
    later = make_email(next_attempt_at=timezone.now() + dt.timedelta(minutes=5))

    assert emails.deliver_queued() == 0

    later.refresh_from_db()
    assert (later.status, later.attempts) == (OutgoingEmail.Status.QUEUED, 0)
    assert smtp_backend.messages == []


@pytest.mark.usefixtures("whole_batches")
def test_deliver_queued_out_of_time_puts_untried_emails_back_for_a_fresh_task(smtp_backend, broker_queue, monkeypatch):
    monkeypatch.setattr(emails, "RUN_SECONDS", 0)
    queued = [make_email(to=f"person{n}@example.org") for n in range(3)]

    assert emails.deliver_queued() == 0

    assert smtp_backend.messages == []
    assert [(e.status, e.attempts) for e in OutgoingEmail.objects.filter(pk__in=[e.pk for e in queued])] == [
        (OutgoingEmail.Status.QUEUED, 0)
    ] * 3
    assert broker_queue() == [("outbox.deliver_emails", None)]


@pytest.mark.django_db(transaction=True)
def test_deliver_queued_skips_emails_another_worker_holds_without_waiting(smtp_backend):
    held, free = make_email(to="held@example.org"), make_email(to="free@example.org")
    locked, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        with transaction.atomic():
            OutgoingEmail.objects.select_for_update().get(pk=held.pk)
            locked.set()
            release.wait(30)
        connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(30)
        started = time.monotonic()
        assert emails.deliver_queued() == 1
        assert time.monotonic() - started < 2  # far below the lock timeout it would wait for
    finally:
        release.set()
        thread.join()

    assert [message["To"] for message in smtp_backend.messages] == ["free@example.org"]
    assert OutgoingEmail.objects.get(pk=held.pk).status == OutgoingEmail.Status.QUEUED
    assert OutgoingEmail.objects.get(pk=free.pk).status == OutgoingEmail.Status.SENT
