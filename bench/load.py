"""Opening day: mixed traffic for one minute at 64 connections, and a lock held too long in it.

    python -m bench.load [--users 10000] [--hold-at 30] [--hold 6] [--duration 60] [--connections 64]

Visitors read the programme (the agenda page, session pages), schedule and calendar apps poll
the exports, a staff member keeps downloading the attendee list, and logged-in attendees
register (each its own user, one POST with the form's CSRF token, a pre-event ticked by three
in four), all at once against the `bench` conference. Each kind of request is a wrk process of
its own, all started together, so each has its own rate and latency; the connections are
shared out as in MIX. In the middle of the run another transaction holds the conference row
(as an organiser's long edit or a stalled registration would) for longer than the database lock timeout:
registrations waiting for it must get the friendly 503 page, never a 500, and save nothing.
Afterwards the database must be consistent: places and seats within capacity, nobody waiting
while a place is free, every new registration whole (its bookings, history and email).

Requests carry X-Forwarded-For as from the load balancer (the site trusts one proxy here), the
registrations from many client addresses, as attendees come from many networks.
"""

import datetime as dt
import os
import secrets
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from bench import runner
from bench.registration import drop_queued_deliveries, log_in, setup_django

EMAIL = "load-{:05d}@example.org"
STAFF_EMAIL = "staff@example.org"
# Connections of each kind out of 64 (scaled to --connections), and wrk threads for each.
MIX = {"agenda": (16, 2), "sessions": (16, 2), "exports": (12, 2), "csv": (2, 1), "registrations": (18, 2)}
SESSION_PAGES = 60
# Registering users per client address: well under the per-address limit of a minute.
USERS_PER_ADDRESS = 20
# What the 503 page says; a 5xx without it is not the friendly page.
BUSY_TEXT = "very busy"
# Slower than this is a failure to report, not a latency: far above any answer the site should give.
WRK_TIMEOUT = 30


@dataclass
class Kind:
    key: str
    label: str
    paths: list[str]
    connections: int
    threads: int
    headers: dict[str, str] = field(default_factory=dict)
    script: Path | None = None


def main() -> None:
    parser = runner.arguments(__doc__.splitlines()[0])
    parser.set_defaults(sessions=300, attendees=2000, duration=60, connections=64)
    parser.add_argument("--users", type=int, default=10_000, help="users ready to register (each registers once)")
    parser.add_argument("--hold-at", type=float, default=30, help="seconds into the run the lock is taken")
    parser.add_argument("--hold", type=float, default=6, help="seconds the conference row stays locked")
    args = parser.parse_args()
    if args.duration > 60 or args.hold_at + args.hold > args.duration:
        sys.exit("bench: at most 60 s of load, with the lock held inside it.")
    # The load balancer in front adds the client's address to X-Forwarded-For.
    os.environ["TRUSTED_PROXY_COUNT"] = "1"
    load_before = os.getloadavg()[0]
    log = runner.LOGS / "gunicorn.log"
    with runner.running_site(
        sessions=args.sessions, attendees=args.attendees, workers=args.workers, threads=args.threads, seed=args.seed
    ) as site:
        setup_django(site.env)
        lock_timeout = database_lock_timeout()
        log_start = log.stat().st_size
        conference, choices = prepare()
        csrf = secrets.token_hex(16)
        cookies = log_in(args.users, email=EMAIL)
        with tempfile.TemporaryDirectory() as tmp:
            kinds = plan(site, conference, choices, cookies, csrf, args, Path(tmp))
            for kind in kinds:  # a site that has been up: every page already in the cache
                for path in kind.paths:
                    site.get(path, kind.headers)
            results, statuses, hold = run(site, kinds, conference.pk, args, Path(tmp))
        outcome = audit(conference, choices)
        server_log = count_log(log.read_bytes()[log_start:].decode(errors="replace"))
        drop_queued_deliveries()
    broken = check(results, statuses, hold, outcome, server_log, lock_timeout)
    runner.write_section(
        "load",
        title="Opening day: mixed load, a lock held too long",
        command=" ".join(["python -m bench.load", *sys.argv[1:]]),
        body=report(
            site, args, kinds, choices, results, statuses, hold, outcome, server_log, lock_timeout, broken, load_before
        ),
        site=site,
    )
    if broken:
        sys.exit("bench: " + "; ".join(broken))


def prepare():
    """Remove the registrations and users of an earlier run; the bench conference and the
    bookable sessions the registering users choose from (None: no pre-event)."""
    from django.core.cache import cache

    from agenda.models import Conference, Session
    from outbox.models import OutgoingEmail
    from registration.models import Registration, User

    cache.delete_pattern("allauth:rl:*")
    earlier = Registration.objects.filter(user__email__startswith="load-")
    OutgoingEmail.objects.filter(to__startswith="load-").delete()
    earlier.delete()
    User.objects.filter(email__startswith="load-").delete()
    conference = Conference.objects.get(slug="bench")
    bookable = Session.objects.with_sign_up().filter(conference=conference).order_by("start", "pk")
    # The first pre-event (most seats) and the first workshop of each later day (fewer).
    days = {}
    for session in bookable:
        days.setdefault(session.start.astimezone(conference.tz).date(), session)
    return conference, [None, *days.values()]


def plan(site: runner.Site, conference, choices, cookies: list[str], csrf: str, args, tmp: Path) -> list[Kind]:
    from agenda.models import Session
    from registration.forms import privacy_digest
    from registration.selectors import privacy_statement

    slug = conference.slug
    days = [
        conference.start_date + dt.timedelta(days=n)
        for n in range((conference.end_date - conference.start_date).days + 1)
    ]
    codes = list(Session.objects.filter(conference=conference).order_by("start", "pk").values_list("code", flat=True))
    sampled = codes[:: max(1, len(codes) // SESSION_PAGES)][:SESSION_PAGES]
    session_paths = [f"/{slug}/agenda/{code}/" for code in sampled]
    shares = {key: max(threads, round(count * args.connections / 64)) for key, (count, threads) in MIX.items()}
    users = tmp / "users.tsv"
    lines = []
    for index, cookie in enumerate(cookies, start=1):
        choice = choices[index % len(choices)]
        form = {
            "csrfmiddlewaretoken": csrf,
            "given_name": "Elźbieta",
            "family_name": "Bieńkowska",
            "organisation": "Klaster Obróbki Metali",
            "organisation_type": "cluster",
            "country": "PL",
            "language": "en",
            "privacy_agreed": "on",
            "privacy_digest": privacy_digest(privacy_statement(conference)),
            **({"pre_events": choice.pk} if choice else {}),
        }
        address = f"10.{index // USERS_PER_ADDRESS // 256 % 256}.{index // USERS_PER_ADDRESS % 256}.1"
        lines.append(f"{cookie}; csrftoken={csrf}\t{address}\t{urlencode(form)}\n")
    users.write_text("".join(lines))
    script = tmp / "registrations.lua"
    script.write_text(
        REGISTRATION_SCRIPT.format(
            users=lua(str(users)),
            out=lua(str(tmp / "registrations.out")),
            path=lua(f"/{slug}/register/"),
            origin=lua(site.origin),
            threads=MIX["registrations"][1],
        )
    )
    return [
        Kind(
            "agenda",
            "agenda page (each day in turn)",
            [f"/{slug}/agenda/?day={day}" for day in days],
            shares["agenda"],
            MIX["agenda"][1],
        ),
        Kind(
            "sessions",
            f"session pages ({len(session_paths)} in turn)",
            session_paths,
            shares["sessions"],
            MIX["sessions"][1],
        ),
        Kind(
            "exports",
            "`schedule.json` and `agenda.ics` in turn",
            [f"/{slug}/schedule.json", f"/{slug}/agenda.ics"],
            shares["exports"],
            MIX["exports"][1],
        ),
        Kind(
            "csv",
            "staff: attendee list CSV (export permission)",
            [f"/{slug}/staff/attendees.csv"],
            shares["csv"],
            MIX["csv"][1],
            headers={"Cookie": site.session_cookie(STAFF_EMAIL)},
        ),
        Kind(
            "registrations",
            "registration POSTs (a new user each)",
            [f"/{slug}/register/"],
            shares["registrations"],
            MIX["registrations"][1],
            script=script,
        ),
    ]


def lua(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Each thread takes every `threads`-th user from the file, so no user registers twice; the
# statuses, 503s with the friendly page and the time of each 5xx go to `out` when wrk is done.
REGISTRATION_SCRIPT = """
local out, path, origin, step = {out}, {path}, {origin}, {threads}
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  users, statuses, errors = {{}}, {{}}, {{}}
  sent, friendly, reused = 0, 0, 0
  for line in io.lines({users}) do
    local cookie, address, body = line:match("^([^\\t]*)\\t([^\\t]*)\\t(.*)$")
    table.insert(users, {{cookie = cookie, address = address, body = body}})
  end
  following = id
end

function request()
  if following > #users then  -- all have registered: they come again and are told so (409)
    following = id
    reused = reused + 1
  end
  local user = users[following]
  following = following + step
  sent = sent + 1
  local headers = {{}}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Cookie"] = user.cookie
  headers["X-Forwarded-For"] = user.address
  headers["Origin"] = origin
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  return wrk.format("POST", path, headers, user.body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 500 then
    table.insert(errors, status .. " " .. os.time())
    if status == 503 and body:find("{busy}", 1, true) then friendly = friendly + 1 end
  end
end

function done(summary, latency, requests)
  local file = io.open(out, "w")
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do file:write("status ", status, " ", count, "\\n") end
    for _, error in ipairs(thread:get("errors")) do file:write("error ", error, "\\n") end
    file:write("sent ", thread:get("sent"), "\\n")
    file:write("friendly ", thread:get("friendly"), "\\n")
    file:write("reused ", thread:get("reused"), "\\n")
  end
  file:close()
end
""".replace("{busy}", BUSY_TEXT)


@dataclass(frozen=True)
class Hold:
    started: float
    ended: float


@dataclass
class Statuses:
    """What the registration script saw."""

    by_status: Counter
    error_times: list[tuple[int, int]]
    sent: int
    friendly: int
    reused: int

    @property
    def in_flight(self) -> int:
        """POSTs sent but not answered when wrk stopped: the server may still have saved them."""
        return self.sent - sum(self.by_status.values())


def errors_outside(statuses: Statuses, hold: Hold, lock_timeout: float) -> int:
    """5xx answers outside the lock window, widened by a second of clock resolution either
    side and by the lock timeout after it (a POST that began waiting just before the end)."""
    window = (hold.started - 1, hold.ended + lock_timeout + 1)
    return sum(1 for _status, at in statuses.error_times if not window[0] <= at <= window[1])


def database_lock_timeout() -> float:
    """The server's lock timeout in seconds, as PostgreSQL applies it to its connections."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT setting::float / 1000 FROM pg_settings WHERE name = 'lock_timeout'")
        return cursor.fetchone()[0]


def read_statuses(path: Path) -> Statuses:
    by_status, error_times, totals = Counter(), [], Counter()
    for line in path.read_text().splitlines():
        name, *values = line.split()
        if name == "status":
            by_status[int(values[0])] += int(values[1])
        elif name == "error":
            error_times.append((int(values[0]), int(values[1])))
        else:
            totals[name] += int(values[0])
    return Statuses(by_status, error_times, totals["sent"], totals["friendly"], totals["reused"])


def hold_conference(conference_id: int, *, at: float, seconds: float) -> Hold:
    """Wait `at` seconds, then keep the conference row locked for `seconds` with the lock a
    writer takes (an organiser's UPDATE, another registration), as a transaction that stalls
    would; every registration needs that lock first."""
    from django.db import connection, transaction

    from agenda.models import Conference

    time.sleep(at)
    try:
        with transaction.atomic():
            list(
                Conference.objects.select_for_update(no_key=True).filter(pk=conference_id).values_list("pk", flat=True)
            )
            started = time.time()
            time.sleep(seconds)
            ended = time.time()
    finally:
        connection.close()
    return Hold(started, ended)


def run(site: runner.Site, kinds: list[Kind], conference_id: int, args, tmp: Path) -> tuple[dict, Statuses, Hold]:
    """Every kind at once for the run's duration, and the lock held in the middle of it."""
    with ThreadPoolExecutor(max_workers=len(kinds) + 1) as pool:
        futures = {
            kind.key: pool.submit(
                site.measure,
                kind.paths,
                label=kind.label,
                connections=kind.connections,
                threads=kind.threads,
                duration=args.duration,
                warmup=0,
                headers=kind.headers,
                script=kind.script,
                timeout=WRK_TIMEOUT,
            )
            for kind in kinds
        }
        hold = pool.submit(hold_conference, conference_id, at=args.hold_at, seconds=args.hold)
        results = {key: future.result() for key, future in futures.items()}
    return results, read_statuses(tmp / "registrations.out"), hold.result()


def audit(conference, choices) -> dict:
    """The database after the run: capacity, queues, and each new registration whole."""
    from django.db.models import Count, Q

    from agenda.models import Session
    from outbox.models import OutgoingEmail
    from registration.models import Booking, Registration, RegistrationChange

    conference.refresh_from_db()
    registrations = Registration.objects.filter(conference=conference)
    confirmed = registrations.filter(status=Registration.Status.CONFIRMED).count()
    waitlisted = registrations.filter(status=Registration.Status.WAITLISTED).count()
    seats = []
    for session in Session.objects.filter(conference=conference, kind__in=Session.BOOKABLE_KINDS).select_related(
        "room"
    ):
        bookings = Booking.objects.filter(session=session)
        taken = bookings.filter(status=Booking.Status.CONFIRMED).count()
        queued = bookings.filter(
            status=Booking.Status.WAITLISTED, registration__status=Registration.Status.CONFIRMED
        ).count()
        seated_unconfirmed = (
            bookings.filter(status=Booking.Status.CONFIRMED)
            .exclude(registration__status=Registration.Status.CONFIRMED)
            .count()
        )
        seats.append((session.code, session.seats, taken, queued, seated_unconfirmed))
    new = (
        registrations.filter(user__email__startswith="load-")
        .select_related("user")
        .annotate(
            registered=Count("changes", filter=Q(changes__action=RegistrationChange.Action.REGISTERED), distinct=True)
        )
        .prefetch_related("bookings")
    )
    # The outbox knows people by address, not by registration.
    announced = Counter(
        OutgoingEmail.objects.filter(
            conference=conference,
            to__startswith="load-",
            kind__in=[Registration.Status.CONFIRMED, Registration.Status.WAITLISTED],
        ).values_list("to", flat=True)
    )
    incomplete = []
    for registration in new:
        index = int(registration.user.email.split("-")[1].split("@")[0])
        choice = choices[index % len(choices)]
        booked = [booking.session_id for booking in registration.bookings.all()]
        whole = registration.registered == 1 and announced[registration.user.email] == 1
        if not whole or booked != ([choice.pk] if choice else []):
            incomplete.append(registration.user.email)
    return {
        "capacity": conference.capacity,
        "registrations": registrations.count(),
        "confirmed": confirmed,
        "waitlisted": waitlisted,
        "distinct_numbers": registrations.values("number").distinct().count(),
        "seats": seats,
        "new": len(new),
        "new_confirmed": sum(r.status == Registration.Status.CONFIRMED for r in new),
        "incomplete": incomplete,
    }


def count_log(text: str) -> Counter:
    """The server's own count: 500s (Django logs each), 503s (our middleware logs each), tracebacks."""
    return Counter(
        {
            "500": text.count("Internal Server Error"),
            "503": text.count("Database unavailable for"),
            "traceback": text.count("Traceback"),
        }
    )


def check(
    results: dict, statuses: Statuses, hold: Hold, outcome: dict, server_log: Counter, lock_timeout: float
) -> list[str]:
    broken = []
    for key, result in results.items():
        if key != "registrations" and result.errors:
            broken.append(f"{result.label}: {result.bad_responses} non-2xx/3xx, {result.socket_errors} socket errors")
    if server_log["500"] or server_log["traceback"] or statuses.by_status[500]:
        broken.append(f"server errors: {dict(server_log)}, registrations answered 500 {statuses.by_status[500]} times")
    unexpected = {status: n for status, n in statuses.by_status.items() if status not in (302, 503)}
    if unexpected:
        broken.append(f"registrations answered {unexpected}")
    if statuses.friendly != statuses.by_status[503]:
        broken.append(f"{statuses.by_status[503] - statuses.friendly} 503s without the friendly page")
    if errors_outside(statuses, hold, lock_timeout):
        broken.append(f"{errors_outside(statuses, hold, lock_timeout)} 5xx outside the lock window")
    if statuses.by_status[503] == 0:
        broken.append("no registration met the held lock: no 503 to check")
    if statuses.reused:
        broken.append(f"users ran out {statuses.reused} times: raise --users")
    if not statuses.by_status[302] <= outcome["new"] <= statuses.by_status[302] + statuses.in_flight:
        broken.append(
            f"{outcome['new']} new registrations saved for {statuses.by_status[302]} accepted "
            f"and {statuses.in_flight} unanswered POSTs"
        )
    if outcome["confirmed"] > outcome["capacity"]:
        broken.append(f"{outcome['confirmed']} confirmed for {outcome['capacity']} places")
    if outcome["waitlisted"] and outcome["confirmed"] < outcome["capacity"]:
        broken.append("people wait while places are free")
    if outcome["distinct_numbers"] != outcome["registrations"]:
        broken.append("registration numbers repeat")
    for code, seats, taken, queued, seated_unconfirmed in outcome["seats"]:
        if seats is not None and taken > seats:
            broken.append(f"{code}: {taken} seats taken of {seats}")
        if queued and seats is not None and taken < seats:
            broken.append(f"{code}: confirmed attendees queue while seats are free")
        if seated_unconfirmed:
            broken.append(f"{code}: seats held by registrations that are not confirmed")
    if outcome["incomplete"]:
        broken.append(f"{len(outcome['incomplete'])} registrations without their bookings, history or email")
    return broken


def report(
    site, args, kinds, choices, results, statuses, hold, outcome, server_log, lock_timeout, broken, load_before
) -> str:
    together = (
        f"| **all together** | {sum(kind.connections for kind in kinds)} "
        f"| {sum(r.requests for r in results.values()):,} | {sum(r.rps for r in results.values()):,.0f} | – | – "
        f"| {sum(r.bad_responses for r in results.values())} | {sum(r.socket_errors for r in results.values())} |"
    )
    rows = runner.table([results[kind.key] for kind in kinds]) + "\n" + together
    new_waitlisted = outcome["new"] - outcome["new_confirmed"]
    chosen = {choice.code for choice in choices if choice}
    seats = "; ".join(
        f"`{code}` {taken}/{seats}" + (f", {queued} queued" if queued else "")
        for code, seats, taken, queued, _unconfirmed in outcome["seats"]
        if code in chosen
    )
    outcome_rows = [
        ("server errors (500) in the server log / seen by clients", f"{server_log['500']} / {statuses.by_status[500]}"),
        (
            "non-2xx/3xx answers to the pages, exports and CSV",
            f"{sum(results[k.key].bad_responses for k in kinds if k.key != 'registrations')}",
        ),
        ("registration answers", ", ".join(f"{n:,} × {s}" for s, n in sorted(statuses.by_status.items()))),
        ("503s with the “very busy” page / logged by the middleware", f"{statuses.friendly:,} / {server_log['503']:,}"),
        (
            "lock held",
            f"{hold.ended - hold.started:.1f} s, from {args.hold_at:.0f} s into the run; "
            f"5xx outside it (and the lock timeout after it): {errors_outside(statuses, hold, lock_timeout)}",
        ),
        (
            "registrations saved / accepted (302) / still in flight at the end",
            f"{outcome['new']:,} / {statuses.by_status[302]:,} / {statuses.in_flight}",
        ),
        ("of them confirmed / on the waiting list", f"{outcome['new_confirmed']:,} / {new_waitlisted:,}"),
        ("places taken", f"{outcome['confirmed']:,} of {outcome['capacity']:,}, {outcome['waitlisted']:,} waiting"),
        ("seats taken of the sessions chosen (every other bookable one checked too)", seats),
        ("new registrations missing bookings, history or email", f"{len(outcome['incomplete'])}"),
    ]
    outcome_table = "\n".join(
        ["| check | |", "| --- | --- |", *(f"| {name} | {value} |" for name, value in outcome_rows)]
    )
    verdict = "All as expected." if not broken else "**Broken:** " + "; ".join(broken) + "."
    return (
        f"Load average {load_before:.1f} before the run (other engineers' runs share the machine). "
        f"{args.duration} s of load, every kind at once, at {sum(kind.connections for kind in kinds)} connections; "
        f"`bench` conference of {args.sessions} sessions and {args.attendees:,} attendees "
        f"({outcome['capacity'] - args.attendees:,} places left at the start). Each kind is a wrk process of its own "
        "with the connections shown, so its rate and latency are its own; every page was in the cache before. "
        f"Each registration is a new logged-in user (one POST with the form's CSRF token; three in four tick a "
        f"pre-event or workshop), from {USERS_PER_ADDRESS} users per client address in `X-Forwarded-For` "
        "(the site trusts one proxy, the load balancer).\n\n"
        + rows
        + "\n\n"
        + outcome_table
        + "\n\n"
        + verdict
        + " Latencies include the lock window: each POST that met the held lock waited "
        f"{lock_timeout:g} s (PostgreSQL's `lock_timeout`) for its 503"
        + (
            ", and a sync worker waiting on a lock serves nobody else, so readers queued meanwhile."
            if site.threads == 1
            else "."
        )
    )


if __name__ == "__main__":
    main()
