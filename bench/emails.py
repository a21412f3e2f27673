"""The outbox's throughput: queued emails delivered by two Celery worker processes to a
local SMTP sink (aiosmtpd), in rounds that take turns with a plain smtplib loop sending the
same messages to the same sink (the floor); and how soon a single email leaves after its
transaction commits. Writes its section of docs/benchmarks.md.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/<a database the benchmark may fill>
    export REDIS_URL=redis://127.0.0.1:6379/<n>
    .venv/bin/python -m bench.emails [--emails 2000] [--rounds 3] [--concurrency 2]

Production settings (DEBUG off); the worker, the sink, PostgreSQL and Redis share the machine.
"""

import argparse
import multiprocessing
import os
import platform
import re
import secrets
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing, contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
KIND = "bench"
WARM_UP = 300
CONTENT = """Dear Elźbieta,

Your place at GROW your REGIOn 2027 is confirmed. Your registration number is {number}.

When and where: March 15, 2027 – March 16, 2027, Veles e Vents, Valencia

Your sessions:
- Pre-event: Cluster excellence in the regions: March 14, 2027, 2 p.m.–5:30 p.m. (Europe/Madrid), Room 3
- Smart voting on the regional agenda: March 15, 2027, 11 a.m.–12:30 p.m. (Europe/Madrid), Auditorium

The attached calendar file adds the conference and your sessions to your calendar."""
CALENDAR = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Conference registration and agenda//EN\r\n"
    + "".join(
        f"BEGIN:VEVENT\r\nUID:{n}@conference\r\nSUMMARY:Session {n}\r\nDTSTART;TZID=Europe/Madrid:20270315T"
        f"{9 + n:02d}0000\r\nDTEND;TZID=Europe/Madrid:20270315T{10 + n:02d}0000\r\nLOCATION:Room {n}\r\n"
        "END:VEVENT\r\n"
        for n in range(3)
    )
    + "END:VCALENDAR\r\n"
)


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_sink(port: int, received, ready) -> None:
    """The SMTP sink, in a process of its own: counts what it accepts."""
    from aiosmtpd.controller import Controller

    class Counter:
        async def handle_DATA(self, server, session, envelope) -> str:
            with received.get_lock():
                received.value += 1
            return "250 Message accepted for delivery"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


@contextmanager
def smtp_sink():
    port = free_port()
    received = multiprocessing.Value("i", 0)
    ready = multiprocessing.Event()
    process = multiprocessing.Process(target=run_sink, args=(port, received, ready), daemon=True)
    process.start()
    if not ready.wait(30):
        sys.exit("bench: the SMTP sink did not start.")
    try:
        yield port, received
    finally:
        process.terminate()
        process.join(10)


def wait_until(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            sys.exit(f"bench: {what} did not happen within {timeout:.0f} s.")
        time.sleep(0.05)


def machine() -> str:
    model = "unknown CPU"
    found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    model = found.group(1).strip() if found else model
    return (
        f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; the worker processes, the sink, PostgreSQL and Redis share "
        f"those cores (load average {os.getloadavg()[0]:.1f} at the end)"
    )


def write_section(body: str, command: str) -> None:
    """Replace this benchmark's section of docs/benchmarks.md, between its markers."""
    start, end = "<!-- bench:emails:start -->", "<!-- bench:emails:end -->"
    section = "\n".join(
        [
            start,
            "## Emails: the outbox",
            "",
            f"Command: `{command}`  ",
            f"Measured {time.strftime('%Y-%m-%d')} on {machine()}.",
            "",
            body.strip(),
            end,
        ]
    )
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    DOCS.parent.mkdir(exist_ok=True)
    DOCS.write_text(text.rstrip("\n") + "\n")
    print(f"bench: wrote section 'emails' of {DOCS}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=2_000, help="emails per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    args = parser.parse_args()
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        sys.exit("bench: set DATABASE_URL and REDIS_URL: the benchmark fills that database and uses that Redis.")

    with smtp_sink() as (port, received):
        os.environ.update(
            DJANGO_SETTINGS_MODULE="conference.settings",
            DEBUG="false",
            SECRET_KEY=secrets.token_urlsafe(64),
            EMAIL_URL=f"smtp://127.0.0.1:{port}",
            LOG_LEVEL="WARNING",
        )
        import django

        django.setup()
        from celery import current_app
        from django.conf import settings
        from django.core.management import call_command
        from django.db import transaction
        from django.utils import timezone

        from outbox.emails import (
            BATCH_SECONDS,
            BATCH_SIZE,
            MARK_SENT_EVERY,
            build_message,
            compose,
            enqueue_delivery,
            queue_email,
        )
        from outbox.models import OutgoingEmail

        call_command("migrate", verbosity=0)
        OutgoingEmail.objects.filter(kind=KIND).delete()
        with current_app.connection_for_write() as connection:
            connection.default_channel.queue_purge(current_app.conf.task_default_queue)

        text, html = compose(heading="Your registration is confirmed", content=CONTENT.format(number=1234))

        def queue_round(count: int, *, due: bool) -> list:
            """`count` emails as the outbox holds them; not due yet unless `due` (a worker takes whatever is due)."""
            return OutgoingEmail.objects.bulk_create(
                [
                    OutgoingEmail(
                        to=f"bench-{n:06d}@example.org",
                        subject="GROW your REGIOn 2027: Your registration is confirmed",
                        body_text=text,
                        body_html=html,
                        attachments=[
                            {"filename": "growyourregion.ics", "content": CALENDAR, "mimetype": "text/calendar"}
                        ],
                        kind=KIND,
                        language="en",
                        message_id=f"<bench.{n}.{secrets.token_hex(8)}@example.org>",
                        next_attempt_at=timezone.now() + timedelta(days=0 if due else 1),
                    )
                    for n in range(count)
                ],
                batch_size=1000,
            )

        def smtplib_loop(messages: list[tuple[str, bytes]], *, connection_each: bool = False) -> float:
            """The floor: the same messages, built beforehand, sent by smtplib in one loop."""
            sender = settings.DEFAULT_FROM_EMAIL
            started = time.perf_counter()
            if connection_each:
                for to, message in messages:
                    with smtplib.SMTP("127.0.0.1", port) as smtp:
                        smtp.sendmail(sender, [to], message)
            else:
                with smtplib.SMTP("127.0.0.1", port) as smtp:
                    for to, message in messages:
                        smtp.sendmail(sender, [to], message)
            return time.perf_counter() - started

        log = tempfile.NamedTemporaryFile(prefix="bench-emails-worker-", suffix=".log", delete=False)  # noqa: SIM115
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "conference",
                "worker",
                "--loglevel=WARNING",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                f"--concurrency={args.concurrency}",
            ],
            cwd=ROOT,
            env=os.environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        rounds = []  # (floor seconds, outbox seconds, delivery tasks woken)
        try:
            # Unmeasured: every worker process opens its connections and imports what sending needs.
            enqueue_delivery(len(queue_round(WARM_UP, due=True)))
            pending = OutgoingEmail.objects.filter(kind=KIND).exclude(status=OutgoingEmail.Status.SENT)
            wait_until(lambda: not pending.exists(), timeout=120, what=f"the warm-up (worker log: {log.name})")
            # Floor and outbox take turns, so that a busy moment of the machine weighs on both alike.
            for turn in range(args.rounds):
                emails = queue_round(args.emails, due=False)
                messages = [(email.to, build_message(email).message().as_bytes(linesep="\r\n")) for email in emails]
                size = len(messages[0][1])
                if turn == 0:
                    connection_each = smtplib_loop(messages, connection_each=True)
                floor = smtplib_loop(messages)
                pending.update(next_attempt_at=timezone.now())
                received.value = 0
                started = time.perf_counter()
                woken = enqueue_delivery(len(emails))
                wait_until(lambda: not pending.exists(), timeout=1800, what="delivery of every email")
                rounds.append((floor, time.perf_counter() - started, woken))
                failed = OutgoingEmail.objects.filter(kind=KIND, status=OutgoingEmail.Status.FAILED).count()
                if received.value != args.emails or failed:
                    sys.exit(f"bench: {received.value} of {args.emails} received, {failed} failed.")
                OutgoingEmail.objects.filter(kind=KIND).delete()
            # The first email after a registration, to idle workers: saved in a transaction, the
            # workers woken on commit; how long until the mail server has it.
            latencies = []
            for n in range(5):
                time.sleep(1)
                before = received.value
                started = time.perf_counter()
                with transaction.atomic():
                    queue_email(to=f"single-{n}@example.org", subject="S", body_text=text, kind=KIND, language="en")
                wait_until(lambda before=before: received.value > before, timeout=60, what="a single email")
                latencies.append(time.perf_counter() - started)
        finally:
            worker.terminate()
            worker.wait(60)
            OutgoingEmail.objects.filter(kind=KIND).delete()

    n = args.emails
    table = "\n".join(
        f"| {turn} | {n / floor:,.0f} | {n / outbox:,.0f} | {floor / outbox:.0%} |"
        for turn, (floor, outbox, _woken) in enumerate(rounds, start=1)
    )
    shares = sorted(floor / outbox for floor, outbox, _woken in rounds)
    body = f"""{n:,} emails of {size / 1024:.1f} KiB (plain text, HTML and an .ics attachment) per round, to an
aiosmtpd sink on localhost in a process of its own; each arrived exactly once. In each round
the floor, a plain `smtplib` loop sending the same messages built beforehand over one
connection, then the outbox: the rows queued, delivered by `celery worker --concurrency={args.concurrency}`.

| round | floor emails/s | outbox emails/s | outbox's share of the floor |
| ---: | ---: | ---: | ---: |
{table}

**Median share of the floor: {statistics.median(shares):.0%}** (rounds from {shares[0]:.0%} to {shares[-1]:.0%}).
A `smtplib` loop opening a connection per message, for comparison: {n / connection_each:,.0f} emails/s
in the first round. Waking the workers takes one delivery task per {BATCH_SIZE} emails, at most
{rounds[0][2]} here, never one per email. A single email queued in a transaction, as a registration
queues its confirmation, reached the sink {min(latencies) * 1000:.0f} to {max(latencies) * 1000:.0f} ms
after the commit (5 times, the workers idle).

Each task claims the due emails a batch at a time, skipping the rows other workers have
locked (up to {BATCH_SIZE} rows, sized to about {BATCH_SECONDS} s of sending at the worker's pace),
moves them to sending in one short transaction, sends them over its worker's one SMTP
connection (kept open between batches) and marks the sent ones with one statement every
{MARK_SENT_EVERY * 1000:.0f} ms of sending; the worker keeps its database connection between tasks.
Unlike the floor, every email still survives a lost broker, a killed worker (which sends
again at most what it sent in those last milliseconds) and a failing mail server.
"""
    write_section(body, f"python -m bench.emails --emails {args.emails} --rounds {args.rounds}")
    print(body)


if __name__ == "__main__":
    main()
