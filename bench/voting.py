"""Smart voting under load: voters submit to one open poll, spread over a few seconds, while
the big screen polls its JSON as static/js/voting.js does. Every vote must be counted once,
no request may fail, and the screen must catch up within 2 seconds.

    python -m bench.voting [--voters 350 3000] [--window 10] [--workers 4]

Each voter is a confirmed attendee with a session cookie made beforehand and sends one plain
POST (the no-JavaScript path); voter i starts at i × window / voters. The screen asks for
screen.json once a second with the ETag of its last answer. Screen latency is, for each vote,
the time from its response to the first screen answer whose count includes it.
"""

import datetime as dt
import os
import re
import statistics
import sys
import threading
import time
from collections import Counter
from contextlib import closing
from http.client import HTTPConnection
from urllib.parse import urlencode

from bench import runner
from bench.registration import log_in

SLUG = "bench-voting"
EMAIL = "voting-{:05d}@example.org"
SCREEN_EMAIL = "voting-screen@example.org"
SCREEN_EVERY = 1.0
COUNTRIES = ["ES", "PL", "DE", "FR", "IT", "SE", "PT", "NL", "BE", "MT"]
CSRF = "voting" + "0" * 26


def main() -> None:
    parser = runner.arguments(__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, nargs="+", default=[350, 3000], help="voters of each round")
    parser.add_argument("--window", type=float, default=10.0, help="seconds over which a round's voters start")
    # The bench conference is not needed here: a small one keeps the seed short.
    parser.set_defaults(sessions=10, attendees=0)
    args = parser.parse_args()
    threading.stack_size(512 * 1024)
    with runner.running_site(
        sessions=args.sessions, attendees=args.attendees, workers=args.workers, threads=args.threads, seed=args.seed
    ) as site:
        setup_django(site.env)
        floor = site.measure("/healthz", label="`/healthz` floor", duration=args.duration, connections=args.connections)
        rounds = [run_round(site, voters, window=args.window) for voters in args.voters]
        polling = measure_polling(site, args)
    broken = [problem for round_ in rounds for problem in round_["broken"]]
    runner.write_section(
        "voting",
        title="Smart voting",
        command=" ".join(["python -m bench.voting", *sys.argv[1:]]),
        body=report(args, floor, rounds, polling),
        site=site,
    )
    if broken:
        sys.exit("bench: " + "; ".join(broken))


def setup_django(env: dict[str, str]) -> None:
    import django

    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "conference.settings"
    django.setup()


def prepare(voters: int):
    """(Re)create the voting conference: one session, its poll open, `voters` confirmed attendees."""
    from django.utils import timezone

    from agenda.models import Conference, Session
    from registration.models import Registration, User
    from voting import services
    from voting.models import Option, Poll

    Registration.objects.filter(conference__slug=SLUG).delete()
    User.objects.filter(email__startswith="voting-").delete()
    Conference.objects.filter(slug=SLUG).delete()
    today = timezone.localdate()
    conference = Conference.objects.create(
        name="Smart voting bench", slug=SLUG, start_date=today, end_date=today, capacity=voters, is_published=True
    )
    session = Session.objects.create(
        conference=conference,
        code="smart-voting",
        title="Smart voting",
        kind=Session.Kind.VOTING,
        start=timezone.now() - dt.timedelta(minutes=5),
        end=timezone.now() + dt.timedelta(hours=1),
    )
    poll = Poll.objects.create(session=session, question="Which action is most needed?")
    options = Option.objects.bulk_create(
        Option(poll=poll, label=label, position=index)
        for index, label in enumerate(["Cross-sectoral collaboration", "Cross-regional collaboration", "Skills"])
    )
    services.open_poll(poll)
    cookies = log_in(voters, email=EMAIL)
    users = User.objects.filter(email__startswith="voting-0").order_by("email")
    Registration.objects.bulk_create(
        Registration(
            conference=conference,
            user=user,
            number=index + 1,
            status=Registration.Status.CONFIRMED,
            given_name="Marcel·la",
            family_name=f"Voter {index + 1}",
            organisation="Cluster",
            organisation_type=Registration.OrganisationType.CLUSTER,
            country=COUNTRIES[index % len(COUNTRIES)],
            privacy_agreed_at=timezone.now(),
        )
        for index, user in enumerate(users)
    )
    screen = User.objects.create_superuser(SCREEN_EMAIL)
    return poll, options, cookies, screen


def screen_cookie(screen) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(screen)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def run_round(site: runner.Site, voters: int, *, window: float) -> dict:
    poll, options, cookies, screen = prepare(voters)
    json_path = f"/{SLUG}/vote/{poll.session.code}/screen.json"
    path = f"/{SLUG}/vote/polls/{poll.pk}/"
    screen_headers = {**runner.FORWARDED_HTTPS, "Cookie": screen_cookie(screen)}
    done: list[tuple[float, float, int]] = [(0.0, 0.0, 0)] * voters
    seen: list[tuple[float, int]] = []
    screen_latencies: list[float] = []
    screen_errors: list[float] = []
    stop = threading.Event()

    def watch() -> None:
        """The screen: screen.json every second, with If-None-Match."""
        etag, count = None, 0
        while not stop.is_set():
            headers = {**screen_headers, **({"If-None-Match": etag} if etag else {})}
            started = time.perf_counter()
            try:
                connection = HTTPConnection("127.0.0.1", site.port, timeout=30)
                connection.request("GET", json_path, headers=headers)
                response = connection.getresponse()
                body = response.read()
                connection.close()
            except OSError:
                # Queued behind the votes for longer than a screen would wait: it tries again.
                screen_errors.append(time.perf_counter())
                continue
            finished = time.perf_counter()
            screen_latencies.append((finished - started) * 1000)
            if response.status == 200:
                etag = response.getheader("ETag")
                count = int(re.search(rb'"status": "(\d+)', body).group(1))
            seen.append((finished, count))
            time.sleep(max(0.0, SCREEN_EVERY - (finished - started)))

    def vote(index: int, start_at: float) -> None:
        body = urlencode({"csrfmiddlewaretoken": CSRF, f"poll{poll.pk}-options": options[index % 3 % 2].pk})
        headers = {
            **runner.FORWARDED_HTTPS,
            "Origin": site.origin,
            "Cookie": f"{cookies[index]}; csrftoken={CSRF}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        time.sleep(max(0.0, start_at - time.perf_counter()))
        started = time.perf_counter()
        try:
            connection = HTTPConnection("127.0.0.1", site.port, timeout=120)
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
            connection.close()
        except OSError:
            status = 0
        done[index] = (started, time.perf_counter(), status)

    watcher = threading.Thread(target=watch)
    watcher.start()
    t0 = time.perf_counter() + 1
    threads = [threading.Thread(target=vote, args=(i, t0 + i * window / voters)) for i in range(voters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Until the screen shows every vote, or 10 s.
    deadline = time.perf_counter() + 10
    while (not seen or seen[-1][1] < voters) and time.perf_counter() < deadline:
        time.sleep(0.1)
    stop.set()
    watcher.join()

    from voting import selectors
    from voting.models import Vote

    statuses = Counter(status for _s, _e, status in done)
    latencies = sorted((end - start) * 1000 for start, end, _status in done)
    seconds = max(end for _s, end, _st in done) - min(start for start, _e, _st in done)
    # Vote k (in the order the responses came) shows once the screen's count reaches k.
    staleness = []
    for rank, finished in enumerate(sorted(end for _s, end, _st in done), start=1):
        shown = next((at for at, count in seen if at >= finished and count >= rank), None)
        staleness.append((shown - finished) * 1000 if shown else float("inf"))
    staleness.sort()
    counted = Vote.objects.filter(poll=poll).count()
    results = selectors.results(poll)
    broken = []
    if counted != voters or results.voters != voters or sum(row.count for row in results.rows) != voters:
        broken.append(f"{voters} voters: {counted} votes stored, {results.voters} counted")
    if set(statuses) != {302}:
        broken.append(f"{voters} voters: responses were {dict(statuses)}, expected only 302")
    if screen_errors:
        broken.append(f"{voters} voters: {len(screen_errors)} screen requests timed out")
    if staleness[-1] > 2000:
        broken.append(f"{voters} voters: the screen showed the last vote after {staleness[-1]:.0f} ms")
    return {
        "voters": voters,
        "votes": runner.Result(
            label=f"vote POSTs, {voters:,} voters in {window:g} s",
            requests=voters,
            seconds=seconds,
            rps=voters / seconds,
            p50_ms=statistics.median(latencies),
            p99_ms=latencies[int(len(latencies) * 0.99) - 1],
            bad_responses=sum(n for status, n in statuses.items() if status and not 200 <= status < 400),
            socket_errors=statuses[0],
            connections=voters,
        ),
        "counted": counted,
        "statuses": statuses,
        "screen_p50": statistics.median(staleness),
        "screen_p99": staleness[int(len(staleness) * 0.99) - 1],
        "screen_max": staleness[-1],
        "json_p50": statistics.median(screen_latencies),
        "json_p99": sorted(screen_latencies)[int(len(screen_latencies) * 0.99) - 1],
        "broken": broken,
    }


def measure_polling(site: runner.Site, args) -> list[runner.Result]:
    """What one screen costs: screen.json under load, unchanged (304) and changed (200)."""
    from registration.models import User

    cookie = screen_cookie(User.objects.get(email=SCREEN_EMAIL))
    path = f"/{SLUG}/vote/smart-voting/screen.json"
    with closing(HTTPConnection("127.0.0.1", site.port, timeout=30)) as connection:
        connection.request("GET", path, headers={**runner.FORWARDED_HTTPS, "Cookie": cookie})
        response = connection.getresponse()
        response.read()
        etag = response.getheader("ETag")
    if response.status != 200 or not etag:
        sys.exit(f"bench: {path} answered {response.status} without an ETag")
    common = {"duration": args.duration, "connections": args.connections}
    return [
        site.measure(
            path, label="screen.json, unchanged (304)", headers={"Cookie": cookie, "If-None-Match": etag}, **common
        ),
        site.measure(path, label="screen.json, full answer (200)", headers={"Cookie": cookie}, **common),
    ]


def report(args, floor: runner.Result, rounds: list[dict], polling: list[runner.Result]) -> str:
    rows = [
        (
            f"{r['voters']:,}",
            f"{r['counted']:,}",
            f"{r['votes'].rps:,.0f}",
            f"{r['votes'].p50_ms:.0f} ms / {r['votes'].p99_ms:.0f} ms",
            f"{r['screen_p50']:.0f} ms / {r['screen_p99']:.0f} ms (max {r['screen_max']:.0f} ms)",
            f"{r['json_p50']:.0f} ms / {r['json_p99']:.0f} ms",
            ", ".join(f"{n:,} × {status or 'socket error'}" for status, n in sorted(r["statuses"].items())),
        )
        for r in rounds
    ]
    summary = "\n".join(
        [
            "| voters | votes counted | votes/s | vote p50 / p99 | screen latency p50 / p99 | screen.json p50 / p99 "
            "during the votes | responses |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | --- |",
            *("| " + " | ".join(row) + " |" for row in rows),
        ]
    )
    broken = [problem for r in rounds for problem in r["broken"]]
    verdict = "All as expected." if not broken else "**Broken:** " + "; ".join(broken) + "."
    return (
        runner.table([floor, *(r["votes"] for r in rounds), *polling])
        + "\n\n"
        + summary
        + "\n\n"
        + verdict
        + f" Voters start evenly over {args.window:g} s, each with one plain POST (the no-JavaScript path); "
        "votes/s is votes over the wall time of the round. Screen latency is, for each vote, the time from its "
        "response to the first screen.json answer (polled once a second, with If-None-Match) that counts it: "
        "the polling interval is most of it. The last two rows of the first table are what one screen costs: "
        f"{args.connections} connections asking for screen.json as fast as they can, unchanged (a 304 of no body) "
        "and changed (the rendered results)."
    )


if __name__ == "__main__":
    main()
