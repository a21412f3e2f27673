from collections import Counter

from bench.load import Hold, Statuses, check, errors_outside, read_statuses
from bench.runner import Result

HOLD = Hold(started=1_000.0, ended=1_006.0)


def result(label: str, *, bad: int = 0) -> Result:
    return Result(
        label, requests=100, seconds=60, rps=1.7, p50_ms=5, p99_ms=9, bad_responses=bad, socket_errors=0, connections=2
    )


def healthy_outcome(**overrides) -> dict:
    return {
        "capacity": 2200,
        "registrations": 2300,
        "confirmed": 2200,
        "waitlisted": 100,
        "distinct_numbers": 2300,
        "seats": [("s1", 500, 450, 0, 0), ("s11", 100, 100, 30, 0)],
        "new": 300,
        "new_confirmed": 200,
        "incomplete": [],
        **overrides,
    }


def statuses(**overrides) -> Statuses:
    fields = {
        "by_status": Counter({302: 295, 503: 4}),
        "error_times": [(503, 1_004), (503, 1_009)],
        "sent": 317,
        "friendly": 4,
        "reused": 0,
        **overrides,
    }
    return Statuses(**fields)


def test_read_statuses_adds_up_the_threads(tmp_path):
    out = tmp_path / "registrations.out"
    out.write_text(
        "status 302 10\nstatus 503 1\nerror 503 1004\nsent 12\nfriendly 1\nreused 0\n"
        "status 302 7\nsent 8\nfriendly 0\nreused 0\n"
    )

    seen = read_statuses(out)

    assert seen.by_status == Counter({302: 17, 503: 1})
    assert (seen.error_times, seen.sent, seen.friendly, seen.in_flight) == ([(503, 1004)], 20, 1, 2)


def test_errors_outside_counts_only_what_the_held_lock_cannot_explain():
    seen = statuses(error_times=[(503, 999), (503, 1_010), (503, 1_011), (500, 1_200)])

    assert errors_outside(seen, HOLD, lock_timeout=3) == 2


def test_check_passes_a_healthy_run():
    results = {"agenda": result("agenda"), "registrations": result("registrations", bad=4)}

    assert check(results, statuses(), HOLD, healthy_outcome(), Counter({"503": 4}), lock_timeout=3) == []


def test_check_names_what_broke():
    results = {"agenda": result("agenda", bad=1)}
    seen = statuses(by_status=Counter({302: 295, 503: 4, 500: 1}), friendly=3, error_times=[(500, 1_100)])
    outcome = healthy_outcome(
        confirmed=2201, new=400, incomplete=["load-00001@example.org"], seats=[("s11", 100, 90, 5, 0)]
    )

    broken = check(results, seen, HOLD, outcome, Counter({"500": 1}), lock_timeout=3)

    assert broken == [
        "agenda: 1 non-2xx/3xx, 0 socket errors",
        "server errors: {'500': 1}, registrations answered 500 1 times",
        "registrations answered {500: 1}",
        "1 503s without the friendly page",
        "1 5xx outside the lock window",
        "400 new registrations saved for 295 accepted and 17 unanswered POSTs",
        "2201 confirmed for 2200 places",
        "s11: confirmed attendees queue while seats are free",
        "1 registrations without their bookings, history or email",
    ]
