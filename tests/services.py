"""Run a command (the test suite) with PostgreSQL and Redis answering.

Uses the servers in DATABASE_URL and REDIS_URL (default: the usual local ports). Where
one does not answer but its binaries exist, starts a throwaway instance on a free port
for the length of the command. Where neither is possible it fails loudly: the suite
never runs without the real services.

Every run has an id (TEST_RUN_ID) that its cache keys and Celery queues carry; in CI its
test databases carry it too. When the command ends, whatever it exited with, the run's
keys, queues and (in CI) databases are removed, so that runs side by side on one
PostgreSQL and one Redis neither meet nor leave anything behind.

    python -m tests.services -- pytest ...
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/conference"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with closing(socket.create_connection((parts.hostname or "127.0.0.1", parts.port), timeout=1)):
            return True
    except OSError:
        return False


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    # Debian keeps the PostgreSQL server binaries off the PATH.
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    return str(candidates[0]) if candidates else None


def wait_for(url: str, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not answers(url):
        if time.monotonic() > deadline:
            sys.exit(f"services: the throwaway {what} did not start within {seconds:.0f} s.")
        time.sleep(0.2)


def run_as_postgres_user() -> dict:
    """initdb refuses to run as root; run the throwaway cluster as an unprivileged user."""
    if os.geteuid() != 0:
        return {}
    import pwd

    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return {"user": entry.pw_uid, "group": entry.pw_gid}
    sys.exit("services: running as root and no unprivileged user to run PostgreSQL as.")


class ThrowawayPostgres:
    """A PostgreSQL cluster of our own on a free port; it can be stopped and started again
    with its data (the failure tests do), and is deleted by `destroy`."""

    def __init__(self) -> None:
        self.initdb, self.pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
        if not (self.initdb and self.pg_ctl):
            sys.exit(
                "services: PostgreSQL does not answer and initdb/pg_ctl are not installed. "
                "Start PostgreSQL or set DATABASE_URL (see README)."
            )
        self.port = free_port()
        self.data = tempfile.mkdtemp(prefix="conference-pg-")
        self.owner = run_as_postgres_user()
        if self.owner:
            os.chown(self.data, self.owner["user"], self.owner["group"])
        self._quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT, **self.owner}
        subprocess.run(
            [self.initdb, "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8"], check=True, **self._quiet
        )

    def url(self, database: str = "conference") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        subprocess.run([self.pg_ctl, "-D", self.data, "-o", options, "-w", "start"], check=True, **self._quiet)
        wait_for(self.url(), "PostgreSQL")

    def stop(self) -> None:
        """Stop at once, as a crash would: open connections are cut, nothing is flushed."""
        subprocess.run([self.pg_ctl, "-D", self.data, "-m", "immediate", "-w", "stop"], check=False, **self._quiet)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.data, ignore_errors=True)


class ThrowawayRedis:
    """A Redis server of our own on a free port, without persistence; it can be stopped and
    started again (empty)."""

    def __init__(self) -> None:
        self.server = find_binary("redis-server")
        if not self.server:
            sys.exit("services: Redis does not answer and redis-server is not installed. Start Redis or set REDIS_URL.")
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        wait_for(self.url(), "Redis")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@contextmanager
def throwaway_postgres():
    server = ThrowawayPostgres()
    print(f"services: starting a throwaway PostgreSQL on port {server.port}", flush=True)
    try:
        server.start()
        yield server.url()
    finally:
        server.destroy()


@contextmanager
def throwaway_redis():
    server = ThrowawayRedis()
    print(f"services: starting a throwaway Redis on port {server.port}", flush=True)
    try:
        server.start()
        yield server.url()
    finally:
        server.stop()


def drop_run_databases(database_url: str, run_id: str) -> list[str]:
    """Drop the test databases named for this run (pytest-xdist adds a suffix per worker)."""
    import psycopg2

    parts = urlsplit(database_url)
    admin = psycopg2.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        dbname="postgres",
    )
    admin.autocommit = True
    with closing(admin), admin.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [f"test_conference_{run_id}%"])
        names = [name for (name,) in cursor.fetchall()]
        for name in names:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return names


def delete_run_keys(redis_url: str, run_id: str) -> int:
    """Delete the run's cache keys, Celery queues and kombu bindings: each carries `test-<run id>`."""
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"*test-{run_id}*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])
    client.close()
    return len(keys)


def clean_up(env: dict) -> None:
    run_id = env["TEST_RUN_ID"]
    try:
        dropped = drop_run_databases(env["DATABASE_URL"], run_id)
        deleted = delete_run_keys(env["REDIS_URL"], run_id)
    except Exception as error:  # a failed clean-up must not hide the run's result
        print(f"services: could not clean up after run {run_id}: {error}", file=sys.stderr, flush=True)
        return
    print(f"services: run {run_id} cleaned up ({len(dropped)} databases, {deleted} Redis keys)", flush=True)


def main(command: list[str]) -> int:
    if not command:
        sys.exit("usage: python -m tests.services -- COMMAND ...")
    env = dict(os.environ)
    env.setdefault("TEST_RUN_ID", uuid.uuid4().hex[:12])
    if env.get("CI") == "true":
        env.setdefault("TEST_DATABASE_ID", env["TEST_RUN_ID"])
    with ExitStack() as stack:
        env.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
        if not answers(env["DATABASE_URL"]):
            env["DATABASE_URL"] = stack.enter_context(throwaway_postgres())
        env.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
        if not answers(env["REDIS_URL"]):
            env["REDIS_URL"] = stack.enter_context(throwaway_redis())
        stack.callback(clean_up, env)
        process = subprocess.Popen(command, env=env)
        # Ctrl-C reaches the command too (one process group) and SIGTERM is passed on to it:
        # either way the command ends first and the clean-up runs after it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda signum, frame: process.terminate())
        return process.wait()


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments[:1] == ["--"]:
        arguments = arguments[1:]
    sys.exit(main(arguments))
