"""A burst of registrations: logged-in users all submit the registration form at the same
instant, for a conference with fewer places than them and a pre-event with fewer seats still.
Exactly the places and seats must be taken, the rest queued in order, and no request may fail.

    python -m bench.registration [--users 1000] [--places 300] [--seats 30] [--workers 4] [--threads 1]

Each user is its own HTTP session (a session cookie made beforehand) and sends one POST;
the users come from 25 client addresses, as the registration rate limit is per address.
"""

import datetime as dt
import os
import statistics
import sys
import threading
import time
from collections import Counter
from http.client import HTTPConnection
from urllib.parse import urlencode

from bench import runner

SLUG = "bench-registration"
EMAIL = "registration-burst-{:04d}@example.org"
ADDRESSES = 25


def main() -> None:
    parser = runner.arguments(__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000, help="users submitting at once")
    parser.add_argument("--places", type=int, default=300, help="places of the conference")
    parser.add_argument("--seats", type=int, default=30, help="seats of its pre-event")
    args = parser.parse_args()
    with runner.running_site(
        sessions=args.sessions, attendees=args.attendees, workers=args.workers, threads=args.threads, seed=args.seed
    ) as site:
        setup_django(site.env)
        conference, pre_event = prepare(places=args.places, seats=args.seats)
        cookies = log_in(args.users)
        floor = site.measure("/healthz", label="`/healthz` floor", duration=args.duration, connections=args.connections)
        burst, statuses = register_at_once(site, conference, pre_event, cookies)
        outcome = count(conference, pre_event)
        drop_queued_deliveries()
    broken = check(outcome, statuses, users=args.users, places=args.places, seats=args.seats)
    runner.write_section(
        "registration",
        title="Registration burst",
        command=" ".join(["python -m bench.registration", *sys.argv[1:]]),
        body=report(args, floor, burst, statuses, outcome, broken),
        site=site,
    )
    if broken:
        sys.exit("bench: " + "; ".join(broken))


def setup_django(env: dict[str, str]) -> None:
    """This process reads and prepares the same database as the server, with its settings."""
    import django

    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "conference.settings"
    django.setup()


def prepare(*, places: int, seats: int):
    """(Re)create the burst conference, open for registration, with one pre-event."""
    from django.core.cache import cache
    from django.utils import timezone

    from agenda import caching
    from agenda.models import Conference, Session
    from outbox.models import OutgoingEmail
    from registration.models import Registration, User

    # A run within a minute of the last one starts with fresh rate-limit windows too.
    cache.delete_pattern("allauth:rl:*")
    Registration.objects.filter(conference__slug=SLUG).delete()
    OutgoingEmail.objects.filter(to__startswith="registration-burst-").delete()
    User.objects.filter(email__startswith="registration-burst-").delete()
    for previous in Conference.objects.filter(slug=SLUG):
        caching.forget_conference(previous.pk, SLUG)
        previous.delete()
    now = timezone.now()
    start = timezone.localdate() + dt.timedelta(days=60)
    conference = Conference.objects.create(
        name="Registration burst",
        slug=SLUG,
        start_date=start,
        end_date=start + dt.timedelta(days=1),
        timezone="Europe/Brussels",
        capacity=places,
        registration_opens=now - dt.timedelta(days=1),
        registration_closes=now + dt.timedelta(days=30),
        is_published=True,
        privacy_statement="We keep your details to run the conference.",
    )
    pre_event = Session.objects.create(
        conference=conference,
        code="burst-lab",
        title="Smart specialisation lab",
        kind=Session.Kind.PRE_EVENT,
        start=dt.datetime.combine(start, dt.time(9), tzinfo=conference.tz),
        end=dt.datetime.combine(start, dt.time(12), tzinfo=conference.tz),
        capacity=seats,
    )
    return conference, pre_event


def log_in(users: int, *, email: str = EMAIL) -> list[str]:
    """Create the users (`email` numbered from 1) and a logged-in session for each; their
    Cookie header values."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.test import Client

    from registration.models import User

    password = make_password(None)
    accounts = User.objects.bulk_create(User(email=email.format(n), password=password) for n in range(1, users + 1))
    cookies = []
    for account in accounts:
        client = Client()
        client.force_login(account)
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}")
    return cookies


def register_at_once(site: runner.Site, conference, pre_event, cookies: list[str]) -> tuple[runner.Result, Counter]:
    """Every user POSTs the form once, all released together; latency counts from the release."""
    from registration.forms import privacy_digest
    from registration.selectors import privacy_statement

    path = f"/{conference.slug}/register/"
    # An unmasked CSRF secret, sent as cookie and field, as a browser holding the form would.
    csrf = "burst" + "0" * 27
    body = urlencode(
        {
            "csrfmiddlewaretoken": csrf,
            "given_name": "Elźbieta",
            "family_name": "Bieńkowska",
            "organisation": "Klaster Obróbki Metali",
            "organisation_type": "cluster",
            "country": "PL",
            "language": "en",
            "pre_events": pre_event.pk,
            "privacy_agreed": "on",
            "privacy_digest": privacy_digest(privacy_statement(conference)),
        }
    )
    barrier = threading.Barrier(len(cookies))
    results: list[tuple[float, float, int]] = [(0.0, 0.0, 0)] * len(cookies)

    def submit(index: int) -> None:
        headers = {
            **runner.FORWARDED_HTTPS,
            "Origin": site.origin,
            "Cookie": f"{cookies[index]}; csrftoken={csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        address = f"127.0.3.{index % ADDRESSES + 1}"
        barrier.wait()
        started = time.perf_counter()
        try:
            connection = HTTPConnection("127.0.0.1", site.port, timeout=120, source_address=(address, 0))
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
            connection.close()
        except OSError:
            status = 0
        results[index] = (started, time.perf_counter(), status)

    threads = [threading.Thread(target=submit, args=(index,)) for index in range(len(cookies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    latencies = sorted((end - start) * 1000 for start, end, _status in results)
    seconds = max(end for _s, end, _st in results) - min(start for start, _e, _st in results)
    statuses = Counter(status for _s, _e, status in results)
    burst = runner.Result(
        label=f"registration POSTs, {len(cookies):,} users at once",
        requests=len(cookies),
        seconds=seconds,
        rps=len(cookies) / seconds,
        p50_ms=statistics.median(latencies),
        p99_ms=latencies[int(len(latencies) * 0.99) - 1],
        bad_responses=sum(n for status, n in statuses.items() if status and not 200 <= status < 400),
        socket_errors=statuses[0],
        connections=len(cookies),
    )
    return burst, statuses


def count(conference, pre_event) -> dict[str, int]:
    from outbox.models import OutgoingEmail
    from registration.models import Booking, Registration

    registrations = Registration.objects.filter(conference=conference)
    bookings = Booking.objects.filter(session=pre_event)
    confirmed = registrations.filter(status=Registration.Status.CONFIRMED)
    return {
        "registrations": registrations.count(),
        "confirmed": confirmed.count(),
        "waitlisted": registrations.filter(status=Registration.Status.WAITLISTED).count(),
        # Whoever took the lock first took the first number: places go to numbers 1..places.
        "confirmed_in_order": confirmed.filter(number__lte=conference.capacity).count(),
        "distinct_numbers": registrations.values("number").distinct().count(),
        "seats_taken": bookings.filter(status=Booking.Status.CONFIRMED).count(),
        "seat_queue": bookings.filter(
            status=Booking.Status.WAITLISTED, registration__status=Registration.Status.CONFIRMED
        ).count(),
        "choices_held": bookings.exclude(registration__status=Registration.Status.CONFIRMED).count(),
        "emails": OutgoingEmail.objects.filter(conference=conference).count(),
    }


def drop_queued_deliveries() -> None:
    """No Celery worker runs here: the emails stay in the outbox, their delivery tasks go."""
    from conference.celery import app

    app.control.purge()


def check(outcome: dict[str, int], statuses: Counter, *, users: int, places: int, seats: int) -> list[str]:
    expected = {
        "registrations": users,
        "confirmed": min(places, users),
        "waitlisted": max(users - places, 0),
        "confirmed_in_order": min(places, users),
        "distinct_numbers": users,
        "seats_taken": min(seats, places, users),
    }
    broken = [
        f"{name} is {outcome[name]}, expected {value}" for name, value in expected.items() if outcome[name] != value
    ]
    if set(statuses) != {302}:
        broken.append(f"responses were {dict(statuses)}, expected only 302 (to the registration page)")
    return broken


def report(args, floor: runner.Result, burst: runner.Result, statuses: Counter, outcome: dict, broken: list) -> str:
    rows = [
        ("registrations saved", f"{outcome['registrations']:,} of {args.users:,}"),
        ("places taken", f"{outcome['confirmed']:,} of {args.places:,} (numbers 1–{outcome['confirmed_in_order']:,})"),
        ("on the waiting list", f"{outcome['waitlisted']:,}"),
        ("pre-event seats taken", f"{outcome['seats_taken']:,} of {args.seats:,}"),
        ("queued for a seat (confirmed attendees)", f"{outcome['seat_queue']:,}"),
        ("choices held until a place frees", f"{outcome['choices_held']:,}"),
        ("emails written to the outbox", f"{outcome['emails']:,}"),
        ("responses", ", ".join(f"{n:,} × {status or 'socket error'}" for status, n in sorted(statuses.items()))),
    ]
    outcome_table = "\n".join(["| outcome | |", "| --- | --- |", *(f"| {name} | {value} |" for name, value in rows)])
    verdict = "All as expected." if not broken else "**Broken:** " + "; ".join(broken) + "."
    return (
        runner.table([floor, burst])
        + "\n\n"
        + outcome_table
        + "\n\n"
        + verdict
        + f" Each of the {args.users:,} users was logged in beforehand and sent one POST (pre-event ticked); "
        "all were released together by a barrier and latency counts from that release, so p50 and p99 include "
        "the wait for a worker and for the conference row lock, which serialises registrations for one "
        "conference by design (lock, recount, insert, write the email to the outbox, commit). req/s is "
        "requests over the wall time of the whole burst."
    )


if __name__ == "__main__":
    main()
