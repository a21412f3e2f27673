"""Public pages and exports come from the cache (Redis), keyed by conference, content
version, language, view and its parameters. An organiser's edit raises the content
version (services.bump_content_version), so every key changes at once: no flush, and
stale entries simply expire.

Keys also carry a digest of the code, templates, translations and date formats that
render the content, so a deploy that changes them starts afresh too.

Three layers, each cheaper than the one below:

- the published conference by its slug (`published_conference`), forgotten when an
  edit commits (`forget_conference`), so that a cached page costs no query to learn
  which version is current;
- the programme part of each page (a `Fragment`), rendered once per version, language
  and parameters. Seats left move with every registration, so the cached HTML holds a
  marker where they go, filled on each render from `agenda.seats` (which registration counts), which is kept
  for SEATS_TIMEOUT per set of sessions: a booking shows within SEATS_LAG (a second),
  and a busy page costs a few aggregate queries a second, not one per visit;
- whole responses for anonymous visitors (`CachedPageMiddleware`), served before any
  other middleware runs (the answers kept carry the security headers already): a cache
  hit costs no query, and each worker serves what it has just checked from memory for
  LOCAL_TIMEOUT, before Django's request handling even starts (`serve_recent`, the WSGI
  front), so that a hit costs about what returning bytes costs.
  Anonymous pages carry no CSRF token (their language switch is a GET,
  conference.middleware.LanguageSwitchMiddleware), so one answer fits every anonymous
  visitor of a URL in a language. Logged-in visitors get the page rendered around the
  cached fragment: one query, for their user, which brings their registrations along for
  the header (the authentication backend, registration.backends).

Stars work like seats: the cached HTML holds a marker per session, filled per request with
a button that the browser's script keeps for a visitor without an account (the same for
every such visitor, so whole responses stay shareable), or, for someone logged in, a form
showing whether they starred it (their stars from the cache, agenda.stars.starred_ids).

Validators: exports have an ETag and a Last-Modified (the conference's `updated_at`,
moved with each version). Pages for anonymous visitors have an ETag only, over what they
show (the cached content and the seats left): a Last-Modified could not say when a seat
was taken. Pages for logged-in visitors carry a CSRF token and their name, and have none.
"""

import datetime
import hashlib
import re
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.html import format_html
from django.utils.http import http_date, quote_etag
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from agenda import seats, stars
from agenda.models import RESERVED_SLUGS, Conference, Session

# Keys change with every edit, so entries only need to outlive a quiet day.
TIMEOUT = 60 * 60 * 24
# Each worker keeps the answers it served for LOCAL_TIMEOUT seconds (at most LOCAL_BYTES of
# them), so that a page asked for again and again costs no round trip to Redis either.
# With SEATS_TIMEOUT, the seats left kept in Redis, it bounds how late a booking shows,
# and how late another worker shows an edit: SEATS_LAG, a second.
LOCAL_TIMEOUT = 0.5
LOCAL_BYTES = 32 * 2**20
SEATS_TIMEOUT = 0.5
SEATS_LAG = LOCAL_TIMEOUT + SEATS_TIMEOUT
# An edit forgets the cached conference when it commits; this bounds how long a copy read
# just before that commit (and stored just after) can linger.
CONFERENCE_TIMEOUT = 30
SEATS_MARKER = re.compile(r"<!--seats:(\d+)-->")
# Cached for a slug that names no published conference, so that a 404 costs no query either.
MISSING = "missing"
# Whole responses are only served to requests that bring neither of these: a session may be
# a logged-in user's, and a pending message must be shown.
PRIVATE_COOKIES = (settings.SESSION_COOKIE_NAME, CookieStorage.cookie_name)


def _sources() -> list[Path]:
    """What renders a cached page besides its data. Every template, not only the agenda's:
    the pages extend the base template and include other apps' parts (the session page
    shows its voting results), each drawn with its app's template tags."""
    package = Path(__file__).resolve().parent
    templates = (Path(directory) for engine in settings.TEMPLATES for directory in engine["DIRS"])
    return sorted(
        {
            *package.glob("**/*.py"),
            *(path for directory in templates for path in directory.glob("**/*") if path.is_file()),
            *settings.BASE_DIR.glob("*/templatetags/*.py"),
            *(settings.BASE_DIR / "conference" / "formats").glob("**/*.py"),
            *(path for directory in settings.LOCALE_PATHS for path in Path(directory).glob("**/*.mo")),
        }
    )


def _release() -> str:
    digest = hashlib.sha256()
    for path in _sources():
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


RELEASE = _release()


@dataclass(frozen=True)
class Fragment:
    """The cached, programme-derived part of a page."""

    title: str
    html: str


@dataclass(frozen=True)
class Public:
    """What a view tells CachedPageMiddleware about a response any anonymous visitor of
    the URL may be given (or any visitor, `everyone`, for exports)."""

    version: str
    etag: str
    last_modified: int | None = None
    seats_key: str | None = None
    seats: tuple[tuple[int, int], ...] = ()
    # A page that follows the clock (registration opening, today's programme) is built
    # again from this moment (a Unix time) on.
    until: float | None = None
    everyone: bool = False


@dataclass(frozen=True)
class CachedResponse:
    public: Public
    content: bytes
    headers: tuple[tuple[str, str], ...]


class Recent:
    """This worker's answers of the last moments: key -> (monotonic deadline, entry), emptied
    whole when their bodies would pass LOCAL_BYTES (so that many large exports asked for
    once each cannot grow the worker)."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[float, CachedResponse]] = {}
        self.size = 0

    def get(self, key: str) -> CachedResponse | None:
        found = self.entries.get(key)
        return found[1] if found is not None and found[0] > time.monotonic() else None

    def put(self, key: str, cached: CachedResponse) -> None:
        previous = self.entries.pop(key, None)
        if previous is not None:
            self.size -= len(previous[1].content)
        size = len(cached.content)
        if self.size + size > LOCAL_BYTES:
            self.clear()
        if size <= LOCAL_BYTES:
            self.entries[key] = (time.monotonic() + LOCAL_TIMEOUT, cached)
            self.size += size

    def clear(self) -> None:
        self.entries = {}
        self.size = 0


_recent = Recent()


def _conference_key(slug: str) -> str:
    return f"agenda:conference:{slug}"


def published_conference(slug: str) -> Conference:
    """The published conference of that slug, from the cache; Http404 when there is none."""
    key = _conference_key(slug)
    conference = cache.get(key)
    if conference is None:
        conference = Conference.objects.published().filter(slug=slug).first() or MISSING
        cache.set(key, conference, CONFERENCE_TIMEOUT)
    if conference == MISSING:
        raise Http404
    return conference


def conference_at(path: str) -> Conference | None:
    """The published conference a path of this site is part of (/<slug>/...), or None."""
    slug = path.split("?", 1)[0].split("/", 2)[1] if path.startswith("/") else ""
    try:
        return published_conference(slug) if slug else None
    except Http404:
        return None


def forget_conference(conference_id: int, *slugs: str) -> None:
    """Drop the cached copy of the conference (by its slug now and the `slugs` it had), so
    that the next request reads its new version. One query, for the slug."""
    current = Conference.objects.filter(pk=conference_id).values_list("slug", flat=True).first()
    keys = [_conference_key(slug) for slug in {current, *slugs} if slug]
    # Now, for the rest of this transaction, and again at the commit: a request may have
    # cached the old row in between.
    cache.delete_many(keys)
    _recent.clear()
    transaction.on_commit(lambda: cache.delete_many(keys))


def _version(conference: Conference) -> str:
    # The guid, not the primary key: databases that share a Redis (test workers) reuse keys.
    return f"{conference.guid}:{conference.content_version}:{RELEASE}"


def cache_key(conference: Conference, view: str, params: Iterable[tuple[str, str]] = ()) -> str:
    """Only validated, normalised parameters go in: a key per real variant of a page."""
    return f"agenda:{_version(conference)}:{get_language()}:{view}:{urlencode(sorted(params))}"


def seats_marker(session: Session) -> str:
    """Where the seats left on a session go in a cached page; empty unless it needs sign-up."""
    return format_html("<!--seats:{}-->", session.pk) if session.is_bookable else ""


def marked_sessions(html: str) -> set[int]:
    return {int(pk) for pk in SEATS_MARKER.findall(html)}


def fill_seats(html: str, seats_left: dict[int, int]) -> str:
    return SEATS_MARKER.sub(lambda match: _seats_text(seats_left.get(int(match.group(1)))), html)


def _seats_text(left: int | None) -> str:
    if left is None:
        return ""
    if left == 0:
        return format_html('<p class="seats seats-full">{}</p>', _("Fully booked: you can join the waiting list."))
    text = ngettext("%(count)d seat left", "%(count)d seats left", left) % {"count": left}
    return format_html('<p class="seats">{}</p>', text)


def _seats_key(conference: Conference, session_ids: Collection[int]) -> str | None:
    if not session_ids:
        return None
    digest = hashlib.sha256(repr(sorted(session_ids)).encode()).hexdigest()[:16]
    return f"agenda:seats:{conference.guid}:{digest}"


def _seats_left(key: str | None, session_ids: Collection[int]) -> dict[int, int]:
    if key is None:
        return {}
    left = cache.get(key)
    if left is None:
        left = seats.seats_left(session_ids)
        cache.set(key, left, SEATS_TIMEOUT)
    return left


STAR_MARKER = re.compile(r"<!--star:(\d+):([-\w]+)-->")


def star_marker(session: Session) -> str:
    """Where the star button of a session goes in a cached page."""
    return format_html("<!--star:{}:{}-->", session.pk, session.code)


def marked_stars(html: str) -> set[int]:
    return {int(pk) for pk, _code in STAR_MARKER.findall(html)}


def fill_stars(html: str, request: HttpRequest, conference: Conference, starred: set[int]) -> str:
    if not request.user.is_authenticated:
        # The script shows it and keeps the stars in the browser; without script it stays hidden.
        off, on = _("Add to my programme"), _("On my programme: remove")
        return STAR_MARKER.sub(
            lambda match: format_html(
                '<button type="button" class="star" aria-pressed="false" data-star-conference="{}" '
                'data-star-session="{}" data-label-off="{}" data-label-on="{}" hidden>{}</button>',
                conference.slug,
                match.group(2),
                off,
                on,
                off,
            ),
            html,
        )
    token, path = get_token(request), request.get_full_path()

    def form(match: re.Match) -> str:
        pk, code = int(match.group(1)), match.group(2)
        on = pk in starred
        return format_html(
            '<form class="star-form" method="post" action="{}"><input type="hidden" name="csrfmiddlewaretoken" '
            'value="{}"><input type="hidden" name="next" value="{}"><button type="submit" class="star" '
            'name="action" value="{}" aria-pressed="{}">{}</button></form>',
            reverse("agenda:star", kwargs={"slug": conference.slug, "code": code}),
            token,
            path,
            "unstar" if on else "star",
            "true" if on else "false",
            _("On my programme: remove") if on else _("Add to my programme"),
        )

    return STAR_MARKER.sub(form, html)


def page_response(
    request: HttpRequest,
    conference: Conference,
    *,
    key: str,
    build: Callable[[], Fragment],
    template: str,
    context: dict | None = None,
    canonical: bool = True,
    until: datetime.datetime | None = None,
) -> HttpResponse:
    """Render `template` around the cached fragment (built by `build` on a miss, which may
    raise Http404). `context` is rendered per request and so must be small and part of the
    ETag. An anonymous visitor's page is handed to CachedPageMiddleware to keep whole,
    when the URL is `canonical` (the form the site's own links use: other spellings of the
    same parameters are answered, not kept), until the version changes or `until` comes."""
    fragment = cache.get_or_set(key, build, TIMEOUT)
    # Only the sessions this page shows: a booking elsewhere changes neither its seats nor its ETag.
    # A conference that has ended offers no seats: nothing is counted, its markers stay empty
    # (the fragment may have been built before the end).
    session_ids = set() if conference.has_ended else marked_sessions(fragment.html)
    seats_key = _seats_key(conference, session_ids)
    left = _seats_left(seats_key, session_ids)
    user = request.user
    starrable = marked_stars(fragment.html)
    starred = stars.starred_ids(user, starrable) if user.is_authenticated and starrable else set()
    # The fragment was rendered, escaped, by our own templates; what is filled in is
    # integers and format_html's escaped markup.
    content = mark_safe(  # noqa: S308  # nosec B308 B703
        fill_stars(fill_seats(fragment.html, left), request, conference, starred)
    )
    page_context = {"conference": conference, "title": fragment.title, "content": content, **(context or {})}
    if user.is_authenticated:
        response = render(request, template, page_context)
        patch_cache_control(response, private=True, no_cache=True)
        return response
    seats = tuple(sorted(left.items()))
    etag = _etag(key, seats, sorted((context or {}).items()))
    response = get_conditional_response(request, etag=etag)
    if response is None:
        response = render(request, template, page_context)
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    if canonical:
        response.public = Public(
            version=_version(conference),
            etag=etag,
            seats_key=seats_key,
            seats=seats,
            until=until.timestamp() if until else None,
        )
    return response


def export_response(
    request: HttpRequest,
    conference: Conference,
    *,
    key: str,
    build: Callable[[], bytes],
    content_type: str,
    filename: str | None = None,
    canonical: bool = True,
) -> HttpResponse:
    """The cached export (built by `build` on a miss), or 304 for a client that has it.
    The same for every visitor: CachedPageMiddleware keeps it whole when the URL is
    `canonical`."""
    etag = _etag(key)
    last_modified = int(conference.updated_at.timestamp())
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None:
        response = HttpResponse(cache.get_or_set(key, build, TIMEOUT), content_type=content_type)
        if filename:
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    # Calendar and schedule apps poll: they revalidate every time, and mostly get a 304.
    patch_cache_control(response, no_cache=True)
    if canonical:
        response.public = Public(version=_version(conference), etag=etag, last_modified=last_modified, everyone=True)
    return response


def _etag(*parts) -> str:
    return quote_etag(hashlib.sha256(repr(parts).encode()).hexdigest()[:32])


class CachedPageMiddleware:
    """Whole public pages and exports, served before every other middleware: an answer is
    kept as the whole stack made it, with its security headers. A hit costs no query: no
    cache round trip either when this worker served the URL in the last LOCAL_TIMEOUT
    (and then, for an unconditional GET, `serve_recent` answers first), else one (two on
    a page with seats left).

    A response is kept when its view marked it `public` (agenda.views, through
    `page_response` and `export_response`), it is a 200 that sets no cookie and carries
    no CSRF token, and the request brought no session or message cookie (an export: any
    request). It is keyed as `_response_key` says, and served only while its
    conference's version is current, its seats left are the same (see `_seats_left`) and
    its `until` has not come; otherwise the request goes on to the view, which keeps the
    new answer.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        found = _response_key(request)
        if found is None:
            return self.get_response(request)
        slug, key, anonymous = found
        recent = _recent_answer(key)
        if recent is not None and _fits(recent, anonymous):
            return self._serve(request, recent)
        found = cache.get_many([_conference_key(slug), key])
        cached = found.get(key)
        if cached is not None and _fits(cached, anonymous) and self._current(found, slug, cached):
            self._remember(key, cached)
            return self._serve(request, cached)
        response = self.get_response(request)
        public = getattr(response, "public", None)
        if (
            public is not None
            and request.method == "GET"
            and response.status_code == 200
            and not response.cookies
            # A CSRF token in the page would hand this visitor's secret to every other one.
            and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
            and (anonymous or public.everyone)
        ):
            cached = CachedResponse(public, response.content, tuple(response.items()))
            cache.set(key, cached, TIMEOUT)
            self._remember(key, cached)
        return response

    @staticmethod
    def _current(found: dict, slug: str, cached: CachedResponse) -> bool:
        """Whether the entry is of the conference's current version, with the seats left of now."""
        public = cached.public
        conference = found.get(_conference_key(slug))
        if not isinstance(conference, Conference) or _version(conference) != public.version:
            return False
        return public.seats_key is None or tuple(sorted((cache.get(public.seats_key) or {}).items())) == public.seats

    @staticmethod
    def _remember(key: str, cached: CachedResponse) -> None:
        _recent.put(cache.key_prefix + key, cached)

    @staticmethod
    def _serve(request: HttpRequest, cached: CachedResponse) -> HttpResponse:
        public = cached.public
        response = HttpResponse(cached.content, headers=dict(cached.headers))
        conditional = get_conditional_response(
            request, etag=public.etag, last_modified=public.last_modified, response=response
        )
        return conditional or response


def _recent_answer(key: str) -> CachedResponse | None:
    # The copy of the cache's entry, under the cache's own prefix (each test has one).
    return _recent.get(cache.key_prefix + key)


def _response_key(request: HttpRequest) -> tuple[str, str, bool] | None:
    """(slug, key, anonymous) of a request whose answer may have been kept: keyed by the
    visitor's language (as LocaleMiddleware reads it: the language cookie, else the
    browser's), the scheme and the URL. None for the site's own paths (static files, the
    admin, accounts), never kept, so never looked up."""
    slug = request.path.split("/", 2)[1]
    if request.method not in ("GET", "HEAD") or not slug or slug.lower() in RESERVED_SLUGS:
        return None
    # A body is for RequestSizeMiddleware to refuse, or to be read; never left unread.
    if request.META.get("CONTENT_LENGTH") not in (None, "", "0"):
        return None
    # A host the site does not serve gets its 400 (DisallowedHost), as further in.
    request.get_host()
    anonymous = not any(name in request.COOKIES for name in PRIVATE_COOKIES)
    language = translation.get_language_from_request(request)
    # The scheme: over plain HTTP SecurityMiddleware redirects, and HSTS goes over HTTPS only.
    path = hashlib.sha256(request.get_full_path().encode()).hexdigest()
    return slug, f"agenda:response:{request.scheme}:{language}:{path}", anonymous


def _fits(cached: CachedResponse, anonymous: bool) -> bool:
    """Whether a kept answer may go to this visitor now."""
    public = cached.public
    return (anonymous or public.everyone) and (public.until is None or time.time() < public.until)


# Requests a kept answer is not served to before Django: they bring a validator to check
# (a 304 is for the middleware to give).
CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE")


def serve_recent(application: Callable) -> Callable:
    """Wrap the WSGI application so that what this worker served in the last LOCAL_TIMEOUT
    is answered again before Django's request handling starts (its signals, URL
    configuration, middleware and response objects cost more than the answer itself): the
    same bytes and headers CachedPageMiddleware would give, to the same visitors. Anything
    else (not in this worker's memory, a HEAD, a conditional request, a body, a disallowed
    host) goes on to Django."""

    def front(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET" and not any(name in environ for name in CONDITIONAL):
            request = WSGIRequest(environ)
            try:
                found = _response_key(request)
            except DisallowedHost:
                found = None
            if found is not None:
                _slug, key, anonymous = found
                recent = _recent_answer(key)
                if recent is not None and _fits(recent, anonymous):
                    start_response("200 OK", list(recent.headers))
                    return [recent.content]
        return application(environ, start_response)

    return front
