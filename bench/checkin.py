"""The door: how many check-ins a second the scan endpoint takes, with what latency, and how
long the badges take for 350 and for 30,000 attendees.

    python -m bench.checkin [--people 350] [--crowd 30000] [--doors 4] [--scans 3000] [--phones 16]

Check-ins: every scan is one POST to `/<slug>/checkin/sync/` carrying one scan with its own
nonce, as the door page's script sends it, from `--doors` phones at once for the 350 people
of a conference (the 15-minute morning rush is 0.4 a second), then from `--phones` at once
for `--scans` people of the large one. Badges: the PDF of the 350 is one request; the
30,000 are a badge run, whose parts are built here one after the other, as one worker would.
"""

import json
import os
import statistics
import sys
import threading
import time
import uuid
from http.client import HTTPConnection
from urllib.parse import urlencode

from bench import runner
from bench.registration import setup_django

SLUGS = {"small": "bench-checkin-small", "large": "bench-checkin-large"}


def main() -> None:
    parser = runner.arguments(__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=350, help="attendees of the small conference")
    parser.add_argument("--crowd", type=int, default=30_000, help="attendees of the large conference")
    parser.add_argument("--doors", type=int, default=4, help="phones scanning at once, small conference")
    parser.add_argument("--scans", type=int, default=3000, help="people checked in, large conference")
    parser.add_argument("--phones", type=int, default=16, help="phones scanning at once, large conference")
    args = parser.parse_args()
    with runner.running_site(
        sessions=args.sessions, attendees=args.attendees, workers=args.workers, threads=args.threads, seed=args.seed
    ) as site:
        setup_django(site.env)
        small = prepare(SLUGS["small"], args.people)
        large = prepare(SLUGS["large"], args.crowd)
        cookie = site.session_cookie("organiser@example.org")
        floor = site.measure("/healthz", label="`/healthz` floor", duration=args.duration, connections=args.connections)
        rush = scan_all(site, small, tokens(small, args.people), cookie, phones=args.doors)
        crowd = scan_all(site, large, tokens(large, args.scans), cookie, phones=args.phones)
        checked_in = {key: count_check_ins(conference) for key, conference in (("small", small), ("large", large))}
        small_badges = badges_over_http(site, small, cookie)
        large_badges = badge_run(large, site)
    broken = []
    if checked_in != {"small": args.people, "large": args.scans}:
        broken.append(f"check-ins recorded {checked_in}, expected {args.people} and {args.scans}")
    if rush.errors or crowd.errors:
        broken.append("some scans failed")
    runner.write_section(
        "checkin",
        title="Check-in and badges",
        command=" ".join(["python -m bench.checkin", *sys.argv[1:]]),
        body=report(args, floor, rush, crowd, small_badges, large_badges, broken),
        site=site,
    )
    if broken:
        sys.exit("bench: " + "; ".join(broken))


def prepare(slug: str, people: int):
    """(Re)create a conference with `people` confirmed registrations and their tickets."""
    import datetime as dt

    from django.utils import timezone

    from agenda.models import Conference
    from checkin.models import Ticket
    from registration.models import Registration

    Registration.objects.filter(conference__slug=slug).delete()
    Conference.objects.filter(slug=slug).delete()
    today = timezone.localdate()
    conference = Conference.objects.create(
        name=f"Check-in bench ({people:,})",
        slug=slug,
        start_date=today,
        end_date=today + dt.timedelta(days=1),
        timezone="Europe/Madrid",
        capacity=people,
        is_published=True,
        privacy_statement="We keep your details to run the conference.",
    )
    now = timezone.now()
    registrations = Registration.objects.bulk_create(
        (
            Registration(
                conference=conference,
                number=n,
                status=Registration.Status.CONFIRMED,
                given_name="Elżbieta",
                family_name=f"Bieńkowska {n:05d}",
                organisation="Klaster Obróbki Metali",
                organisation_type=Registration.OrganisationType.CLUSTER,
                country="PL",
                photo_opt_out=n % 10 == 0,
                privacy_statement_agreed=conference.privacy_statement,
                privacy_agreed_at=now,
            )
            for n in range(1, people + 1)
        ),
        batch_size=2000,
    )
    Ticket.objects.bulk_create((Ticket(registration=r) for r in registrations), batch_size=2000)
    return conference


def tokens(conference, count: int) -> list[str]:
    from checkin.models import Ticket

    queryset = Ticket.objects.filter(registration__conference=conference).order_by("registration__number")
    return list(queryset.values_list("token", flat=True)[:count])


def scan_all(site: runner.Site, conference, codes: list[str], cookie: str, *, phones: int) -> runner.Result:
    """Each phone takes the next code and POSTs it, one scan a request, until all are in."""
    path = f"/{conference.slug}/checkin/sync/"
    door = f"day-{conference.start_date.isoformat()}"
    csrf = "bench" + "0" * 27
    headers = {
        **runner.FORWARDED_HTTPS,
        "Origin": site.origin,
        "Cookie": f"{cookie}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
        "Content-Type": "application/json",
    }
    queue = list(reversed(codes))
    lock = threading.Lock()
    latencies: list[float] = []
    failures = [0]

    def phone() -> None:
        connection = HTTPConnection("127.0.0.1", site.port, timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                token = queue.pop()
            scan = {"nonce": uuid.uuid4().hex, "token": token, "door": door}
            started = time.perf_counter()
            try:
                connection.request("POST", path, body=json.dumps({"scans": [scan]}), headers=headers)
                response = connection.getresponse()
                answer = json.loads(response.read())
                ok = response.status == 200 and answer["results"][0]["code"] == "checked_in"
            except (OSError, ValueError, KeyError):
                connection.close()
                connection = HTTPConnection("127.0.0.1", site.port, timeout=60)
                ok = False
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
                failures[0] += not ok
        connection.close()

    threads = [threading.Thread(target=phone) for _ in range(phones)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    latencies.sort()
    return runner.Result(
        label=f"check-in scans, {len(codes):,} people, {phones} phones at once",
        requests=len(codes),
        seconds=seconds,
        rps=len(codes) / seconds,
        p50_ms=statistics.median(latencies),
        p99_ms=latencies[max(int(len(latencies) * 0.99) - 1, 0)],
        bad_responses=failures[0],
        socket_errors=0,
        connections=phones,
    )


def count_check_ins(conference) -> int:
    from checkin.models import CheckIn

    return CheckIn.objects.valid().filter(registration__conference=conference).count()


def badges_over_http(site: runner.Site, conference, cookie: str) -> dict[str, float]:
    """The A4 and A6 badges of everyone at once: seconds for the response, and its size."""
    csrf = "bench" + "0" * 27
    figures = {}
    for layout in ("a6", "a4"):
        body = urlencode({"csrfmiddlewaretoken": csrf, "who": "all", "layout": layout})
        headers = {
            **runner.FORWARDED_HTTPS,
            "Origin": site.origin,
            "Cookie": f"{cookie}; csrftoken={csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        connection = HTTPConnection("127.0.0.1", site.port, timeout=300)
        started = time.perf_counter()
        connection.request("POST", f"/{conference.slug}/checkin/badges/", body=body, headers=headers)
        response = connection.getresponse()
        content = response.read()
        figures[layout] = time.perf_counter() - started
        figures[f"{layout}_mb"] = len(content) / 1e6
        if response.status != 200 or not content.startswith(b"%PDF"):
            sys.exit(f"bench: the badges answered {response.status}")
        connection.close()
    return figures


def badge_run(conference, site: runner.Site) -> dict[str, float]:
    """The 30,000 as a badge run, its parts built here in turn (one worker's pace)."""
    from checkin import selectors, services
    from checkin.models import BadgeRunPart
    from registration.models import User

    ids = list(selectors.badge_registrations(conference).values_list("pk", flat=True))
    run = services.start_badge_run(
        conference, ids, layout="a4", actor=User.objects.get(email="organiser@example.org"), language="en"
    )
    started = time.perf_counter()
    part_times = []
    for index in range(run.part_count):
        part_started = time.perf_counter()
        services.build_badge_part(run.pk, index)
        part_times.append(time.perf_counter() - part_started)
    total = time.perf_counter() - started
    size = sum(len(part.content) for part in BadgeRunPart.objects.filter(run=run).only("content"))
    return {
        "badges": len(ids),
        "parts": run.part_count,
        "seconds": total,
        "part_median": statistics.median(part_times),
        "mb": size / 1e6,
    }


def report(args, floor, rush, crowd, small, large, broken) -> str:
    per_badge_ms = 1000 * large["seconds"] / large["badges"]
    lines = [
        runner.table([floor, rush, crowd]),
        "",
        f"Each scan is one request with one nonce, as the door page sends it online. The morning rush of "
        f"{args.people} people through {args.doors} doors in 15 minutes needs 0.4 check-ins a second; the "
        f"endpoint took {rush.rps:,.0f} a second with {args.doors} phones and {crowd.rps:,.0f} with "
        f"{args.phones} (one row lock per person: scans of different people never wait for each other).",
        "",
        "| badges | how | seconds | PDF size |",
        "| --- | --- | ---: | ---: |",
        f"| {args.people:,} | one request, A6 (a page each) | {small['a6']:.1f} | {small['a6_mb']:.1f} MB |",
        f"| {args.people:,} | one request, A4 (four a sheet) | {small['a4']:.1f} | {small['a4_mb']:.1f} MB |",
        f"| {large['badges']:,} | badge run, A4, {large['parts']} parts of 500, built in turn "
        f"| {large['seconds']:.0f} ({per_badge_ms:.1f} ms a badge; a part {large['part_median']:.1f} s) "
        f"| {large['mb']:.0f} MB in all |",
        "",
        "A run's parts are independent tasks, so W Celery workers build it about W times faster; each part "
        "stays well inside the task time limit. Most of a badge's time is the QR code's encoding (segno "
        "tries the eight masks and keeps the most readable).",
    ]
    if broken:
        lines += ["", "**Broken:** " + "; ".join(broken)]
    return "\n".join(lines)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
