"""One settings module, driven by the environment (see .env.example).

Local defaults are safe and convenient; with DEBUG off (production) whatever must be
set is required, and `manage.py check --deploy` is clean.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

# Production refuses to start on a missing, default or weak key.
_DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=_DEVELOPMENT_SECRET_KEY if DEBUG else "")
if not DEBUG and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured("SECRET_KEY must be set to a random string of at least 50 characters when DEBUG is off.")

# The public address of the site, for links in emails and calendar files (sent without a request).
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}").rstrip("/")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])

INSTALLED_APPS = [
    # Before the admin, which it extends with a field per language.
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "csp",
    "django_countries",
    "accounts",
    "outbox",
    "agenda",
    "registration",
    "checkin",
    "voting",
    "meetings",
]

MIDDLEWARE = [
    # Whole public pages for anonymous visitors, before anything else runs: the answers it
    # keeps already carry the headers of the middleware below (security, CSP, frames).
    "agenda.caching.CachedPageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "conference.middleware.PermissionsPolicyMiddleware",
    "conference.middleware.RequestSizeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "conference.middleware.LanguageSwitchMiddleware",
    # Outside the session middleware, so that a write request and its session are one transaction.
    "conference.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "conference.middleware.PrivateResponsesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

# The largest request body taken: a speaker's photo and its form in the admin.
REQUEST_BODY_MAX_SIZE = 10 * 1024 * 1024

ROOT_URLCONF = "conference.urls"
WSGI_APPLICATION = "conference.wsgi.application"
# Wraps Django's WSGI handler in conference/wsgi.py: whole public pages a worker has just
# served, answered again without Django's request handling (agenda.caching).
WSGI_FRONT = "agenda.caching.serve_recent"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.admin_link",
                "accounts.context_processors.return_address",
            ],
        },
    },
]

# Database: PostgreSQL in production and tests. SQLite is only the fallback of `make run`
# on a machine without PostgreSQL, which sets DATABASE_URL to it and says so.
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/conference")}
# Persistent connections, not checked before each request's first query: the check is a
# `SELECT 1` round trip on every request (7 % of a cached page, more of a registration).
# A connection that died with a restarted PostgreSQL fails that request's first query
# instead (a 503 through DatabaseUnavailableMiddleware); Django then closes it at the end
# of the request and the next one connects afresh, so the site still heals by itself.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # When the database is busy or gone, fail within seconds (a friendly 503) instead of
    # letting requests queue up behind a lock or a dead host. 0 turns a limit off.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "connect_timeout": env.int("DATABASE_CONNECT_TIMEOUT", default=5),
            "options": "-c lock_timeout={}s -c statement_timeout={}s".format(
                env.int("DATABASE_LOCK_TIMEOUT", default=3), env.int("DATABASE_STATEMENT_TIMEOUT", default=30)
            ),
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: the cache and the Celery broker. Without REDIS_URL (the fallback of `make run`)
# the cache is in-process and tasks run in-process.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "conference.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "conference",
            "OPTIONS": {
                # A Redis outage makes the cache miss instead of failing the request.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        },
        # Where the rate limits count while Redis is down (conference/cache.py): in PostgreSQL,
        # so that no outage switches off the limits on password guessing.
        "rate_limits": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "rate_limit_fallback",
        },
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# Sessions live in the database behind the cache: a Redis outage logs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

AUTH_USER_MODEL = "registration.User"
# allauth's backend alone (it is Django's ModelBackend, by email): every login, the admin's
# included, goes through allauth's form, and a second backend would hash each wrong password twice.
# Ours only loads the session's user with their live registrations, for the pages' header.
AUTHENTICATION_BACKENDS = ["registration.backends.RegistrationAwareBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"

# django-allauth: email is the login, verified before first use; its rate limits stay on.
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {
    "login": "accounts.forms.LoginForm",
    "signup": "accounts.forms.SignupForm",
    "reset_password": "accounts.forms.ResetPasswordForm",
    "reset_password_from_key": "accounts.forms.ResetPasswordKeyForm",
    "change_password": "accounts.forms.ChangePasswordForm",
}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
# Explicit limits ("amount/period/per", counted in the cache). Per-IP limits are generous
# because a venue or a company network puts many people behind one address; per-key
# (email address) limits stop guessing one account's password or flooding one inbox.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
    # The site's own forms (conference.ratelimit.limit_posts): each action counts the POSTs
    # that did something; its "_failed" twin counts those sent back with errors, generously,
    # so that nobody is locked out while putting a form right.
    # Registration POSTs (register, change, cancel, delete the account), per user and address.
    "registration": "10/m/user,60/m/ip",
    "registration_failed": "60/m/user,300/m/ip",
    # Meeting requests and answers, per user and address.
    "meetings": "30/m/user,120/m/ip",
    "meetings_failed": "60/m/user,300/m/ip",
    # Reports of accessibility problems, which land in the organisers' inbox.
    "accessibility_report": "5/10m/ip,20/d/ip",
    "accessibility_report_failed": "60/10m/ip,300/d/ip",
    # Votes and upvotes, and questions from the room, per person (voting.identity.rate_key).
    # A whole venue may share one address behind its Wi-Fi: the address limits only stop a
    # flood from one machine, and let a hall of 3,000 vote twice in a minute.
    "voting_vote": "30/m/key,6000/m/ip",
    "voting_vote_failed": "60/m/key,1000/m/ip",
    "voting_question": "5/m/key,30/h/key,300/m/ip",
    "voting_question_failed": "60/m/key,300/m/ip",
}
# The client address for those limits: behind N proxies of ours, the N-th address from the
# right of X-Forwarded-For. 0 (direct) ignores the header, which anyone can forge.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("es", _("Spanish")),
    ("fr", _("French")),
    ("de", _("German")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates and times as each language's readers write them, and the site's own format names.
FORMAT_MODULE_PATH = ["conference.formats"]
# Programme content in several languages (agenda/translation.py): a column per language,
# read in the reader's language, else in the original one, the default language's, which
# organisers always give; slugs and codes come from it too.
MODELTRANSLATION_DEFAULT_LANGUAGE = LANGUAGE_CODE
MODELTRANSLATION_FALLBACK_LANGUAGES = (LANGUAGE_CODE,)
MODELTRANSLATION_PREPOPULATE_LANGUAGE = LANGUAGE_CODE
# Content created in code (the demo, imports) under any active language keeps its original.
MODELTRANSLATION_AUTO_POPULATE = "default"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Locally whitenoise serves straight from the app folders; production serves collectstatic's output.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

# Email: EMAIL_URL such as smtp://127.0.0.1:1025 or smtp+tls://user:pass@host:587.
# Without it mail is printed to the console.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Conference <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The outbox (outbox.emails). A transient failure is retried after
# OUTBOX_RETRY_DELAY seconds, doubling up to half an hour, OUTBOX_MAX_ATTEMPTS times
# in all. Every OUTBOX_SWEEP_INTERVAL seconds the sweep hands back to the workers emails
# queued for longer than OUTBOX_SWEEP_GRACE seconds (the broker lost them) and emails
# "sending" for longer than OUTBOX_SENDING_TIMEOUT seconds (their worker died), which must
# exceed CELERY_TASK_TIME_LIMIT so that a slow send is never taken for a dead one.
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=10)
OUTBOX_RETRY_DELAY = env.float("OUTBOX_RETRY_DELAY", default=30)
OUTBOX_SWEEP_INTERVAL = env.float("OUTBOX_SWEEP_INTERVAL", default=60)
OUTBOX_SWEEP_GRACE = env.float("OUTBOX_SWEEP_GRACE", default=60)
OUTBOX_SENDING_TIMEOUT = env.float("OUTBOX_SENDING_TIMEOUT", default=300)
# Where reports of accessibility problems go (the form on /accessibility/report/); the
# accessibility statement gives it as the address to write to.
ACCESSIBILITY_EMAIL = env.str("ACCESSIBILITY_EMAIL", default="accessibility@localhost")
# Confirmed attendees get a reminder this many days before the conference starts.
REMINDER_DAYS_BEFORE = env.int("REMINDER_DAYS_BEFORE", default=3)

# Celery: JSON only, acknowledged after the work is done, bounded in time.
CELERY_BROKER_URL = REDIS_URL or "memory://"
# No result backend: tasks report through the rows they change (the outbox), and a web
# request that enqueues a task never waits on Redis for a result channel.
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 50
CELERY_TASK_TIME_LIMIT = 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fix-up closes the database connections before and after every task (a new
# PostgreSQL connection per task) unless CELERY_DB_REUSE_MAX is set, and then only every
# that many tasks. Workers keep them as web processes do instead: conference.celery closes
# them between tasks only when CONN_MAX_AGE has passed or after an error, and they are
# health-checked before reuse.
CELERY_DB_REUSE_MAX = 10_000
# Publishing gives up fast when Redis is down (one connection attempt, not kombu's
# seconds of retries): the outbox row is already saved and the periodic sweep enqueues
# it again later.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2, "max_retries": 0}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BEAT_SCHEDULE = {
    "requeue-stale-emails": {
        "task": "outbox.requeue_stale_emails",
        "schedule": timedelta(seconds=OUTBOX_SWEEP_INTERVAL),
        # A sweep nobody ran in time is superseded by the next one, not queued behind it.
        "options": {"expires": OUTBOX_SWEEP_INTERVAL},
    },
    "queue-reminders": {
        "task": "registration.queue_reminders",
        "schedule": crontab(minute=15),
        "options": {"expires": 3600},
    },
    # Retention periods and the organisers' warnings (registration.privacy).
    "erase-personal-data": {
        "task": "registration.erase_personal_data",
        "schedule": crontab(minute=45),
        "options": {"expires": 3600},
    },
    "expire-meeting-requests": {
        "task": "meetings.expire_requests",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 300},
    },
}

# Security: strict by default; DEBUG loosens only what local http needs.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe the health check over plain http.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 0 if DEBUG else 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "conference.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
# Scripts and styles come only from our own static files: no inline code, no eval.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's own configuration gives its "django" logger a console handler of its own
    # (with DEBUG on) that the line then passes on to the root's: one handler, the root's.
    "loggers": {"django": {"handlers": [], "level": env.str("LOG_LEVEL", default="INFO"), "propagate": True}},
}
