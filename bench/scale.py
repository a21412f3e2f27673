"""The `bench` conference at 3,000 sessions and 30,000 attendees: the public pages and
exports (cached, and cold after an edit) and the staff dashboard (its latency and its
queries).

    python -m bench.scale [--sessions 3000] [--attendees 30000] [--cold-requests 5]
"""

import json
import statistics
import sys
import time

from bench import runner
from bench.agenda import measure_cold, request

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
COLD = [PUBLIC[0], PUBLIC[3], PUBLIC[4], PUBLIC[5]]
DASHBOARD = f"/{SLUG}/staff/"


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


def timed_gets(site: runner.Site, path: str, headers: dict[str, str], count: int) -> list[float]:
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        status = request(site.port, path, headers).status
        latencies.append((time.perf_counter() - started) * 1000)
        if status != 200:
            sys.exit(f"bench: {path} answered {status}")
    return latencies


def main() -> None:
    parser = runner.arguments(__doc__.splitlines()[0])
    parser.set_defaults(sessions=3000, attendees=30_000, workers=2)
    parser.add_argument("--cold-requests", type=int, default=5, help="requests after an edit, per URL")
    args = parser.parse_args()
    load = {"duration": args.duration, "connections": args.connections}
    with runner.running_site(
        sessions=args.sessions, attendees=args.attendees, workers=args.workers, threads=args.threads, seed=args.seed
    ) as site:
        sizes = {path: len(site.get(path)[1]) for _label, path in PUBLIC}
        results = [site.measure(path, label=f"{label}, cached", **load) for label, path in PUBLIC]
        results += [
            measure_cold(site, path, f"{label}, cold (after an edit, one at a time)", args.cold_requests)
            for label, path in COLD
        ]
        staff = {"Cookie": site.session_cookie(STAFF_EMAIL)}
        dashboard = timed_gets(site, DASHBOARD, staff, 10)
        # A page that takes most of a second: two connections, one per worker, so that none waits in a queue.
        results.append(
            site.measure(
                DASHBOARD,
                label="staff dashboard (logged-in staff)",
                headers=staff,
                duration=args.duration,
                connections=2,
                timeout=10,
            )
        )
        code = "from bench.scale import count_dashboard_queries; count_dashboard_queries()"
        counted = json.loads(site.manage("shell", "--no-imports", "-c", code).strip().splitlines()[-1])
    size_rows = "\n".join(f"| {label} | {sizes[path] / 1024:,.0f} KiB |" for label, path in PUBLIC)
    body = (
        f"The `{SLUG}` conference: {args.sessions:,} sessions in 10 rooms over 3 days, {args.attendees:,} "
        f"confirmed attendees with their pre-event bookings"
        + (f"; seeding it took {site.seed_seconds:.1f} s" if site.seed_seconds else "")
        + ".\n\n"
        + runner.table(results)
        + "\n\n| answer | size |\n| --- | ---: |\n"
        + size_rows
        + f"\n\nThe staff dashboard, one request at a time: median {statistics.median(dashboard):.0f} ms, "
        f"slowest {max(dashboard):.0f} ms of 10; {counted['queries']} queries (status {counted['status']}), "
        "the same number as for one attendee (tests/registration/test_staff.py asserts it for 1 and 50)."
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
