"""The shared benchmark runner: the site under gunicorn with the production settings, measured
with wrk, figures written into docs/benchmarks.md. See bench/README.md for the API.

    with runner.running_site(sessions=1000, attendees=100_000) as site:
        results = [site.measure("/healthz"), site.measure(site.static_url("css/site.css"))]
    runner.write_section("baseline", title="...", command="python -m bench.baseline", body=runner.table(results))
"""

import argparse
import http.client
import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from conference.devserver import postgres_ready

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
LOGS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
# TLS ends at the load balancer in production; this is what it tells the site.
FORWARDED_HTTPS = {"X-Forwarded-Proto": "https"}


@dataclass(frozen=True)
class Result:
    """What wrk measured for one URL (or one mix of URLs)."""

    label: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    # Responses outside 2xx/3xx, and connections that failed or timed out.
    bad_responses: int
    socket_errors: int
    connections: int

    @property
    def errors(self) -> int:
        return self.bad_responses + self.socket_errors


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_wrk() -> str:
    """The path of wrk, installing Debian's package when it is missing and we may."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("bench: wrk is missing; install it with `sudo apt-get install wrk`.")
    print("bench: installing wrk (apt-get)", flush=True)
    quiet = {"stdout": subprocess.DEVNULL, "check": True}
    subprocess.run(["apt-get", "update", "-q"], **quiet)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "wrk"], env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"), **quiet
    )
    return shutil.which("wrk") or sys.exit("bench: wrk did not install.")


def production_env(*, port: int) -> dict[str, str]:
    """The environment of a production deployment on this machine: DEBUG off, a fresh random
    SECRET_KEY, the caller's PostgreSQL and Redis. TLS is assumed terminated in front
    (requests carry X-Forwarded-Proto: https), so the SSL redirect stays on."""
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
    if missing:
        sys.exit(f"bench: set {' and '.join(missing)}: the benchmark fills that database and uses that Redis.")
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DEBUG", "EMAIL_URL"}}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL=f"https://127.0.0.1:{port}",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    """Run a manage.py command with `env`; its output, or exit with its errors."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode:
        sys.exit(f"bench: manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


class Site:
    """The site running under gunicorn on 127.0.0.1:`port`."""

    def __init__(
        self,
        *,
        env: dict[str, str],
        port: int,
        workers: int,
        threads: int,
        seed_seconds: float | None,
        app: str = "conference.wsgi",
        ready_path: str = "/healthz",
    ):
        self.env = env
        self.app = app
        self.ready_path = ready_path
        self.port = port
        self.workers = workers
        self.threads = threads
        self.seed_seconds = seed_seconds
        self.base_url = f"http://127.0.0.1:{port}"
        # What a browser behind the TLS-terminating proxy sends; POSTs need it for CSRF.
        self.origin = f"https://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None
        self._wrk = ensure_wrk()

    def start(self) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        log = open(LOGS / "gunicorn.log", "ab")  # noqa: SIM115  (closed with the process)
        command = [
            str(BIN / "gunicorn"),
            self.app,
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={self.workers}",
            f"--threads={self.threads}",
            "--worker-class=gthread" if self.threads > 1 else "--worker-class=sync",
            # Its control socket sits at one path per user, shared by every gunicorn there.
            "--no-control-socket",
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 30
        while self.get(self.ready_path)[0] != 200:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                sys.exit(f"bench: gunicorn did not come up; see {LOGS / 'gunicorn.log'}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def pids(self) -> list[int]:
        """The gunicorn master and its workers, e.g. to read their memory from /proc."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [self.process.pid, *map(int, children)]

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """One request, redirects not followed: (status, body); status 0 when nothing answers."""
        with closing(http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)) as conn:
            try:
                conn.request("GET", path, headers={**FORWARDED_HTTPS, **(headers or {})})
                response = conn.getresponse()
                return response.status, response.read()
            except OSError:
                return 0, b""

    def static_url(self, name: str) -> str:
        """The URL pages use for a static file (its hashed name, as collectstatic wrote it)."""
        output = self.manage(
            "shell", "--no-imports", "-c", f"from django.templatetags.static import static; print(static({name!r}))"
        )
        return output.strip()

    def manage(self, *args: str) -> str:
        """A manage.py command against the same database and settings as the server."""
        return manage(self.env, *args)

    def session_cookie(self, email: str) -> str:
        """A Cookie header value logging `email` in, for pages that need a login."""
        code = (
            "from django.test import Client; from django.contrib.auth import get_user_model; "
            f"c = Client(); c.force_login(get_user_model().objects.get(email={email!r})); "
            "print(c.cookies['sessionid'].value)"
        )
        session_key = self.manage("shell", "--no-imports", "-c", code).strip()
        return f"sessionid={session_key}"

    def measure(
        self,
        paths: str | Sequence[str],
        *,
        label: str | None = None,
        connections: int = 16,
        duration: int = 10,
        warmup: int = 2,
        threads: int = 2,
        headers: dict[str, str] | None = None,
        script: Path | None = None,
        timeout: int | None = None,
    ) -> Result:
        """Load `paths` (one, or several taken in turn) with wrk for `duration` seconds after
        `warmup` seconds unmeasured. Each path must answer 2xx or 3xx once before; `script`
        replaces the path rotation with your own wrk Lua script. A response slower than
        `timeout` seconds (wrk's default: 2) counts as a socket error instead of a latency."""
        paths = [paths] if isinstance(paths, str) else list(paths)
        headers = {**FORWARDED_HTTPS, **(headers or {})}
        for path in paths:
            status, body = self.get(path, headers)
            if not 200 <= status < 400:
                sys.exit(f"bench: {path} answered {status} before the load:\n{body[:2000].decode(errors='replace')}")
        with tempfile.TemporaryDirectory() as tmp:
            if script is None and len(paths) > 1:
                script = Path(tmp) / "rotate.lua"
                script.write_text(_rotation_script(paths))
            command = [self._wrk, "--latency", f"-t{threads}", f"-c{connections}"]
            for name, value in headers.items():
                command += ["-H", f"{name}: {value}"]
            if script:
                command += ["-s", str(script)]
            if timeout:
                command += [f"--timeout={timeout}s"]
            url = self.base_url + paths[0]
            if warmup:
                subprocess.run([*command, f"-d{warmup}s", url], capture_output=True, check=True)
            output = subprocess.run([*command, f"-d{duration}s", url], capture_output=True, text=True, check=True)
        return parse_wrk(output.stdout, label=label or " + ".join(paths), connections=connections)


def _rotation_script(paths: list[str]) -> str:
    quoted = ", ".join('"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"' for path in paths)
    return (
        f"local paths = {{{quoted}}}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #paths + 1\n"
        "  return wrk.format(nil, paths[i])\n"
        "end\n"
    )


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS_MS[unit]


def parse_wrk(output: str, *, label: str, connections: int) -> Result:
    """Read wrk --latency's report."""
    requests, elapsed = re.search(r"(\d+) requests in ([\d.]+\w+),", output).groups()
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Result(
        label=label,
        requests=int(requests),
        seconds=_milliseconds(elapsed) / 1000,
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_milliseconds(re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE).group(1)),
        p99_ms=_milliseconds(re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE).group(1)),
        bad_responses=int(bad.group(1)) if bad else 0,
        socket_errors=sum(map(int, socket_errors.groups())) if socket_errors else 0,
        connections=connections,
    )


@contextmanager
def running_site(
    *, sessions: int = 1000, attendees: int = 100_000, workers: int = 4, threads: int = 1, seed: bool = True
) -> Iterator[Site]:
    """Prepare the database (migrate; seed_demo with the bench conference of `sessions` and
    `attendees` unless `seed` is off), collect the static files, and serve the site with
    gunicorn on a free port until the block ends."""
    port = free_port()
    env = production_env(port=port)
    if not postgres_ready(env["DATABASE_URL"]):  # creates the database when it is missing
        sys.exit("bench: PostgreSQL at DATABASE_URL does not answer.")
    manage(env, "migrate", "--no-input")
    seed_seconds = None
    if seed:
        started = time.monotonic()
        manage(env, "seed_demo", f"--bench-sessions={sessions}", f"--bench-attendees={attendees}")
        seed_seconds = time.monotonic() - started
    manage(env, "collectstatic", "--no-input", "--clear")
    site = Site(env=env, port=port, workers=workers, threads=threads, seed_seconds=seed_seconds)
    site.start()
    try:
        yield site
    finally:
        site.stop()


def table(results: Sequence[Result]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| what | connections | requests | req/s | p50 | p99 | non-2xx/3xx | socket errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r.label} | {r.connections} | {r.requests:,} | {r.rps:,.0f} | {r.p50_ms:.1f} ms | {r.p99_ms:.1f} ms "
        f"| {r.bad_responses} | {r.socket_errors} |"
        for r in results
    ]
    return "\n".join(lines)


def machine() -> str:
    """One line naming the machine the figures come from."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        model = found.group(1).strip() if found else model
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; the load generator, PostgreSQL and Redis share those cores "
        f"(load average {os.getloadavg()[0]:.1f} at the end)"
    )


def server_line(site: Site) -> str:
    kind = f"gthread, {site.threads} threads each" if site.threads > 1 else "sync"
    return (
        f"gunicorn, {site.workers} workers ({kind}), production settings (DEBUG off), "
        "PostgreSQL and Redis on localhost, requests with `X-Forwarded-Proto: https`"
    )


def write_section(
    key: str, *, title: str, command: str, body: str, site: Site | None = None, path: Path = DOCS
) -> None:
    """Write or replace the section `key` of docs/benchmarks.md, between its markers; the
    other sections stay as they are."""
    start, end = f"<!-- bench:{key}:start -->", f"<!-- bench:{key}:end -->"
    lines = [
        start,
        f"## {title}",
        "",
        f"Command: `{command}`  ",
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}.",
    ]
    if site:
        lines[-1] += "  "
        lines.append(f"Server: {server_line(site)}.")
    section = "\n".join([*lines, "", body.strip(), end])
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n")
    print(f"bench: wrote section '{key}' of {path}")


def arguments(description: str) -> argparse.ArgumentParser:
    """The options every bench script shares."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sessions", type=int, default=1000, help="sessions of the bench conference")
    parser.add_argument("--attendees", type=int, default=100_000, help="attendees of the bench conference")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread when > 1)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per measurement")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections")
    parser.add_argument("--no-seed", dest="seed", action="store_false", help="reuse the bench conference as it is")
    return parser


def main() -> None:
    """Ad-hoc: measure the given paths and print the table (docs/benchmarks.md is left alone)."""
    parser = arguments("Measure some paths of the site under gunicorn with the production settings.")
    parser.add_argument("paths", nargs="+", help="e.g. /healthz /growyourregion/")
    args = parser.parse_args()
    with running_site(
        sessions=args.sessions, attendees=args.attendees, workers=args.workers, threads=args.threads, seed=args.seed
    ) as site:
        results = [site.measure(path, duration=args.duration, connections=args.connections) for path in args.paths]
    print(table(results))


if __name__ == "__main__":
    main()
