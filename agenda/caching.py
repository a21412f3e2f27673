"""Public pages and exports come from the cache (Redis), keyed by conference, content
version, language, view and its parameters. An organiser's edit raises the content
version (services.bump_content_version), so every key changes at once: no flush, and
stale entries simply expire.

Keys also carry a digest of the code, templates, translations and date formats that
render the content, so a deploy that changes them starts afresh too.

Pages cache the programme part of their content only. The layout around it shows who is
logged in and carries a CSRF token, so it is rendered per request (cheaply); seats left
move with every registration, so the cached HTML holds a marker where they go and each
request fills them from one uncached aggregate query over the sessions the page shows
(agenda.seats, which registration counts). Stars work the same way: the cached HTML holds a
marker per session, filled per request with a button that the browser's script keeps for a
visitor without an account (the same for every such visitor), or, for someone logged in, a
form showing whether they starred it (one query over the sessions the page shows).

Validators: exports have an ETag and a Last-Modified (the conference's `updated_at`,
moved with each version). Pages have an ETag only, over everything they show (the cached
content, seats left, the visitor and their CSRF cookie): a Last-Modified could not say
when a seat was taken.
"""

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.html import format_html
from django.utils.http import http_date, quote_etag
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from agenda import seats, stars
from agenda.models import Conference, Session

# Keys change with every edit, so entries only need to outlive a quiet day.
TIMEOUT = 60 * 60 * 24
SEATS_MARKER = re.compile(r"<!--seats:(\d+)-->")
STAR_MARKER = re.compile(r"<!--star:(\d+):([-\w]+)-->")


def _release() -> str:
    package = Path(__file__).resolve().parent
    sources = [
        *package.glob("**/*.py"),
        *(settings.BASE_DIR / "templates" / "agenda").glob("**/*.html"),
        *(settings.BASE_DIR / "conference" / "formats").glob("**/*.py"),
        *(path for directory in settings.LOCALE_PATHS for path in Path(directory).glob("**/*.mo")),
    ]
    digest = hashlib.sha256()
    for path in sorted(sources):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


RELEASE = _release()


@dataclass(frozen=True)
class Fragment:
    """The cached, programme-derived part of a page."""

    title: str
    html: str


def cache_key(conference: Conference, view: str, params: Iterable[tuple[str, str]] = ()) -> str:
    """Only validated, normalised parameters go in: a key per real variant of a page."""
    # The guid, not the primary key: databases that share a Redis (test workers) reuse keys.
    version = f"{conference.guid}:{conference.content_version}:{RELEASE}"
    return f"agenda:{version}:{get_language()}:{view}:{urlencode(sorted(params))}"


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
) -> HttpResponse:
    """Render `template` around the cached fragment (built by `build` on a miss, which may
    raise Http404), answering 304 when the visitor already has this very page. `context`
    is rendered per request and so must be small and part of the ETag."""
    fragment = cache.get_or_set(key, build, TIMEOUT)
    # Only the sessions this page shows: a booking elsewhere changes neither its seats nor its ETag.
    left = seats.seats_left(marked_sessions(fragment.html))
    user = request.user
    starrable = marked_stars(fragment.html)
    starred = stars.starred_ids(user, starrable) if user.is_authenticated and starrable else set()
    etag = _etag(
        key,
        sorted(left.items()),
        sorted(starred),
        sorted((context or {}).items()),
        user.pk,
        user.is_staff,
        request.COOKIES.get(settings.CSRF_COOKIE_NAME, ""),
    )
    response = get_conditional_response(request, etag=etag)
    if response is None:
        # The fragment was rendered, escaped, by our own templates; what is filled in is
        # integers and format_html's escaped markup.
        content = mark_safe(  # noqa: S308  # nosec B308 B703
            fill_stars(fill_seats(fragment.html, left), request, conference, starred)
        )
        page_context = {"conference": conference, "title": fragment.title, "content": content, **(context or {})}
        response = render(request, template, page_context)
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    return response


def export_response(
    request: HttpRequest,
    conference: Conference,
    *,
    key: str,
    build: Callable[[], bytes],
    content_type: str,
    filename: str | None = None,
) -> HttpResponse:
    """The cached export (built by `build` on a miss), or 304 for a client that has it."""
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
    return response


def _etag(*parts) -> str:
    return quote_etag(hashlib.sha256(repr(parts).encode()).hexdigest()[:32])
