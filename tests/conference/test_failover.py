"""PostgreSQL and Redis fail under a running site (gunicorn on the production settings,
throwaway servers of its own): it answers a friendly 503 while the database is down and
heals by itself when it is back; without Redis it keeps serving pages, logins and sessions.

Run with `-s` to see the timings (docs/benchmarks.md).
"""

import statistics
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass

import psycopg2
import pytest

from tests.factories import PASSWORD
from tests.production import HTTPS, HttpClient, ProductionServer
from tests.services import ThrowawayPostgres, ThrowawayRedis

# Both tests share one site, so they run in one process.
pytestmark = [pytest.mark.xdist_group("failover"), pytest.mark.slow]

EMAIL = "agnieszka@example.pl"
OUTAGE_SECONDS = 5
RECOVERY_DEADLINE_SECONDS = 60


@dataclass
class Site:
    server: ProductionServer
    postgres: ThrowawayPostgres
    redis: ThrowawayRedis

    def client(self) -> HttpClient:
        return HttpClient(self.server.url, headers=HTTPS, timeout=20)

    def query(self, sql: str, params: list) -> list[tuple]:
        with closing(psycopg2.connect(self.postgres.url())) as connection, connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    postgres, redis = ThrowawayPostgres(), ThrowawayRedis()
    server = None
    try:
        postgres.start()
        redis.start()
        with closing(psycopg2.connect(postgres.url("postgres"))) as connection:
            connection.autocommit = True
            connection.cursor().execute("CREATE DATABASE conference")
        server = ProductionServer(database_url=postgres.url(), redis_url=redis.url())
        server.manage("migrate", "--no-input", "--verbosity", "0")
        server.create_user(EMAIL, PASSWORD)
        server.start()
        yield Site(server, postgres, redis)
    finally:
        if server:
            server.stop()
        redis.stop()
        postgres.destroy()


def test_the_site_is_a_friendly_503_while_postgresql_is_down_and_heals_by_itself(site):
    signed_in = site.client()
    assert signed_in.log_in(EMAIL, PASSWORD).status == 302

    site.postgres.stop()
    outage = []
    stopped = time.monotonic()
    try:
        while time.monotonic() - stopped < OUTAGE_SECONDS:
            outage += [
                ("page", signed_in.get("/")),
                ("health", site.client().get("/healthz")),
                ("form", site.client().log_in(EMAIL, PASSWORD)),
            ]
    finally:
        restarting = time.monotonic()
        site.postgres.start()
    accepting = time.monotonic()
    while (page := signed_in.get("/")).status != 200:
        assert page.status == 503, page.text
        assert time.monotonic() - accepting < RECOVERY_DEADLINE_SECONDS, "The site did not recover."
        time.sleep(0.1)
    recovered = time.monotonic()

    assert Counter(answer.status for _, answer in outage) == {503: len(outage)}
    for kind, answer in outage:
        if kind == "health":
            assert '"database": "unavailable"' in answer.text
        else:
            assert "We are very busy right now" in answer.text
            assert answer.headers["Retry-After"] == "30"
    log = site.server.log()
    assert "Database unavailable for POST /accounts/login/" in log
    assert "Internal Server Error" not in log
    # The session outlived the outage: the same visitor is still signed in.
    assert "Log out" in page.text
    latencies = [answer.seconds for _, answer in outage]
    print(
        f"\nPostgreSQL stopped for {restarting - stopped:.1f} s: {len(outage)} requests, all 503, "
        f"median {statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms. "
        f"Restart took {accepting - restarting:.2f} s; first 200 {recovered - accepting:.2f} s after it accepted "
        f"connections, {recovered - stopped:.1f} s of 503s in all; gunicorn not restarted."
    )


def test_pages_logins_sessions_and_sign_ups_work_while_redis_is_down(site):
    signed_in = site.client()
    assert signed_in.log_in(EMAIL, PASSWORD).status == 302

    site.redis.stop()
    try:
        started = time.monotonic()
        home = site.client().get("/")
        health = site.client().get("/healthz")
        newcomer = site.client()
        logged_in = newcomer.log_in(EMAIL, PASSWORD)
        newcomer_account = newcomer.get("/accounts/email/")
        old_session_account = signed_in.get("/accounts/email/")
        signed_up = site.client().post(
            "/accounts/signup/", {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD}
        )
        seconds = time.monotonic() - started
    finally:
        site.redis.start()

    assert home.status == 200
    assert "Conferences" in home.text
    assert health.status == 200
    assert '"cache": "unavailable"' in health.text
    assert logged_in.status == 302
    assert logged_in.headers["Location"] == "/"
    for account in (newcomer_account, old_session_account):
        assert account.status == 200
        assert EMAIL in account.text
    assert signed_up.status == 302
    assert signed_up.headers["Location"] == "/accounts/confirm-email/"
    # The confirmation email is saved in the outbox; the workers pick it up once Redis is back.
    assert site.query('SELECT status FROM outbox_outgoingemail WHERE "to" = %s', ["new@example.org"]) == [("queued",)]
    print(f"\nRedis down: 7 requests (page, health, login, 2 sessions, sign-up) answered in {seconds:.2f} s.")
