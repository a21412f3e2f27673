import datetime as dt
import time
from collections.abc import Callable

import pytest
from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from outbox import tasks
from outbox.emails import queue_email
from outbox.models import OutgoingEmail
from registration.notifications import notify
from tests.factories import BookingFactory, RegistrationFactory
from tests.services import free_port


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Not true within {timeout} s.")
        time.sleep(0.1)


def status_of(email: OutgoingEmail) -> str:
    return OutgoingEmail.objects.values_list("status", flat=True).get(pk=email.pk)


def test_deliver_emails_worker_sends_confirmation_after_commit(celery_worker, smtp_sink):
    registration = RegistrationFactory(user__email="ela@example.pl", conference__name="Cluster Days")
    BookingFactory(registration=registration)

    with transaction.atomic():
        email = notify(registration, "confirmed")

    message = smtp_sink.to("ela@example.pl")
    assert message["Subject"] == "Cluster Days: Your registration is confirmed"
    assert message["Message-ID"] == email.message_id
    assert [part.get_filename() for part in message.iter_attachments()] == [f"{registration.conference.slug}.ics"]
    wait_until(lambda: status_of(email) == OutgoingEmail.Status.SENT)


def test_worker_keeps_its_database_connection_between_tasks(celery_worker, smtp_sink):
    def other_connections() -> set[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return {pid for (pid,) in cursor.fetchall()}

    seen = []
    for n in range(2):
        with transaction.atomic():
            email = queue_email(to=f"person{n}@example.org", subject="S", body_text="T", kind="x", language="en")
        wait_until(lambda email=email: status_of(email) == OutgoingEmail.Status.SENT)
        time.sleep(0.5)  # the task has ended
        seen.append(other_connections())

    # The worker's, open after its first task and the same after the second.
    assert seen[0]
    assert seen[0] == seen[1]


@pytest.mark.django_db
def test_deliver_emails_retries_then_gives_up(settings, broker_queue):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens there
    settings.OUTBOX_MAX_ATTEMPTS = 3
    settings.OUTBOX_RETRY_DELAY = 0  # each retry due at once
    email = OutgoingEmail.objects.create(to="a@example.org", subject="S", body_text="T", kind="x", message_id="<1@x>")

    # apply() runs the task here; each run tries once, then wakes a task for the retry.
    for attempt in range(1, 4):
        assert tasks.deliver_emails.apply().get() == 0
        assert OutgoingEmail.objects.get(pk=email.pk).attempts == attempt
    assert broker_queue() == [("outbox.deliver_emails", None)] * 2  # none after the last attempt

    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.FAILED, 3)
    assert email.last_error.startswith("Out of attempts. ConnectionRefusedError")


def test_requeue_stale_emails_task_hands_lost_email_to_worker(celery_worker, smtp_sink):
    # Saved, but its hand-over to the broker was lost.
    email = OutgoingEmail.objects.create(
        to="lost@example.org",
        subject="S",
        body_text="T",
        kind="confirmed",
        message_id="<lost@example.org>",
        next_attempt_at=timezone.now() - dt.timedelta(seconds=settings.OUTBOX_SWEEP_GRACE + 1),
    )

    tasks.requeue_stale_emails.delay()

    assert smtp_sink.to("lost@example.org")["Message-ID"] == "<lost@example.org>"
    wait_until(lambda: status_of(email) == OutgoingEmail.Status.SENT)


def test_beat_schedule_names_registered_tasks():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    current_app.loader.import_default_modules()  # what a worker does at start: find every app's tasks

    assert scheduled == {
        "outbox.requeue_stale_emails",
        "registration.queue_reminders",
        "registration.erase_personal_data",
        "meetings.expire_requests",
    }
    assert scheduled <= set(current_app.tasks)
    sweep = settings.CELERY_BEAT_SCHEDULE["requeue-stale-emails"]
    assert sweep["schedule"] == dt.timedelta(seconds=settings.OUTBOX_SWEEP_INTERVAL)
