"""The programme of the `bench` conference (300 sessions, 10 rooms): the agenda page,
schedule.json and agenda.ics, from the cache and cold, beside the /healthz floor of the
same run.

    python -m bench.agenda [--sessions 300] [--cold-requests 30] [--duration 10] [--connections 16]

Cached: wrk against each URL after a warm-up. Cold: one request at a time, each right after
an organiser's edit (the content version raised through agenda.services, as the admin
does), so the server loads and renders the programme afresh every time.
"""

import http.client
import json
import statistics
import sys
import time
from contextlib import closing

from bench import runner

SLUG = "bench"
PAGES = [
    (f"/{SLUG}/agenda/", "agenda page (first day)"),
    (f"/{SLUG}/schedule.json", "`schedule.json`"),
    (f"/{SLUG}/agenda.ics", "`agenda.ics`"),
]


def request(port: int, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=60)) as connection:
        connection.request("GET", path, headers={**runner.FORWARDED_HTTPS, **(headers or {})})
        response = connection.getresponse()
        response.read()
        return response


def time_cold_requests(port: int, path: str, count: int) -> None:
    """Runs inside `manage.py shell` with the server's settings and database: `count`
    requests, each after an edit. Prints their latencies in milliseconds as JSON."""
    from agenda.caching import LOCAL_TIMEOUT
    from agenda.models import Conference
    from agenda.services import bump_content_version

    conference_id = Conference.objects.get(slug=SLUG).pk
    latencies = []
    for _ in range(count):
        bump_content_version(conference_id)
        # Workers serve what they have just checked for this long before they see an edit.
        time.sleep(LOCAL_TIMEOUT)
        started = time.perf_counter()
        status = request(port, path).status
        latencies.append((time.perf_counter() - started) * 1000)
        if status != 200:
            sys.exit(f"bench: {path} answered {status} after an edit")
    print(json.dumps(latencies))


def measure_cold(site: runner.Site, path: str, label: str, count: int) -> runner.Result:
    code = f"from bench.agenda import time_cold_requests; time_cold_requests({site.port}, {path!r}, {count})"
    latencies = json.loads(site.manage("shell", "--no-imports", "-c", code).strip().splitlines()[-1])
    seconds = sum(latencies) / 1000
    return runner.Result(
        label=label,
        requests=count,
        seconds=seconds,
        rps=count / seconds,
        p50_ms=statistics.median(latencies),
        p99_ms=statistics.quantiles(latencies, n=100, method="inclusive")[98],
        bad_responses=0,
        socket_errors=0,
        connections=1,
    )


def main() -> None:
    parser = runner.arguments(__doc__.splitlines()[0])
    parser.set_defaults(sessions=300)
    parser.add_argument("--cold-requests", type=int, default=30, help="requests after an edit, per URL")
    args = parser.parse_args()
    load = {"duration": args.duration, "connections": args.connections}
    with runner.running_site(
        sessions=args.sessions, attendees=args.attendees, workers=args.workers, threads=args.threads, seed=args.seed
    ) as site:
        results = [site.measure("/healthz", label="`/healthz`, the floor", **load)]
        results += [site.measure(path, label=f"{label}, cached", **load) for path, label in PAGES]
        ics = PAGES[-1][0]
        etag = request(site.port, ics).getheader("ETag")
        results.append(
            site.measure(ics, label="`agenda.ics` revalidated (`If-None-Match`: 304)", headers={"If-None-Match": etag})
        )
        results += [
            measure_cold(site, path, f"{label}, cold (after an edit, one at a time)", args.cold_requests)
            for path, label in PAGES
        ]
    body = (
        f"The `{SLUG}` conference: {args.sessions:,} sessions in 10 rooms over 3 days, "
        f"{args.attendees:,} attendees with their pre-event bookings.\n\n"
        + runner.table(results)
        + "\n\nCached, a page or an export costs no query: the whole answer is kept (agenda.caching), "
        "served before the session middleware, and checked against the conference's version and the "
        "seats left, both in Redis (seats left for half a second, so a booking shows within a second). "
        "Cold, the conference and the programme are loaded in three queries and rendered: what "
        "the first visitor after an organiser's edit waits for, once per page, language and filter. "
        "A calendar app polling with its ETag gets a 304 without a body."
    )
    runner.write_section(
        "agenda",
        title="Agenda: the programme page and its exports",
        command=" ".join(["python -m bench.agenda", *sys.argv[1:]]),
        body=body,
        site=site,
    )


if __name__ == "__main__":
    main()
