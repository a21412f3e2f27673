"""Run a command (the test suite) with PostgreSQL and Redis answering.

Uses the servers in DATABASE_URL and REDIS_URL (default: the usual local ports). Where
one does not answer but its binaries exist, starts a throwaway instance on a free port
for the length of the command. Where neither is possible it fails loudly: the suite
never runs without the real services.

    python -m tests.services -- pytest ...
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
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


@contextmanager
def throwaway_postgres():
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    if not (initdb and pg_ctl):
        sys.exit(
            "services: PostgreSQL does not answer and initdb/pg_ctl are not installed. "
            "Start PostgreSQL or set DATABASE_URL (see README)."
        )
    port = free_port()
    data = tempfile.mkdtemp(prefix="conference-pg-")
    owner = run_as_postgres_user()
    if owner:
        os.chown(data, owner["user"], owner["group"])
    print(f"services: starting a throwaway PostgreSQL on port {port}", flush=True)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT}
    subprocess.run([initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"], check=True, **quiet, **owner)
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run([pg_ctl, "-D", data, "-o", options, "-w", "start"], check=True, **quiet, **owner)
    try:
        url = f"postgres://postgres@127.0.0.1:{port}/conference"
        wait_for(url, "PostgreSQL")
        yield url
    finally:
        subprocess.run([pg_ctl, "-D", data, "-m", "immediate", "stop"], check=False, **quiet, **owner)
        shutil.rmtree(data, ignore_errors=True)


@contextmanager
def throwaway_redis(port: int | None = None):
    """A Redis without persistence for the length of the block; give the `port` of an
    earlier one to bring it back where its clients expect it (empty, as after a crash)."""
    server = find_binary("redis-server")
    if not server:
        sys.exit("services: Redis does not answer and redis-server is not installed. Start Redis or set REDIS_URL.")
    port = port or free_port()
    print(f"services: starting a throwaway Redis on port {port}", flush=True)
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        url = f"redis://127.0.0.1:{port}/0"
        wait_for(url, "Redis")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def main(command: list[str]) -> int:
    if not command:
        sys.exit("usage: python -m tests.services -- COMMAND ...")
    env = dict(os.environ)
    with ExitStack() as stack:
        env.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
        if not answers(env["DATABASE_URL"]):
            env["DATABASE_URL"] = stack.enter_context(throwaway_postgres())
        env.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
        if not answers(env["REDIS_URL"]):
            env["REDIS_URL"] = stack.enter_context(throwaway_redis())
        return subprocess.call(command, env=env)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments[:1] == ["--"]:
        arguments = arguments[1:]
    sys.exit(main(arguments))
