"""`make run`: the demo site on this machine, in one command.

Migrates, seeds the demo conferences and serves them with gunicorn, a Celery worker and
beat. Where PostgreSQL or Redis does not answer it falls back to SQLite, in-process tasks
and console email, and says so. Ctrl-C stops everything.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/conference"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with closing(socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), timeout=1)):
            return True
    except OSError:
        return False


def postgres_ready(url: str) -> bool:
    """True when the server answers and the database exists (it is created if missing)."""
    if not answers(url):
        return False
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    try:
        with closing(psycopg2.connect(url.replace(parts.path, "/postgres"), connect_timeout=3)) as conn:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if cursor.fetchone() is None:
                    cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg2.Error as exc:
        print(f"PostgreSQL at {parts.hostname}:{parts.port} refused us: {exc}".strip(), file=sys.stderr)
        return False
    return True


def configure(env: dict) -> None:
    """Point `env` at PostgreSQL and Redis when they answer; else at the fallbacks, said in one line."""
    env.setdefault("DEBUG", "true")
    fallbacks = []
    database_url = env.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if database_url.startswith("postgres") and not postgres_ready(database_url):
        database_url = f"sqlite:///{ROOT / 'db.sqlite3'}"
        fallbacks.append("SQLite (db.sqlite3) instead of PostgreSQL")
    env["DATABASE_URL"] = database_url
    redis_url = env.get("REDIS_URL") or DEFAULT_REDIS_URL
    if answers(redis_url):
        env["REDIS_URL"] = redis_url
    else:
        env["REDIS_URL"] = ""
        fallbacks.append("in-process cache and tasks instead of Redis and Celery")
    if not env.get("EMAIL_URL"):
        fallbacks.append("emails printed here instead of sent")
    if fallbacks:
        print(
            f"Demo fallback: {'; '.join(fallbacks)}. Set DATABASE_URL, REDIS_URL and EMAIL_URL for the real services.",
            flush=True,
        )


def stop(signum, frame) -> None:
    # Ctrl-C, or a process manager's SIGTERM, stops the children. Set explicitly: a shell
    # that starts us in the background makes us ignore SIGINT otherwise.
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    env = dict(os.environ)
    configure(env)
    port = env.get("PORT", "8000")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input"], env=env, check=True)
    subprocess.run([*manage, "seed_demo"], env=env, check=True)

    bin_dir = Path(sys.executable).parent
    commands = [
        [
            str(bin_dir / "gunicorn"),
            "conference.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers=2",
            "--no-control-socket",
        ]
    ]
    if env["REDIS_URL"]:
        commands.append([str(bin_dir / "celery"), "-A", "conference", "worker", "--beat", "--loglevel=INFO"])
    processes = [subprocess.Popen(command, env=env, cwd=ROOT) for command in commands]
    print(
        f"\nServing http://127.0.0.1:{port}/  ·  admin: http://127.0.0.1:{port}/admin/"
        "\nLog in as organiser@example.org or staff@example.org with the password above. Ctrl-C stops.\n",
        flush=True,
    )
    status = 0
    try:
        while all(process.poll() is None for process in processes):
            time.sleep(1)
        print("A server process stopped by itself (see above); stopping the others.", file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            process.wait(timeout=20)
    return status


if __name__ == "__main__":
    sys.exit(main())
