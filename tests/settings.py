"""Test settings: the real PostgreSQL and Redis, never a fallback."""

import hashlib
import os
import uuid
from pathlib import Path

# Settings refuse a missing key with DEBUG off, as tests run; this one never leaves the suite.
os.environ.setdefault("SECRET_KEY", "test-" + "k" * 60)
# One cache prefix and Celery queue per test process, shared with the worker processes
# it starts (they inherit the environment), so parallel runs never read each other's data.
os.environ.setdefault("TEST_RUN_ID", uuid.uuid4().hex[:12])

from conference.settings import *  # noqa: F403
from conference.settings import CACHES, DATABASES, REDIS_URL

if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql" or not REDIS_URL:
    raise ImproperlyConfigured(  # noqa: F405
        "Tests run against PostgreSQL and Redis: set DATABASE_URL and REDIS_URL, or use `make test`."
    )

# pytest-xdist workers inherit the run's id from the process that starts them; each adds
# its own name so that their queues (and the Celery workers on them) stay apart.
TEST_RUN_ID = os.environ["TEST_RUN_ID"] + os.environ.get("PYTEST_XDIST_WORKER", "")
CACHES["default"]["KEY_PREFIX"] = f"test-{TEST_RUN_ID}"
CELERY_TASK_DEFAULT_QUEUE = f"test-{TEST_RUN_ID}"
# The test database is this checkout's, kept between local runs (--reuse-db), unless the
# run names its own (CI: one per run, dropped at its end by tests.services). Either way two
# checkouts, or two CI runs, on one PostgreSQL never share a database; pytest-xdist adds
# its worker's name.
CHECKOUT_ID = hashlib.sha256(str(Path(__file__).resolve().parent.parent).encode()).hexdigest()[:10]
TEST_DATABASE_ID = os.environ.get("TEST_DATABASE_ID") or CHECKOUT_ID
DATABASES["default"]["TEST"] = {"NAME": f"test_conference_{TEST_DATABASE_ID}"}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# In-process mail stays in memory; worker processes started by the harness send over
# SMTP to its sink (EMAIL_URL), as production does.
if not os.environ.get("TEST_WORKER_SENDS_SMTP"):
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The live server speaks plain http on localhost.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"
# Static files come straight from the app folders; nothing is collected for tests.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
