"""Faults, each against real services: a Celery worker process with beat, a Redis of the
test's own that it stops and starts, and an SMTP sink that refuses, goes away or is slow.
The outbox timings are shortened (through the worker's environment) so each runs in seconds."""

import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from celery import Celery
from django.db import transaction

from conference.celery import app as site_app
from outbox.emails import queue_email, requeue_stale_emails
from outbox.models import OutgoingEmail
from registration.notifications import notify
from tests.conftest import CeleryWorker, SmtpSink
from tests.factories import RegistrationFactory
from tests.services import ThrowawayRedis

FAST_OUTBOX = {
    "OUTBOX_RETRY_DELAY": "0.5",
    "OUTBOX_SWEEP_INTERVAL": "1",
    "OUTBOX_SWEEP_GRACE": "2",
    "OUTBOX_SENDING_TIMEOUT": "3",
}


@pytest.fixture
def broker() -> Iterator[ThrowawayRedis]:
    redis_server = ThrowawayRedis()
    redis_server.start()
    app = Celery("conference", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.broker_url = redis_server.url()
    app.set_current()
    yield redis_server
    site_app.set_current()
    app.close()
    redis_server.stop()


@pytest.fixture
def start_worker(smtp_sink: SmtpSink, broker: ThrowawayRedis, tmp_path, transactional_db) -> Iterator[Callable]:
    """Starts Celery workers (with beat) on the test's Redis, delivering to the sink."""
    workers: list[CeleryWorker] = []

    def start(concurrency: int = 1) -> CeleryWorker:
        worker = CeleryWorker(
            email_url=smtp_sink.url,
            concurrency=concurrency,
            env={"REDIS_URL": broker.url(), **FAST_OUTBOX},
            options=["--beat", f"--schedule={tmp_path / f'beat-{len(workers)}'}"],
        )
        worker.start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def wait_until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Not true within {timeout} s.")
        time.sleep(0.2)


def all_sent() -> bool:
    return not OutgoingEmail.objects.exclude(status=OutgoingEmail.Status.SENT).exists()


def copies_received(sink: SmtpSink) -> Counter:
    """How many copies of each Message-ID the sink received."""
    return Counter(message["Message-ID"] for message in list(sink.messages))


def queue_batch(count: int) -> list[OutgoingEmail]:
    with transaction.atomic():
        return [
            queue_email(
                to=f"person{n}@example.org", subject=f"Email {n}", body_text="T", kind="confirmed", language="en"
            )
            for n in range(count)
        ]


def test_redis_down_registrations_succeed_and_every_email_arrives_once_when_it_returns(broker, start_worker, smtp_sink):
    start_worker()
    before = [notify(RegistrationFactory(), "confirmed") for _ in range(3)]
    wait_until(lambda: len(smtp_sink.messages) == 3, timeout=30)

    broker.stop()
    during = []
    for _ in range(20):
        with transaction.atomic():  # as the registration service does
            registration = RegistrationFactory()
            during.append(notify(registration, "confirmed"))
    assert OutgoingEmail.objects.filter(status=OutgoingEmail.Status.QUEUED).count() == 20
    broker.start()  # empty: whatever it held is gone

    wait_until(all_sent, timeout=120)
    copies = copies_received(smtp_sink)
    assert set(copies) == {email.message_id for email in before + during}
    assert set(copies.values()) == {1}


def test_smtp_refusing_connections_emails_retry_and_arrive_when_it_returns(broker, start_worker, smtp_sink):
    smtp_sink.stop()
    start_worker()
    emails = queue_batch(10)

    wait_until(lambda: OutgoingEmail.objects.filter(attempts__gte=2).count() == 10, timeout=30)
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) <= {
        OutgoingEmail.Status.QUEUED,
        OutgoingEmail.Status.SENDING,
    }
    assert all(
        error.startswith("ConnectionRefusedError") or error == ""
        for error in OutgoingEmail.objects.values_list("last_error", flat=True)
    )
    smtp_sink.start()

    wait_until(all_sent, timeout=45)
    copies = copies_received(smtp_sink)
    assert set(copies) == {email.message_id for email in emails}
    assert set(copies.values()) == {1}


def test_worker_killed_mid_batch_every_email_arrives_after_restart(broker, start_worker, smtp_sink, capsys):
    smtp_sink.accept_delay = 0.02
    emails = queue_batch(200)
    worker = start_worker(concurrency=2)
    wait_until(lambda: len(smtp_sink.messages) >= 50, timeout=30)

    worker.kill()
    left = dict(Counter(OutgoingEmail.objects.values_list("status", flat=True)))
    assert left.get(OutgoingEmail.Status.QUEUED, 0) > 0
    start_worker(concurrency=2)

    wait_until(all_sent, timeout=50)
    copies = copies_received(smtp_sink)
    assert set(copies) == {email.message_id for email in emails}
    sent_twice = sum(count - 1 for count in copies.values())
    # Only the send-then-crash window may send twice: one email per pool process at most.
    assert sent_twice <= 2
    with capsys.disabled():
        print(f"\nworker killed mid-batch: 200 emails, left at the kill {left}, sent twice {sent_twice}")


def test_permanent_refusal_fails_once_and_shows_in_admin(broker, start_worker, smtp_sink, admin_client, settings):
    smtp_sink.refusals["gone@example.org"] = "550 5.1.1 No such user here"
    start_worker()
    with transaction.atomic():
        refused = queue_email(to="gone@example.org", subject="Refused", body_text="T", kind="confirmed", language="en")
        delivered = queue_email(
            to="ok@example.org", subject="Delivered", body_text="T", kind="confirmed", language="en"
        )

    done = [OutgoingEmail.Status.SENT, OutgoingEmail.Status.FAILED]
    wait_until(lambda: not OutgoingEmail.objects.exclude(status__in=done).exists(), timeout=30)
    # A sweep with no grace at all, as any later sweep sees it: it hands nothing back.
    settings.OUTBOX_SWEEP_GRACE = settings.OUTBOX_SENDING_TIMEOUT = 0
    assert requeue_stale_emails() == 0

    refused.refresh_from_db()
    assert (refused.status, refused.attempts) == (OutgoingEmail.Status.FAILED, 1)
    assert refused.last_error == "Recipient refused: gone@example.org: 550 5.1.1 No such user here"
    assert smtp_sink.refused == ["gone@example.org"]
    delivered.refresh_from_db()
    assert delivered.status == OutgoingEmail.Status.SENT
    page = admin_client.get("/admin/outbox/outgoingemail/", {"status__exact": "failed"}).content.decode()
    assert "gone@example.org" in page
    assert "Recipient refused: gone@example.org: 550 5.1.1 No such user here" in page
    assert "ok@example.org" not in page
