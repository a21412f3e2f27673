"""The public pages beside their floors, in one interleaved run: what a cached page costs
against the cheapest answers this machine can give.

    python -m bench.floor [--sessions 300] [--rounds 3] [--duration 20] [--connections 16]

Three servers, each gunicorn with the same workers, measured in turn (one idle while
another is loaded):

- *bare WSGI*: a WSGI function that returns a constant body, no Django at all;
- *Django, cached bytes*: the project's settings and every middleware, and a view that
  returns a body it reads from the cache (Redis);
- the site itself (production settings): a static file through whitenoise, and the public
  pages and exports of the `bench` conference, for an anonymous visitor, after a warm-up
  (so from the cache).

Every URL is loaded once per round, the rounds one after another, so a busy moment of the
machine falls on all of them alike; the table gives each URL's median round, and its share
of the bare WSGI floor, round by round.
"""

import statistics
import sys
from contextlib import ExitStack, contextmanager

from bench import runner

SLUG = "bench"
# The floors answer with a body of this size: a small page, so that the floor is the cost
# of a request and not of copying bytes.
PAYLOAD = b"x" * 1024
FLOOR_KEY = "bench:floor"


def bare_application(environ, start_response):
    """The bare WSGI floor."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(PAYLOAD)))])
    return [PAYLOAD]


def cached_bytes(request):
    """The Django floor: bytes from the cache, through every middleware of the site."""
    from django.core.cache import cache
    from django.http import HttpResponse

    return HttpResponse(cache.get_or_set(FLOOR_KEY, PAYLOAD), content_type="text/plain")


def pages(site: runner.Site) -> list[tuple[str, str]]:
    """(label, path) of what the site is measured on, after the floors."""
    stylesheet = site.static_url("css/site.css")
    return [
        ("static file (whitenoise)", stylesheet),
        ("conference page", f"/{SLUG}/"),
        ("agenda page, first day", f"/{SLUG}/agenda/"),
        ("session page", f"/{SLUG}/agenda/s2/"),
        ("session page with seats left", f"/{SLUG}/agenda/s1/"),
        ("speakers", f"/{SLUG}/speakers/"),
        ("speaker page", f"/{SLUG}/speakers/spk1/"),
        ("`schedule.json`", f"/{SLUG}/schedule.json"),
        ("`schedule.xml`", f"/{SLUG}/schedule.xml"),
        ("`agenda.ics`", f"/{SLUG}/agenda.ics"),
    ]


@contextmanager
def floor_server(site: runner.Site, *, app: str, ready_path: str, settings: str | None = None):
    env = dict(site.env)
    if settings:
        env["DJANGO_SETTINGS_MODULE"] = settings
    server = runner.Site(
        env=env,
        port=runner.free_port(),
        workers=site.workers,
        threads=site.threads,
        seed_seconds=None,
        app=app,
        ready_path=ready_path,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def median_result(results: list[runner.Result]) -> runner.Result:
    """The round with the median rate (the fastest of the middle two for an even count)."""
    ranked = sorted(results, key=lambda result: result.rps)
    return ranked[len(ranked) // 2]


def ratio_table(rows: list[tuple[runner.Result, list[runner.Result]]], floors: list[runner.Result]) -> str:
    """Each URL's median round, and its share of the bare WSGI floor: the median of its
    rounds' shares, each against the floor of the same round (the load of the machine
    drifts between rounds more than within one)."""
    lines = [
        "| what | req/s (median round) | rounds | p50 | p99 | share of bare WSGI | errors |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for result, rounds in rows:
        spread = " / ".join(f"{r.rps:,.0f}" for r in rounds)
        share = statistics.median(r.rps / floor.rps for r, floor in zip(rounds, floors, strict=True))
        errors = sum(r.errors for r in rounds)
        lines.append(
            f"| {result.label} | {result.rps:,.0f} | {spread} | {result.p50_ms:.1f} ms | {result.p99_ms:.1f} ms "
            f"| {100 * share:.1f} % | {errors} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = runner.arguments(__doc__.splitlines()[0])
    parser.set_defaults(sessions=300, attendees=2000, workers=2, duration=20)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds over every URL")
    parser.add_argument("--key", default="floor", help="the section of docs/benchmarks.md to write")
    parser.add_argument("--title", default="Cached pages against their floors", help="that section's title")
    args = parser.parse_args()
    load = {"duration": args.duration, "connections": args.connections, "warmup": 2}
    with ExitStack() as stack:
        site = stack.enter_context(
            runner.running_site(
                sessions=args.sessions,
                attendees=args.attendees,
                workers=args.workers,
                threads=args.threads,
                seed=args.seed,
            )
        )
        bare = stack.enter_context(floor_server(site, app="bench.floor:bare_application", ready_path="/"))
        django = stack.enter_context(
            floor_server(site, app="conference.wsgi", ready_path="/healthz", settings="bench.floor_settings")
        )
        targets = [
            (bare, "bare WSGI, constant bytes", "/"),
            (django, "Django, cached bytes, all middleware", "/floor/"),
        ]
        targets += [(site, label, path) for label, path in pages(site)]
        rounds: dict[str, list[runner.Result]] = {label: [] for _server, label, _path in targets}
        for number in range(args.rounds):
            for server, label, path in targets:
                result = server.measure(path, label=label, **load)
                rounds[label].append(result)
                print(f"bench: round {number + 1}: {label}: {result.rps:,.0f} req/s", flush=True)
    rows = [(median_result(results), results) for results in rounds.values()]
    body = (
        f"The `{SLUG}` conference: {args.sessions:,} sessions in 10 rooms over 3 days, {args.attendees:,} "
        f"attendees. {args.rounds} interleaved rounds of {args.duration} s per URL, "
        f"`wrk -t2 -c{args.connections}`, anonymous visitors (no cookies), every page in the cache. "
        "The share of bare WSGI is the median over the rounds of each round's rate over the bare WSGI "
        "floor's in the same round.\n\n" + ratio_table(rows, rows[0][1])
    )
    print(body)
    runner.write_section(
        args.key,
        title=args.title,
        command=" ".join(["python -m bench.floor", *sys.argv[1:]]),
        body=body,
        site=site,
    )


if __name__ == "__main__":
    main()
