"""The public pages beside their floors, in one interleaved run: what a cached page costs
against the cheapest answers this machine can give, and whether the goals are met.

    python -m bench [--sessions 300] [--rounds 3] [--duration 20] [--connections 16]
    python -m bench.floor ...   # the same, written to the `floor` section

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

The goals it checks: every public page for an anonymous visitor at half the bare WSGI floor
or more and 20 times pretalx or more, every export 100 times pretalx or more. pretalx's
figures (PRETALX) are from one run of pretalx 2025.2.2 on this machine with the same
programme, gunicorn and wrk settings; the ratios to them are across runs, so only a rough
guide, while the shares of the floor are within one.
"""

import statistics
import sys
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from bench import runner

SLUG = "bench"
# The floors answer with a body of this size: a small page, so that the floor is the cost
# of a request and not of copying bytes.
PAYLOAD = b"x" * 1024
FLOOR_KEY = "bench:floor"
# The goals of a cached public page (share of the bare WSGI floor, times pretalx) and of an
# export (times pretalx).
PAGE_SHARE, PAGE_TIMES_PRETALX, EXPORT_TIMES_PRETALX = 0.5, 20, 100


def bare_application(environ, start_response):
    """The bare WSGI floor."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(PAYLOAD)))])
    return [PAYLOAD]


def cached_bytes(request):
    """The Django floor: bytes from the cache, through every middleware of the site."""
    from django.core.cache import cache
    from django.http import HttpResponse

    return HttpResponse(cache.get_or_set(FLOOR_KEY, PAYLOAD), content_type="text/plain")


@dataclass(frozen=True)
class Target:
    """What the site is measured on: its goals, and what pretalx answered (req/s) for the
    same thing, when it has one. pretalx shows its agenda through a script; its page
    without script is the fair comparison for ours, which needs none."""

    label: str
    path: str
    page: bool = False
    export: bool = False
    pretalx: float | None = None
    pretalx_what: str = ""


def pages(site: runner.Site) -> list[Target]:
    """What the site is measured on, after the floors."""
    return [
        Target("static file (whitenoise)", site.static_url("css/site.css")),
        Target("conference page", f"/{SLUG}/", page=True),
        Target(
            "agenda page, first day", f"/{SLUG}/agenda/", page=True, pretalx=5.8, pretalx_what="schedule, no script"
        ),
        Target("session page", f"/{SLUG}/agenda/s2/", page=True, pretalx=49.5, pretalx_what="talk page"),
        Target(
            "session page with seats left", f"/{SLUG}/agenda/s1/", page=True, pretalx=49.5, pretalx_what="talk page"
        ),
        Target("speakers", f"/{SLUG}/speakers/", page=True),
        Target("speaker page", f"/{SLUG}/speakers/spk1/", page=True, pretalx=51.2, pretalx_what="speaker page"),
        Target("`schedule.json`", f"/{SLUG}/schedule.json", export=True, pretalx=1.9),
        Target("`schedule.xml`", f"/{SLUG}/schedule.xml", export=True, pretalx=8.5),
        Target("`agenda.ics`", f"/{SLUG}/agenda.ics", export=True, pretalx=6.0, pretalx_what="`schedule.ics`"),
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


def share_of(rounds: list[runner.Result], floors: list[runner.Result]) -> float:
    """The median of the rounds' shares, each against the floor of the same round (the load
    of the machine drifts between rounds more than within one)."""
    return statistics.median(r.rps / floor.rps for r, floor in zip(rounds, floors, strict=True))


def goal(target: Target | None, result: runner.Result, share: float) -> str:
    """Whether the measured URL meets its goals: "met", "missed (why)", or "" without one."""
    if target is None or not (target.page or target.export):
        return ""
    missed = []
    if target.page and share < PAGE_SHARE:
        missed.append(f"share < {100 * PAGE_SHARE:.0f} %")
    wanted = PAGE_TIMES_PRETALX if target.page else EXPORT_TIMES_PRETALX
    if target.pretalx and result.rps < wanted * target.pretalx:
        missed.append(f"< {wanted}× pretalx")
    if result.errors:
        missed.append("errors")
    return f"missed ({', '.join(missed)})" if missed else "met"


def ratio_table(
    rows: list[tuple[runner.Result, list[runner.Result]]],
    floors: list[runner.Result],
    targets: dict[str, Target] | None = None,
) -> str:
    """Each URL's median round, its share of the bare WSGI floor, how it compares with
    pretalx, and whether it meets its goal (`targets`, by label)."""
    targets = targets or {}
    lines = [
        "| what | req/s (median round) | rounds | p50 | p99 | share of bare WSGI | pretalx req/s | × pretalx "
        "| goal | errors |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for result, rounds in rows:
        target = targets.get(result.label)
        spread = " / ".join(f"{r.rps:,.0f}" for r in rounds)
        share = share_of(rounds, floors)
        errors = sum(r.errors for r in rounds)
        pretalx = times = ""
        if target is not None and target.pretalx:
            pretalx = f"{target.pretalx:,.1f}" + (f" ({target.pretalx_what})" if target.pretalx_what else "")
            times = f"{result.rps / target.pretalx:,.0f}×"
        lines.append(
            f"| {result.label} | {result.rps:,.0f} | {spread} | {result.p50_ms:.1f} ms | {result.p99_ms:.1f} ms "
            f"| {100 * share:.1f} % | {pretalx} | {times} | {goal(target, result, share)} | {errors} |"
        )
    return "\n".join(lines)


def main(
    *, command: str = "python -m bench.floor", key: str = "floor", title: str = "Cached pages against their floors"
):
    parser = runner.arguments(__doc__.splitlines()[0])
    parser.set_defaults(sessions=300, attendees=2000, workers=2, duration=20)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds over every URL")
    parser.add_argument("--key", default=key, help="the section of docs/benchmarks.md to write")
    parser.add_argument("--title", default=title, help="that section's title")
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
        measured = {target.label: target for target in pages(site)}
        targets += [(site, target.label, target.path) for target in measured.values()]
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
        "floor's in the same round. Goals: a public page at 50 % of bare WSGI or more and 20× pretalx or more; "
        "an export 100× pretalx or more (pretalx's figures from one run of pretalx 2025.2.2 on this machine, "
        "same programme and load; across runs, so a rough guide). The machine may be shared and busy (see the "
        "load average): the shares within this run are what count, not the rates.\n\n"
        + ratio_table(rows, rows[0][1], measured)
    )
    print(body)
    runner.write_section(
        args.key,
        title=args.title,
        command=" ".join([command, *sys.argv[1:]]),
        body=body,
        site=site,
    )


if __name__ == "__main__":
    main()
