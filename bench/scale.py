"""The `bench` conference at 3,000 sessions and 30,000 attendees, beside a tenth of it in
the same run: what grows with the conference (the programme built cold after an edit, the
staff dashboard and its queries, the attendee list as CSV, a message to everyone) at both
sizes and how many times it grew, then the cached public pages at full size.

    python -m bench.scale [--sessions 3000] [--attendees 30000] [--cold-requests 9]

Ten times the data may take at most ten times as long: nothing may grow worse than linearly.
The verdict allows a tenth more, as the same request after an edit varies by that much from
one run to the next on a small shared machine (the collector's full passes, other processes).
"""

import json
import statistics
import sys
import time
from dataclasses import dataclass

from bench import runner
from bench.agenda import measure_cold, request
from bench.export import download

SLUG = "bench"
STAFF_EMAIL = "staff@example.org"
PUBLIC = [
    ("agenda page, first day", f"/{SLUG}/agenda/"),
    ("session page", f"/{SLUG}/agenda/s2/"),
    ("speakers", f"/{SLUG}/speakers/"),
    ("`schedule.json`", f"/{SLUG}/schedule.json"),
    ("`schedule.xml`", f"/{SLUG}/schedule.xml"),
    ("`agenda.ics`", f"/{SLUG}/agenda.ics"),
]
COLD = [PUBLIC[0], PUBLIC[2], PUBLIC[3], PUBLIC[4], PUBLIC[5]]
DASHBOARD = f"/{SLUG}/staff/"
ATTENDEES_CSV = f"/{SLUG}/staff/attendees.csv"
# How much smaller the conference measured beside the full one is.
SHRINK = 10
# How much more than in proportion a measurement may grow before it counts as worse than
# linear: the noise of one run against the next (see the docstring).
NOISE = 1.1


def count_dashboard_queries() -> None:
    """Runs inside `manage.py shell`: the queries of one dashboard request, as JSON."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(email=STAFF_EMAIL))
    client.get(DASHBOARD, secure=True)  # the session into the cache
    with CaptureQueriesContext(connection) as queries:
        status = client.get(DASHBOARD, secure=True).status_code
    print(json.dumps({"status": status, "queries": len(queries)}))


def message_everyone() -> None:
    """Runs inside `manage.py shell`: a message to every confirmed attendee, sent, its outbox
    rows written as the task would; the recipients and the seconds, as JSON."""
    from celery import current_app

    from agenda.models import Conference
    from bench.messages import draft, write_outbox
    from registration import messaging
    from registration.models import User

    organiser = User.objects.get(email="organiser@example.org")
    message = draft(Conference.objects.get(slug=SLUG), organiser)
    messaging.start_sending(message.pk, actor=organiser)
    seconds, _published = write_outbox(message)
    message.refresh_from_db()
    print(json.dumps({"recipients": message.recipient_count, "seconds": seconds}))
    # No worker runs here: drop the tasks handed to the broker.
    current_app.control.purge()


def timed_gets(site: runner.Site, path: str, headers: dict[str, str], count: int) -> list[float]:
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        status = request(site.port, path, headers).status
        latencies.append((time.perf_counter() - started) * 1000)
        if status != 200:
            sys.exit(f"bench: {path} answered {status}")
    return latencies


@dataclass(frozen=True)
class Size:
    """What grows with the conference, measured at one size: milliseconds by label, and the dashboard's queries."""

    sessions: int
    attendees: int
    milliseconds: dict[str, float]
    dashboard_queries: int


def measure_growth(site: runner.Site, sessions: int, attendees: int, cold_requests: int) -> Size:
    staff = {"Cookie": site.session_cookie(STAFF_EMAIL)}
    milliseconds = {
        f"{label}, cold after an edit": measure_cold(site, path, label, cold_requests).p50_ms for label, path in COLD
    }
    milliseconds["staff dashboard"] = statistics.median(timed_gets(site, DASHBOARD, staff, 10))
    milliseconds["attendee list as CSV, every column"] = 1000 * statistics.median(
        download(site, ATTENDEES_CSV, staff["Cookie"])[3] for _ in range(3)
    )
    message = json.loads(site.manage("shell", "--no-imports", "-c", _call("message_everyone")).strip().splitlines()[-1])
    if message["recipients"] != attendees:
        sys.exit(f"bench: the message went to {message['recipients']:,} of {attendees:,} attendees")
    milliseconds["a message to every attendee: its outbox rows written"] = 1000 * message["seconds"]
    counted = json.loads(site.manage("shell", "--no-imports", "-c", _call("count_dashboard_queries")).splitlines()[-1])
    if counted["status"] != 200:
        sys.exit(f"bench: the dashboard answered {counted['status']}")
    return Size(sessions, attendees, milliseconds, counted["queries"])


def _call(function: str) -> str:
    return f"from bench.scale import {function}; {function}()"


def growth_table(small: Size, large: Size) -> str:
    factor = large.attendees / small.attendees
    lines = [
        f"| what | {small.sessions:,} sessions, {small.attendees:,} attendees "
        f"| {large.sessions:,} sessions, {large.attendees:,} attendees | grew | in proportion or better |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for label, before in small.milliseconds.items():
        after = large.milliseconds[label]
        linear = "yes" if after <= NOISE * factor * before else "**no**"
        lines.append(f"| {label} | {before:,.0f} ms | {after:,.0f} ms | {after / before:.1f}× | {linear} |")
    lines.append(
        f"| staff dashboard, queries | {small.dashboard_queries} | {large.dashboard_queries} | "
        f"| {'yes, constant' if small.dashboard_queries == large.dashboard_queries else '**no**'} |"
    )
    return "\n".join(lines)


def main() -> None:
    parser = runner.arguments(__doc__.splitlines()[0])
    parser.set_defaults(sessions=3000, attendees=30_000, workers=2)
    parser.add_argument("--cold-requests", type=int, default=9, help="requests after an edit, per URL")
    args = parser.parse_args()
    load = {"duration": args.duration, "connections": args.connections}
    sizes = []
    for sessions, attendees in [(args.sessions // SHRINK, args.attendees // SHRINK), (args.sessions, args.attendees)]:
        with runner.running_site(
            sessions=sessions, attendees=attendees, workers=args.workers, threads=args.threads, seed=True
        ) as site:
            sizes.append(measure_growth(site, sessions, attendees, args.cold_requests))
            if len(sizes) == 2:
                answer_sizes = {path: len(site.get(path)[1]) for _label, path in PUBLIC}
                cached = [site.measure(path, label=f"{label}, cached", **load) for label, path in PUBLIC]
    small, large = sizes
    size_rows = "\n".join(f"| {label} | {answer_sizes[path] / 1024:,.0f} KiB |" for label, path in PUBLIC)
    body = (
        f"The `{SLUG}` conference seeded at two sizes, one after the other in the same run: "
        f"{small.sessions:,} sessions and {small.attendees:,} confirmed attendees, then {large.sessions:,} and "
        f"{large.attendees:,} (in 10 rooms over 3 days, with their pre-event bookings; seeding the larger took "
        f"{site.seed_seconds:.1f} s). Medians: {args.cold_requests} requests after an edit each for the "
        "programme, 10 dashboard requests, 3 downloads of the list; one message.\n\n"
        + growth_table(small, large)
        + f"\n\n*Grew*: the larger conference's time over the smaller's, for {SHRINK} times the data; *in "
        f"proportion or better* allows a tenth more ({NOISE}×{SHRINK}), the noise of one run against the next "
        "here. The dashboard's queries do not depend on the size.\n\nThe cached public pages at the larger size:\n\n"
        + runner.table(cached)
        + "\n\n| answer | size |\n| --- | ---: |\n"
        + size_rows
    )
    print(body)
    runner.write_section(
        "scale",
        title=f"{args.sessions:,} sessions, {args.attendees:,} attendees",
        command=" ".join(["python -m bench.scale", *sys.argv[1:]]),
        body=body,
        site=site,
    )


if __name__ == "__main__":
    main()
