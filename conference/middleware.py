"""Project-wide middleware: the Permissions-Policy header, a request body limit, personal
responses never stored, the language switch of anonymous pages, and a busy or unreachable
database answered with a friendly 503 instead of a 500."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template import loader
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme

logger = logging.getLogger(__name__)

# Powerful browser features this site never uses, refused for it and for anything it embeds.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), browsing-topics=()"
# What PostgreSQL raises for a lock wait or a statement over its timeout, a lost
# connection, or a server that does not answer: all mean "try again shortly".
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class PermissionsPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class RequestSizeMiddleware:
    """Refuse a request whose body is larger than any form of the site takes (REQUEST_BODY_MAX_SIZE)
    with a 413, before a byte of it is read: Django's own limits skip uploaded files."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.REQUEST_BODY_MAX_SIZE:
            response = HttpResponse(loader.render_to_string("413.html", request=request), status=413)
            # The client sent a body nobody reads: the connection cannot be reused.
            response["Connection"] = "close"
            return response
        return self.get_response(request)


class PrivateResponsesMiddleware:
    """What a signed-in visitor sees (their registration, their details, their data, staff lists)
    is never kept by the browser or any cache on the way (Cache-Control: no-store, private),
    unless the view says how it may be cached."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control") and _may_be_signed_in(request):
            add_never_cache_headers(response)
        return response


def _may_be_signed_in(request: HttpRequest) -> bool:
    try:
        return request.user.is_authenticated
    except DATABASE_UNAVAILABLE:
        # The answer is the friendly 503; whose it is cannot be known, so it is kept private.
        return True


# The query parameter of the language switch on anonymous pages.
LANGUAGE_PARAMETER = "lang"


class LanguageSwitchMiddleware:
    """`?lang=es` on any address sets the language cookie and redirects to the same
    address without it: the language switch of pages for anonymous visitors, a GET form
    without a CSRF token, so that those pages are the same for every visitor and can be
    kept whole (agenda.caching).

    Why a GET is safe here: it changes nothing on the server, only this browser's cookie;
    a forged switch (a link elsewhere) shows someone a page in another language, which
    the same switch undoes, and tells the forger nothing. A logged-in user's choice is
    also kept on their account, a change to stored data: that stays a POST with its CSRF
    token (set_language), from the form their pages carry. The redirect only ever goes
    to the requested path on this site, never to an address taken from the request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD") or LANGUAGE_PARAMETER not in request.GET:
            return self.get_response(request)
        language = request.GET[LANGUAGE_PARAMETER]
        query = request.GET.copy()
        del query[LANGUAGE_PARAMETER]
        target = request.path + (f"?{query.urlencode()}" if query else "")
        # A path such as //elsewhere.example/ would leave the site.
        if not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
            target = "/"
        response = HttpResponseRedirect(target)
        if language in dict(settings.LANGUAGES):
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        add_never_cache_headers(response)
        return response


class DatabaseUnavailableMiddleware:
    """A request that may write (POST and the like) runs in one transaction, rolled back
    when the answer is a 5xx, so a lock timeout or a lost database half-way leaves nothing
    half-saved. Lock and statement timeouts and an unreachable database become the 503
    page with Retry-After, whether they happen in the view, its template or the commit.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in SAFE_METHODS:
            return self.get_response(request)
        try:
            with transaction.atomic():
                response = self.get_response(request)
                if response.status_code >= 500:
                    transaction.set_rollback(True)
        except DATABASE_UNAVAILABLE as exc:
            return service_unavailable(request, exc)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_UNAVAILABLE):
            return service_unavailable(request, exception)
        return None


def service_unavailable(request: HttpRequest, exception: Exception) -> HttpResponse:
    logger.warning("Database unavailable for %s %s: %s", request.method, request.path, exception)
    # Rendered without the request context (looking up the user needs the database), in the
    # visitor's language even when the failure came before the locale middleware ran.
    with translation.override(translation.get_language_from_request(request)):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response
