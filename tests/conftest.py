"""The harness every test uses: real PostgreSQL and Redis (see tests/settings.py), an SMTP
sink, a real Celery worker process, and Chromium driven by Playwright."""

import asyncio
import base64
import email
import email.policy
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from email.message import EmailMessage
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection
from django.utils import translation

from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"

# Playwright's sync API runs an event loop in this thread; the ORM calls that tests make
# around it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def own_cache_namespace(settings):
    """Each test counts rate limits in a cache namespace of its own: test clients (and the
    browser of a journey) share one address, so the sign-ups and logins of earlier tests
    would otherwise count against a later one, depending on which tests ran before it."""
    default = settings.CACHES["default"]
    prefix = f"{default['KEY_PREFIX']}-{uuid.uuid4().hex}"
    settings.CACHES = {**settings.CACHES, "default": {**default, "KEY_PREFIX": prefix}}


@pytest.fixture
def listen(monkeypatch):
    """`listen(event)` -> a list that fills with the details of each announcement of that
    agenda event, and whether it came inside a transaction; after the app's own subscribers."""
    from agenda import events

    def start(event: str) -> list[dict]:
        received = []

        def record(**details):
            received.append({**details, "in_transaction": connection.in_atomic_block})

        monkeypatch.setitem(events._subscribers, event, [*events.subscribers(event), record])
        return received

    return start


@pytest.fixture(autouse=True)
def default_language():
    """A request leaves its language active in the test's thread (LocaleMiddleware activates
    it and nothing deactivates it): without this, a test after one that asked for Spanish
    would read its messages in Spanish."""
    yield
    translation.deactivate()


class SmtpSink:
    """An SMTP server on a free port that keeps every message it receives. It can refuse
    chosen recipients (`refusals`: address -> reply) and be stopped and started again on
    the same port, as a mail server that goes away and comes back."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refusals: dict[str, str] = {}
        self.refused: list[str] = []
        # The client's (address, port) of each message received: one per connection.
        self.peers: list[tuple[str, int]] = []
        # Seconds the server takes to accept a message, as a real one's checks do.
        self.accept_delay = 0.0
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address in self.refusals:
            self.refused.append(address)
            return self.refusals[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        await asyncio.sleep(self.accept_delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            self.peers.append(session.peer)
        return "250 Message accepted for delivery"

    def start(self) -> None:
        # A controller's event loop closes when it stops, so each start takes a new one.
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, predicate: Callable[[EmailMessage], bool], timeout: float = 30) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for message in self.messages:
                    if predicate(message):
                        return message
            time.sleep(0.1)
        raise AssertionError(f"No matching email arrived within {timeout} s; got {len(self.messages)} others.")

    def to(self, address: str, timeout: float = 30) -> EmailMessage:
        return self.wait_for(lambda message: address in message["To"], timeout)


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def smtp_backend(settings, smtp_sink: SmtpSink) -> SmtpSink:
    """Mail sent in this test process goes over SMTP to the sink, as a worker's does."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_sink.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    return smtp_sink


@pytest.fixture
def broker_queue() -> Iterator[Callable[[], list[tuple[str, int | None]]]]:
    """This run's Celery queue in Redis, emptied first; calling it lists what the broker
    holds as (task name, email_id) pairs."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(settings.CELERY_TASK_DEFAULT_QUEUE)

    def tasks() -> list[tuple[str, int | None]]:
        messages = [json.loads(raw) for raw in client.lrange(settings.CELERY_TASK_DEFAULT_QUEUE, 0, -1)]
        return sorted(
            (message["headers"]["task"], json.loads(base64.b64decode(message["body"]))[1].get("email_id"))
            for message in messages
        )

    yield tasks
    client.delete(settings.CELERY_TASK_DEFAULT_QUEUE)


def database_url() -> str:
    """The URL of the test database that this test process uses, for worker processes."""
    params = connection.settings_dict
    return f"postgres://{params['USER']}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"


class CeleryWorker:
    """A real `celery worker` process on this run's queue, against the test database.

    `env` adds to or overrides its environment (another REDIS_URL, outbox timings) and
    `options` to its command line (`--beat`). It runs in a process group of its own, so
    that kill() takes its pool processes down with it."""

    def __init__(
        self, *, email_url: str, concurrency: int = 1, env: dict | None = None, options: Sequence[str] = ()
    ) -> None:
        self.email_url = email_url
        self.concurrency = concurrency
        self.env = env or {}
        self.options = list(options)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="tests.settings",
            DATABASE_URL=database_url(),
            EMAIL_URL=self.email_url,
            TEST_WORKER_SENDS_SMTP="1",
            **self.env,
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "conference",
                "worker",
                "--loglevel=WARNING",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                f"--concurrency={self.concurrency}",
                "-Q",
                settings.CELERY_TASK_DEFAULT_QUEUE,
                *self.options,
            ],
            cwd=ROOT,
            env=env,
            process_group=0,
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL to the worker and its pool, as a crashed host would: no acknowledgement, no clean-up."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def celery_worker(smtp_sink: SmtpSink, transactional_db, live_server) -> Iterator[CeleryWorker]:
    # The worker writes emails' links when it sends them: to the site under test, as
    # SITE_URL names the site in production.
    worker = CeleryWorker(email_url=smtp_sink.url, env={"SITE_URL": live_server.url})
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run (browser tests share one xdist worker)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture
def axe_page(browser, live_server):
    """A page whose CSP lets the test inject axe-core; the site's own scripts stay as served."""
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def axe_violations(page) -> list[dict]:
    """Run axe-core's WCAG 2.2 AA rules on the current page; returns the violations."""
    if not AXE_SCRIPT.exists():
        pytest.fail("axe-core is missing: `make test` installs it with npm ci.")
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
    return [
        {"id": v["id"], "help": v["help"], "nodes": [node["target"] for node in v["nodes"]][:5]}
        for v in result["violations"]
    ]


def first_link(message: EmailMessage) -> str:
    """The first http(s) link in an email's plain-text part."""
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"https?://\S+", body)
    assert match, f"No link in: {body}"
    return match.group(0)


# Fixtures that start real processes (a browser, gunicorn, Celery workers, a live server,
# PostgreSQL or Redis of a test's own): the tests that use them are `slow`, and
# `make quick` leaves them out.
REAL_PROCESSES = {"browser", "live_server", "celery_worker", "start_worker", "production_server", "broker"}


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        # Browser tests share one worker, and so one browser, under pytest-xdist.
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.xdist_group("browser"))
        if REAL_PROCESSES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)


def log_in(page, user, url: str) -> None:
    """Give the browser a session of `user` on the site at `url`, as if they had logged in."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": url}])
