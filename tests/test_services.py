import json
import sys
from contextlib import closing

import psycopg2
import redis

from tests import services


def test_throwaway_redis_answers_then_stops():
    with services.throwaway_redis() as url:
        client = redis.Redis.from_url(url)
        client.set("conference", "Valencia")
        assert client.get("conference") == b"Valencia"

    assert not services.answers(url)


def test_throwaway_postgres_answers_then_stops():
    with (
        services.throwaway_postgres() as url,
        closing(psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")) as conn,
        conn.cursor() as cursor,
    ):
        cursor.execute("SELECT current_setting('server_encoding'), current_user")
        assert cursor.fetchone() == ("UTF8", "postgres")

    assert not services.answers(url)


def test_main_starts_both_when_none_answers_and_the_command_sees_them(monkeypatch, tmp_path):
    closed = [services.free_port(), services.free_port()]
    monkeypatch.setenv("DATABASE_URL", f"postgres://postgres@127.0.0.1:{closed[0]}/conference")
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{closed[1]}/0")
    seen = tmp_path / "seen.json"
    # The command reports the URLs it was given and whether both servers answer them.
    probe = (
        "import json, os, sys, psycopg2, redis\n"
        "database, cache = os.environ['DATABASE_URL'], os.environ['REDIS_URL']\n"
        "psycopg2.connect(database.rsplit('/', 1)[0] + '/postgres').close()\n"
        "redis.Redis.from_url(cache).ping()\n"
        f"json.dump([database, cache], open({str(seen)!r}, 'w'))\n"
    )

    status = services.main([sys.executable, "-c", probe])

    assert status == 0
    database_url, redis_url = json.loads(seen.read_text())
    assert f":{closed[0]}/" not in database_url
    assert f":{closed[1]}/" not in redis_url
    assert not services.answers(database_url)
    assert not services.answers(redis_url)
