"""Smart voting under load: voters submit to one open poll, spread over a few seconds, while
two big screens follow the results as static/js/voting.js does (an EventSource on
screen/events): one served by the site's sync workers, where every answer ends at once and the
screen comes back a second later (short polling), and one served by a second gunicorn with
gthread workers, where the stream stays open. Every vote must be counted once, no request may
fail, and the streamed screen must catch up within 2 seconds.

    python -m bench.voting [--voters 350 3000] [--window 10] [--workers 4] [--stream-threads 4]

Each voter is a confirmed attendee with a session cookie made beforehand and sends one plain
POST (the no-JavaScript path); voter i starts at i × window / voters. Screen latency is, for
each vote, the time from its response to the first event of a screen whose count includes it
(zero when the screen counted it before the voter had their answer).
"""

import datetime as dt
import json
import os
import re
import socket
import statistics
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from http.client import HTTPConnection
from urllib.parse import urlencode

from bench import runner
from bench.registration import log_in

SLUG = "bench-voting"
EMAIL = "voting-{:05d}@example.org"
SCREEN_EMAIL = "voting-screen@example.org"
# What EventSource waits before it reconnects (the retry the server sends).
RECONNECT_SECONDS = 1.0
COUNTRIES = ["ES", "PL", "DE", "FR", "IT", "SE", "PT", "NL", "BE", "MT"]
CSRF = "voting" + "0" * 26


def main() -> None:
    parser = runner.arguments(__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, nargs="+", default=[350, 3000], help="voters of each round")
    parser.add_argument("--window", type=float, default=10.0, help="seconds over which a round's voters start")
    parser.add_argument("--stream-threads", type=int, default=4, help="threads of the screens' gthread server")
    # The bench conference is not needed here: a small one keeps the seed short.
    parser.set_defaults(sessions=10, attendees=0)
    args = parser.parse_args()
    threading.stack_size(512 * 1024)
    with runner.running_site(
        sessions=args.sessions, attendees=args.attendees, workers=args.workers, threads=args.threads, seed=args.seed
    ) as site:
        setup_django(site.env)
        floor = site.measure("/healthz", label="`/healthz` floor", duration=args.duration, connections=args.connections)
        with stream_server(site, threads=args.stream_threads) as streams:
            rounds = [run_round(site, streams, voters, window=args.window) for voters in args.voters]
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


@contextmanager
def stream_server(site: runner.Site, *, threads: int):
    """The screens' server, as docs/voting.md deploys it: one gunicorn worker with threads."""
    server = runner.Site(env=site.env, port=runner.free_port(), workers=1, threads=threads, seed_seconds=None)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def setup_django(env: dict[str, str]) -> None:
    import django

    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "conference.settings"
    django.setup()


def prepare(voters: int):
    """(Re)create the voting conference: one session, its poll open, `voters` confirmed attendees."""
    from django.core.cache import cache
    from django.utils import timezone

    from agenda import caching
    from agenda.models import Conference, Session
    from registration.models import Registration, User
    from voting import services
    from voting.models import Option, Poll

    # Each round starts with fresh rate-limit windows: the voters all come from one address.
    cache.delete_pattern("allauth:rl:*")
    Registration.objects.filter(conference__slug=SLUG).delete()
    User.objects.filter(email__startswith="voting-").delete()
    for previous in Conference.objects.filter(slug=SLUG):
        caching.forget_conference(previous.pk, SLUG)
        previous.delete()
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


class Screen(threading.Thread):
    """A big screen as EventSource runs it: reads events, reconnects RECONNECT_SECONDS after an
    answer ends, sending the id of the last event. `seen` gets (when, count) for each event;
    `requests` the time each answer took to begin."""

    def __init__(self, port: int, path: str, headers: dict[str, str]):
        super().__init__()
        self.port, self.path, self.headers = port, path, headers
        self.seen: list[tuple[float, int]] = []
        self.requests: list[float] = []
        self.errors = 0
        self.stopping = threading.Event()
        self.connection: HTTPConnection | None = None

    def run(self) -> None:
        last = None
        while not self.stopping.is_set():
            headers = {**self.headers, **({"Last-Event-ID": last} if last else {})}
            started = time.perf_counter()
            try:
                self.connection = HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.connection.request("GET", self.path, headers=headers)
                response = self.connection.getresponse()
                self.requests.append((time.perf_counter() - started) * 1000)
                data = None
                for line in response:
                    line = line.decode().rstrip("\n")
                    if line.startswith("id:"):
                        last = line[3:].strip()
                    elif line.startswith("data:"):
                        data = json.loads(line[5:])
                    elif not line and data is not None:
                        self.seen.append((time.perf_counter(), int(re.match(r"\d+", data["status"]).group())))
                        data = None
                self.connection.close()
            except (OSError, ValueError):
                # Queued for longer than the screen waits, or closed by stop(): it tries again.
                if not self.stopping.is_set():
                    self.errors += 1
            self.stopping.wait(RECONNECT_SECONDS)

    def stop(self) -> None:
        self.stopping.set()
        if self.connection and self.connection.sock:
            self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.join()

    def latencies(self, finished: list[float]) -> list[float]:
        """For each vote (by when its response came), ms until this screen counted it."""
        staleness = []
        for rank, at in enumerate(sorted(finished), start=1):
            shown = next((when for when, count in self.seen if count >= rank), None)
            staleness.append(max(0.0, shown - at) * 1000 if shown else float("inf"))
        return sorted(staleness)


def run_round(site: runner.Site, streams: runner.Site, voters: int, *, window: float) -> dict:
    poll, options, cookies, screen = prepare(voters)
    events_path = f"/{SLUG}/vote/{poll.session.code}/screen/events"
    path = f"/{SLUG}/vote/polls/{poll.pk}/"
    screen_headers = {**runner.FORWARDED_HTTPS, "Cookie": screen_cookie(screen)}
    done: list[tuple[float, float, int]] = [(0.0, 0.0, 0)] * voters
    screens = {
        "polling": Screen(site.port, events_path, screen_headers),
        "stream": Screen(streams.port, events_path, screen_headers),
    }

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

    for each in screens.values():
        each.start()
    t0 = time.perf_counter() + 1
    threads = [threading.Thread(target=vote, args=(i, t0 + i * window / voters)) for i in range(voters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Until both screens show every vote, or 10 s.
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline and not all(
        each.seen and each.seen[-1][1] >= voters for each in screens.values()
    ):
        time.sleep(0.1)
    for each in screens.values():
        each.stop()

    from voting import selectors
    from voting.models import Vote

    statuses = Counter(status for _s, _e, status in done)
    latencies = sorted((end - start) * 1000 for start, end, _status in done)
    seconds = max(end for _s, end, _st in done) - min(start for start, _e, _st in done)
    # Over the answered votes: exact when every vote was answered, a little kind when some
    # were committed after their voter gave up (the screens count those too).
    answered = [end for _s, end, status in done if status == 302]
    staleness = {name: each.latencies(answered) for name, each in screens.items()}
    counted = Vote.objects.filter(poll=poll).count()
    results = selectors.results(poll)
    broken = []
    if counted != voters or results.voters != voters or sum(row.count for row in results.rows) != voters:
        broken.append(f"{voters} voters: {counted} votes stored, {results.voters} counted")
    if set(statuses) != {302}:
        broken.append(f"{voters} voters: responses were {dict(statuses)}, expected only 302")
    if screens["stream"].errors:
        broken.append(f"{voters} voters: the stream failed {screens['stream'].errors} times")
    if staleness["stream"][-1] > 2000:
        broken.append(
            f"{voters} voters: the streamed screen showed the last vote after {staleness['stream'][-1]:.0f} ms"
        )
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
        "screens": {
            name: {
                "p50": statistics.median(values),
                "p99": values[int(len(values) * 0.99) - 1],
                "max": values[-1],
                "errors": screens[name].errors,
            }
            for name, values in staleness.items()
        },
        "poll_p50": statistics.median(screens["polling"].requests),
        "poll_p99": sorted(screens["polling"].requests)[int(len(screens["polling"].requests) * 0.99) - 1],
        "broken": broken,
    }


def measure_polling(site: runner.Site, args) -> list[runner.Result]:
    """What one polling screen costs a sync worker: screen/events under load, unchanged (the
    browser's Last-Event-ID is the current version: no event) and changed (the rendered results)."""
    from registration.models import User

    cookie = screen_cookie(User.objects.get(email=SCREEN_EMAIL))
    path = f"/{SLUG}/vote/smart-voting/screen/events"
    status, body = site.get(path, {"Cookie": cookie})
    found = re.search(rb"^id: (\S+)$", body, re.MULTILINE)
    if status != 200 or not found:
        sys.exit(f"bench: {path} answered {status} without an event")
    common = {"duration": args.duration, "connections": args.connections}
    return [
        site.measure(
            path,
            label="screen/events on a sync worker, unchanged",
            headers={"Cookie": cookie, "Last-Event-ID": found.group(1).decode()},
            **common,
        ),
        site.measure(path, label="screen/events on a sync worker, changed", headers={"Cookie": cookie}, **common),
    ]


def report(args, floor: runner.Result, rounds: list[dict], polling: list[runner.Result]) -> str:
    def latency(screen: dict) -> str:
        errors = f", {screen['errors']} failed" if screen["errors"] else ""
        return f"{screen['p50']:.0f} ms / {screen['p99']:.0f} ms (max {screen['max']:.0f} ms{errors})"

    rows = [
        (
            f"{r['voters']:,}",
            f"{r['counted']:,}",
            f"{r['votes'].rps:,.0f}",
            f"{r['votes'].p50_ms:.0f} ms / {r['votes'].p99_ms:.0f} ms",
            latency(r["screens"]["stream"]),
            latency(r["screens"]["polling"]),
            f"{r['poll_p50']:.0f} ms / {r['poll_p99']:.0f} ms",
            ", ".join(f"{n:,} × {status or 'socket error'}" for status, n in sorted(r["statuses"].items())),
        )
        for r in rounds
    ]
    summary = "\n".join(
        [
            "| voters | votes counted | votes/s | vote p50 / p99 | screen latency, stream (gthread) p50 / p99 "
            "| screen latency, polling (sync) p50 / p99 | polling answer p50 / p99 | responses |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
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
        + f" Voters start evenly over {args.window:g} s, each with one plain POST (the no-JavaScript path) to the "
        "sync workers; votes/s is votes over the wall time of the round. Two screens follow each round: the stream, "
        f"from a second gunicorn (1 worker, gthread, {args.stream_threads} threads) holding the connection open, "
        "and polling, from the sync workers, each answer ending at once and the screen coming back a second later "
        "with its last event's id. Screen latency is, for each vote, the time from its response to the first event "
        "that counts it; *polling answer* is how long the sync workers took to begin answering a poll. The last two "
        f"rows of the first table are what polling costs the sync workers: {args.connections} connections asking "
        "for screen/events as fast as they can, unchanged (no event) and changed (the rendered results)."
    )


if __name__ == "__main__":
    main()
