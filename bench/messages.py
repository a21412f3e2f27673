"""A message to 30,000 attendees: the organiser's confirmation page (which counts the
audience), the "send" click (lock, count, draft to sending), and the task writing one
outbox row per recipient in each one's language, run here as a worker would; then the
admin's progress endpoint and message page under load while the outbox is full.
Writes the `messages` section of docs/benchmarks.md.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/<a database the benchmark may fill>
    export REDIS_URL=redis://127.0.0.1:6379/<n>
    .venv/bin/python -m bench.messages [--attendees 30000]

Delivery itself runs at the outbox's rate: see the `emails` section.
"""

import os
import time

from bench import runner


def main() -> None:
    parser = runner.arguments("A message to every confirmed attendee of the bench conference.")
    parser.set_defaults(sessions=100, attendees=30_000, duration=5)
    args = parser.parse_args()
    with runner.running_site(
        sessions=args.sessions, attendees=args.attendees, workers=args.workers, threads=args.threads, seed=args.seed
    ) as site:
        os.environ.update(site.env, DJANGO_SETTINGS_MODULE="conference.settings")
        import django

        django.setup()
        from celery import current_app

        from agenda.models import Conference
        from outbox.emails import INSERT_BATCH
        from outbox.models import OutgoingEmail
        from registration import messaging
        from registration.models import User

        conference = Conference.objects.get(slug="bench")
        organiser = User.objects.get(email="organiser@example.org")
        message = draft(conference, organiser)
        cookie = {"Cookie": site.session_cookie("organiser@example.org"), **runner.FORWARDED_HTTPS}

        started = time.monotonic()
        status, _body = site.get(f"/admin/registration/message/{message.pk}/send/", cookie)
        confirm_seconds = time.monotonic() - started
        assert status == 200, status

        started = time.monotonic()
        messaging.start_sending(message.pk, actor=organiser)
        click_seconds = time.monotonic() - started

        queue_seconds, published = write_outbox(message)
        queued = OutgoingEmail.objects.filter(conference=conference, kind=message.email_kind).count()
        message.refresh_from_db()
        assert queued == message.recipient_count, (queued, message.recipient_count)

        results = [
            site.measure("/healthz", label="floor: /healthz", duration=args.duration, connections=4),
            site.measure(
                f"/admin/registration/message/{message.pk}/progress.json",
                label="progress JSON",
                headers=cookie,
                duration=args.duration,
                connections=4,
            ),
            site.measure(
                f"/admin/registration/message/{message.pk}/change/",
                label="message page",
                headers=cookie,
                duration=args.duration,
                connections=4,
            ),
        ]
        # No worker runs here: drop the tasks handed to the broker, the rows stay.
        current_app.control.purge()

    body = (
        "| step | recipients | seconds | rows per second |\n| --- | ---: | ---: | ---: |\n"
        f"| confirmation page (counts the audience) | {queued:,} | {confirm_seconds:.2f} | |\n"
        f"| “send” (lock, count, draft → sending) | {queued:,} | {click_seconds:.2f} | |\n"
        f"| outbox rows written by the task | {queued:,} | {queue_seconds:.1f} | {queued / queue_seconds:,.0f} |\n\n"
        f"The task writes {messaging.BATCH_SIZE:,} rows per transaction (inserts of {INSERT_BATCH} rows, "
        "each row with its dedup key); the layout is rendered once per language and the names filled "
        f"in per recipient. It published {published} delivery tasks in all, not one per email: the "
        "outbox's workers are woken when the first batch commits and when the last has, and in between "
        "claim the rows of each batch as it commits.\n\n"
        "The admin while the outbox holds the message (4 connections):\n\n" + runner.table(results)
    )
    runner.write_section(
        "messages",
        title=f"A message to {queued:,} attendees",
        command=f"python -m bench.messages --attendees {args.attendees}",
        body=body,
        site=site,
    )


def draft(conference, organiser):
    """A message to every confirmed attendee of `conference`, in two languages, as a draft."""
    from registration.models import Message

    return Message.objects.create(
        conference=conference,
        statuses=["confirmed"],
        essential=True,
        language="en",
        subject_en="Room change at {conference}",
        body_en="Dear {given_name} {family_name},\n\nThe opening moves to the Auditorium.\n\n{my_registration_url}",
        subject_es="Cambio de sala en {conference}",
        body_es="Hola {given_name} {family_name}:\n\nLa apertura pasa al Auditorio.\n\n{my_registration_url}",
        created_by=organiser,
    )


def write_outbox(message) -> tuple[float, int]:
    """Run the sending task's batches for `message` (sent already) to the end, as a worker
    would, with no worker running: (seconds, delivery tasks it handed to the broker)."""
    from celery import current_app

    from registration import messaging

    broker_queue = current_app.conf.task_default_queue
    with current_app.connection_for_write() as connection:
        connection.default_channel.queue_purge(broker_queue)
    started = time.monotonic()
    # What the task does, to the end (a busy machine may pass the task's own time budget,
    # where it would hand the rest to a fresh task).
    while messaging.queue_batch(message.pk):
        pass
    seconds = time.monotonic() - started
    with current_app.connection_for_write() as connection:
        published = connection.default_channel.client.llen(broker_queue)
    return seconds, published


if __name__ == "__main__":
    main()
