"""Bilateral meetings at the size of a GROW your REGIOn: 300 participants who opted in and
1,000 requests between them, sent, accepted (half at a time both have free, half left to
the organisers) and scheduled; then the directory and one's meetings page under load.

    python -m bench.meetings [--participants 300] [--requests 1000] [--workers 4] [--threads 1]

Requests and answers go through meetings.services in this process, one after the other,
each in its own transaction with its emails written to the outbox (no worker delivers
them); the pages are served by gunicorn and loaded with wrk as a logged-in participant.
"""

import datetime as dt
import math
import random
import sys
import time
from collections import Counter

from bench import runner
from bench.registration import drop_queued_deliveries, setup_django

SLUG = "bench-meetings"
EMAIL = "meetings-bench-{:04d}@example.org"
# 15-minute slots over three hours at 100 tables: 12 slots, 1,200 places for meetings, so
# that who is free when, not the number of tables, decides what can be placed.
SLOT_MINUTES, HOURS, TABLES = 15, 3, 100


def main() -> None:
    parser = runner.arguments(__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=300, help="participants who opted in")
    parser.add_argument("--requests", type=int, default=1000, help="requests between them")
    # The bench conference of the other benchmarks is not needed here: a small one seeds fast.
    parser.set_defaults(sessions=10, attendees=0)
    args = parser.parse_args()
    with runner.running_site(
        sessions=args.sessions, attendees=args.attendees, workers=args.workers, threads=args.threads, seed=args.seed
    ) as site:
        setup_django(site.env)
        block, profiles = prepare(args.participants)
        flow = run_requests(block, profiles, args.requests)
        analyse()
        quality = schedule(block)
        analyse()
        cookie = site.session_cookie(EMAIL.format(1))
        pages = [
            site.measure("/healthz", label="`/healthz` floor", duration=args.duration, connections=args.connections),
            site.measure(
                f"/{SLUG}/meetings/people/",
                label=f"directory, {args.participants} participants, 20 a page",
                headers={"Cookie": cookie},
                duration=args.duration,
                connections=args.connections,
            ),
            site.measure(
                f"/{SLUG}/meetings/people/?q=cluster&country=ES",
                label="directory, searched and filtered",
                headers={"Cookie": cookie},
                duration=args.duration,
                connections=args.connections,
            ),
            site.measure(
                f"/{SLUG}/meetings/",
                label="one's requests and timetable",
                headers={"Cookie": cookie},
                duration=args.duration,
                connections=args.connections,
            ),
        ]
        drop_queued_deliveries()
    broken = [f"{count} {what}" for what, count in flow["errors"].items() if what not in EXPECTED_REFUSALS]
    broken += [f"{r.label}: {r.bad_responses} bad responses" for r in pages if r.bad_responses]
    runner.write_section(
        "meetings",
        title=f"Bilateral meetings: {args.participants} participants, {args.requests:,} requests",
        command=" ".join(["python -m bench.meetings", *sys.argv[1:]]),
        body=report(args, flow, quality, pages),
        site=site,
    )
    if broken:
        sys.exit("bench: " + "; ".join(broken))


# Refusals the random requests run into by design (caps), not failures.
EXPECTED_REFUSALS = {"CapReached", "TooManyOpenRequests"}


def prepare(participants: int):
    """The conference `bench-meetings` afresh: a three-hour bilateral-meetings session as a
    block, and `participants` confirmed attendees who opted in."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from agenda.models import Conference, Session
    from meetings import services
    from meetings.models import Meeting, MeetingBlock, Profile, Sector
    from registration.models import Registration, User

    countries = ["ES", "FR", "DE", "IT", "PL", "BE", "NL", "PT", "SE", "FI", "AT", "CZ", "GR", "IE", "RO"]
    kinds = [kind for kind, _label in Registration.OrganisationType.choices]
    today = timezone.localdate()
    with transaction.atomic():
        Meeting.objects.filter(block__session__conference__slug=SLUG).delete()
        Registration.objects.filter(conference__slug=SLUG).delete()
        Conference.objects.filter(slug=SLUG).delete()
        User.objects.filter(email__startswith="meetings-bench-").delete()
        start = today + dt.timedelta(days=60)
        conference = Conference.objects.create(
            name="Bilateral meetings benchmark",
            slug=SLUG,
            start_date=start,
            end_date=start,
            timezone="Europe/Madrid",
            capacity=participants,
            is_published=True,
        )
        begins = dt.datetime.combine(start, dt.time(9), tzinfo=conference.tz)
        session = Session.objects.create(
            conference=conference,
            code="bilaterals",
            title="Bilateral meetings",
            kind=Session.Kind.BILATERAL,
            start=begins,
            end=begins + dt.timedelta(hours=HOURS),
        )
        block = MeetingBlock.objects.create(
            session=session,
            slot_minutes=SLOT_MINUTES,
            tables=TABLES,
            max_meetings=HOURS * 60 // SLOT_MINUTES,
            max_open_requests=20,
            requests_open=timezone.now() - dt.timedelta(days=1),
            requests_close=begins - dt.timedelta(days=1),
        )
        services.set_up_block(block)
        sectors = [Sector.objects.create(conference=conference, name=f"Sector {n}") for n in range(8)]
        password = make_password(None)
        users = User.objects.bulk_create(
            User(email=EMAIL.format(n), password=password) for n in range(1, participants + 1)
        )
        registrations = Registration.objects.bulk_create(
            Registration(
                conference=conference,
                user=user,
                number=n,
                status=Registration.Status.CONFIRMED,
                given_name="Elżbieta" if n % 2 else "Marcel·la",
                family_name=f"Bieńkowska {n}",
                organisation=f"Cluster {n}",
                organisation_type=kinds[n % len(kinds)],
                country=countries[n % len(countries)],
                privacy_statement_agreed="",
                privacy_agreed_at=timezone.now(),
            )
            for n, user in enumerate(users, start=1)
        )
    profiles = []
    for n, registration in enumerate(registrations):
        profiles.append(
            services.save_profile(
                registration,
                offer="Cluster services, testing facilities and access to SMEs.",
                seek="Partners for interregional projects.",
                languages="English",
                sectors=[sectors[n % len(sectors)]],
                themes=[],
            )
        )
    assert Profile.objects.listed(conference).count() == participants
    analyse()
    return block, profiles


def analyse() -> None:
    """Bring the planner's statistics up to date, as autovacuum does on a deployed database
    within a minute of this many changes; tables filled a moment ago would otherwise be
    read as empty, with plans that make every step look slower than it is."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def run_requests(block, profiles, requests: int) -> dict:
    """Send `requests` requests between distinct random pairs, then have each recipient
    accept: every other one at the first time both have free, the rest leaving the time
    to the organisers. Timed, one after the other."""
    from meetings import exceptions, services

    rng = random.Random(2017)  # a reproducible workload
    pairs, seen = [], set()
    while len(pairs) < requests:
        a, b = rng.sample(range(len(profiles)), 2)
        if frozenset((a, b)) not in seen:
            seen.add(frozenset((a, b)))
            pairs.append((a, b))
    errors: Counter = Counter()
    sent = []
    started = time.monotonic()
    for a, b in pairs:
        try:
            sent.append(services.send_request(profiles[a], block=block, recipient=profiles[b], message="Hello"))
        except exceptions.MeetingError as error:
            errors[type(error).__name__] += 1
    send_seconds = time.monotonic() - started
    analyse()
    accepted = at_a_time = 0
    started = time.monotonic()
    for index, meeting_request in enumerate(sent):
        recipient = meeting_request.recipient
        slot_id = None
        if index % 2 == 0:
            free = services.free_slots(block, meeting_request.sender, recipient)
            slot_id = free[0].pk if free else None
        try:
            services.accept_request(meeting_request, by=recipient, slot_id=slot_id)
        except exceptions.MeetingError as error:
            errors[type(error).__name__] += 1
        else:
            accepted += 1
            at_a_time += slot_id is not None
    accept_seconds = time.monotonic() - started
    return {
        "sent": len(sent),
        "send_seconds": send_seconds,
        "accepted": accepted,
        "at_a_time": at_a_time,
        "accept_seconds": accept_seconds,
        "errors": errors,
    }


def schedule(block) -> dict:
    """Run the scheduler over the meetings left without a time; compare with first fit alone
    and with a lower bound on what no schedule can place."""
    from collections import defaultdict

    from django.db.models import Count

    from meetings import services
    from meetings.models import Meeting, MeetingSeat, Slot

    waiting = list(Meeting.objects.filter(block=block, status="accepted").select_related("request"))
    slots = list(Slot.objects.filter(block=block, is_break=False))
    busy = defaultdict(set)
    for profile_id, slot_id in MeetingSeat.objects.filter(slot__block=block).values_list("profile_id", "slot_id"):
        busy[profile_id].add(slot_id)
    taken = defaultdict(
        int,
        Meeting.objects.filter(block=block, status="scheduled").values_list("slot_id").annotate(Count("pk")).order_by(),
    )
    rounds, services.IMPROVE_ROUNDS = services.IMPROVE_ROUNDS, 0
    try:
        first_fit, _moved = services._plan(
            waiting, slots, TABLES, defaultdict(set, {k: set(v) for k, v in busy.items()}), defaultdict(int, taken)
        )
    finally:
        services.IMPROVE_ROUNDS = rounds
    # Nobody can meet in more slots than they have free: each person's excess is unplaceable,
    # and one meeting left out covers at most two people's excess.
    need = Counter()
    for meeting in waiting:
        need[meeting.request.sender_id] += 1
        need[meeting.request.recipient_id] += 1
    excess = [max(0, count - (len(slots) - len(busy[profile_id]))) for profile_id, count in need.items()]
    tables_left = sum(TABLES - taken[slot.pk] for slot in slots)
    lower_bound = max(max(excess, default=0), math.ceil(sum(excess) / 2), len(waiting) - tables_left)

    started = time.monotonic()
    result = services.schedule_block(block)
    seconds = time.monotonic() - started
    double = MeetingSeat.objects.values("profile", "slot").annotate(n=Count("pk")).filter(n__gt=1).count()
    return {
        "waiting": len(waiting),
        "first_fit": len(first_fit),
        "placed": result.placed,
        "unplaced": result.unplaced,
        "moved": result.moved,
        "lower_bound": lower_bound,
        "seconds": seconds,
        "double_bookings": double,
        "scheduled": Meeting.objects.filter(block=block, status="scheduled").count(),
    }


def report(args, flow: dict, quality: dict, pages: list) -> str:
    slots = HOURS * 60 // SLOT_MINUTES
    refusals = ", ".join(f"{count} {name}" for name, count in sorted(flow["errors"].items())) or "none"

    def row(step: str, count: int, seconds: float) -> str:
        return f"| {step} | {count:,} | {seconds:.1f} | {count / max(seconds, 0.001):,.0f} |"

    waiting, placed = quality["waiting"], quality["placed"]
    lines = [
        f"{args.participants} confirmed participants opted in; one block of {slots} slots of {SLOT_MINUTES} "
        f"minutes at {TABLES} tables, at most {slots} meetings and 20 open requests a person; "
        f"{args.requests:,} requests between random distinct pairs (seeded), then each recipient accepts: "
        "every other one at the first time both have free, the rest leaving the time to the organisers.",
        "",
        "| step | count | seconds | per second |",
        "| --- | ---: | ---: | ---: |",
        row("send a request (checks, locks, row, email to the recipient)", flow["sent"], flow["send_seconds"]),
        row(
            "accept it (locks, caps, slot and table, an email with a calendar entry to each)",
            flow["accepted"],
            flow["accept_seconds"],
        ),
        row("scheduler over the meetings left without a time", waiting, quality["seconds"]),
        "",
        f"Refused by the caps along the way, as designed: {refusals}. "
        f"Accepted at a chosen time: {flow['at_a_time']:,}.",
        "",
        f"**Scheduler quality.** Of the {waiting:,} accepted meetings without a time, first fit alone places "
        f"{quality['first_fit']:,}; with the improvement step the scheduler places **{placed:,}** "
        f"({quality['moved']} by moving another meeting), leaving {quality['unplaced']:,}. No schedule could "
        f"place at least {quality['lower_bound']:,} of them (people with more meetings than free slots, or "
        "fewer tables left than meetings), so "
        f"at most {waiting - quality['lower_bound']:,} could be placed. {quality['scheduled']:,} meetings now "
        f"have a time and a table; double bookings: {quality['double_bookings']}.",
        "",
        runner.table(pages),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
