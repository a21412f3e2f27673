from bench.floor import PAYLOAD, Target, bare_application, goal, median_result, ratio_table
from bench.runner import Result


def result(label: str, rps: float, errors: int = 0) -> Result:
    return Result(
        label=label,
        requests=int(rps * 10),
        seconds=10,
        rps=rps,
        p50_ms=1.0,
        p99_ms=9.0,
        bad_responses=errors,
        socket_errors=0,
        connections=16,
    )


def test_bare_application_answers_the_payload():
    started = []

    body = b"".join(bare_application({}, lambda status, headers: started.append((status, dict(headers)))))

    assert body == PAYLOAD
    assert started == [("200 OK", {"Content-Type": "text/plain", "Content-Length": "1024"})]


def test_median_result_is_the_middle_round():
    rounds = [result("page", 300), result("page", 100), result("page", 200)]

    assert median_result(rounds).rps == 200


def test_ratio_table_compares_each_round_with_the_floor_of_the_same_round():
    floors = [result("bare", 1000), result("bare", 500), result("bare", 2000)]
    # Half the floor in every round, however busy the machine was in each.
    page = [result("page", 500), result("page", 250, errors=2), result("page", 1000)]

    table = ratio_table([(median_result(floors), floors), (median_result(page), page)], floors)

    assert "| bare | 1,000 | 1,000 / 500 / 2,000 | 1.0 ms | 9.0 ms | 100.0 % |  |  |  | 0 |" in table
    assert "| page | 500 | 500 / 250 / 1,000 | 1.0 ms | 9.0 ms | 50.0 % |  |  |  | 2 |" in table


def test_ratio_table_compares_with_pretalx_and_checks_the_goals():
    floors = [result("bare", 1000), result("bare", 1000)]
    session = Target("session", "/bench/agenda/s2/", page=True, pretalx=10, pretalx_what="talk page")
    export = Target("json", "/bench/schedule.json", export=True, pretalx=2)
    rows = [
        ([result("session", 600), result("session", 400)], session),
        ([result("json", 150), result("json", 300)], export),
    ]

    table = ratio_table(
        [(median_result(rounds), rounds) for rounds, _target in rows], floors, {"session": session, "json": export}
    )

    assert "| session | 600 | 600 / 400 | 1.0 ms | 9.0 ms | 50.0 % | 10.0 (talk page) | 60× | met | 0 |" in table
    assert "| json | 300 | 150 / 300 | 1.0 ms | 9.0 ms | 22.5 % | 2.0 | 150× | met | 0 |" in table


def test_goal_says_what_is_missed():
    page = Target("agenda", "/bench/agenda/", page=True, pretalx=100)
    export = Target("ics", "/bench/agenda.ics", export=True, pretalx=10)
    static = Target("static", "/static/site.css")

    assert goal(page, result("agenda", 1500), 0.49) == "missed (share < 50 %, < 20× pretalx)"
    assert goal(page, result("agenda", 2000, errors=1), 0.5) == "missed (errors)"
    assert goal(export, result("ics", 999), 0.1) == "missed (< 100× pretalx)"
    assert goal(export, result("ics", 1000), 0.1) == "met"
    assert goal(static, result("static", 10), 0.01) == ""
    assert goal(None, result("bare", 10), 1.0) == ""
