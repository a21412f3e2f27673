"""The site as production runs it, for tests that need the real thing: gunicorn, the
production settings (DEBUG off, collected static files served by whitenoise, HTTPS
behind a proxy) on a free port, and a small HTTP client that keeps cookies."""

import http.client
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from email.message import Message
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from tests.services import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
# What a TLS-terminating proxy in front of gunicorn adds (SECURE_PROXY_SSL_HEADER).
HTTPS = {"X-Forwarded-Proto": "https"}


class ProductionServer:
    """gunicorn with the production settings (`tests.production_settings`) and DEBUG off,
    against the given services."""

    def __init__(self, *, database_url: str, redis_url: str, workers: int = 2) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._files = tempfile.TemporaryDirectory(prefix="conference-production-")
        self.log_path = Path(self._files.name) / "gunicorn.log"
        inherited = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "EMAIL_URL"}
        }
        self.env = {
            **inherited,
            "DJANGO_SETTINGS_MODULE": "tests.production_settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": self.url,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "STATIC_ROOT": str(Path(self._files.name) / "static"),
        }
        self.workers = workers
        self.process: subprocess.Popen | None = None

    def manage(self, *args: str) -> str:
        """Run a management command with this server's settings; returns its output."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def create_user(self, email: str, password: str) -> None:
        """A user with a confirmed address, made with the production password hasher."""
        self.manage(
            "shell",
            "--command",
            "from allauth.account.models import EmailAddress;"
            "from registration.models import User;"
            f"user = User.objects.create_user({email!r}, {password!r});"
            "EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)",
        )

    def start(self) -> None:
        self.manage("collectstatic", "--no-input", "--verbosity", "0")
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "conference.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--graceful-timeout",
                "5",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        wait_for(self.url, "gunicorn")

    def log(self) -> str:
        """What gunicorn and the site logged so far (warnings and errors)."""
        return self.log_path.read_text()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self._log.close()
        self._files.cleanup()


@dataclass
class Response:
    status: int
    headers: Message
    text: str
    seconds: float

    def cookie(self, name: str) -> str:
        """The Set-Cookie header that sets `name`, with its attributes."""
        for header in self.headers.get_all("Set-Cookie") or []:
            if header.startswith(f"{name}="):
                return header
        raise AssertionError(f"No {name} cookie in {self.headers.get_all('Set-Cookie')}")


class HttpClient:
    """Just enough of a browser: keeps cookies, sends the CSRF token, follows no redirects.

    Every request carries `headers` (e.g. HTTPS, as the proxy would add)."""

    def __init__(self, base_url: str, *, headers: dict[str, str] | None = None, timeout: float = 30) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.headers = headers or {}
        self.timeout = timeout
        self.cookies: dict[str, str] = {}

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, data: dict[str, str]) -> Response:
        """POST a form as a browser would: with the CSRF cookie's token and a same-site Referer."""
        if "csrftoken" not in self.cookies:
            self.get(path)
        scheme = "https" if self.headers.get("X-Forwarded-Proto") == "https" else "http"
        body = urlencode({"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **data})
        return self.request(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"{scheme}://{self.host}:{self.port}{path}",
            },
        )

    def request(self, method: str, path: str, *, body: str | None = None, headers: dict | None = None) -> Response:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        all_headers = {**self.headers, **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        started = time.monotonic()
        try:
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and not re.search(r"(?i)max-age=0\b", header):
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return Response(response.status, response.headers, text, time.monotonic() - started)

    def log_in(self, email: str, password: str) -> Response:
        """Log in through allauth's form; returns its answer (a redirect when it worked)."""
        return self.post("/accounts/login/", {"login": email, "password": password})
