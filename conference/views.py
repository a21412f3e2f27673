"""Project-wide views: the health check and the error pages in the site's layout."""

import logging

from celery import current_app
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import cache_control, never_cache

logger = logging.getLogger(__name__)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the database answers (the site can work without Redis), 503 when it does not."""
    checks = {"database": _check_database(), "cache": _check_cache(), "broker": _check_broker()}
    status = 200 if checks["database"] == "ok" else 503
    return JsonResponse({"status": "ok" if status == 200 else "unavailable", "checks": checks}, status=status)


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any driver error means the same thing here
        logger.warning("Health check: database unreachable", exc_info=True)
        return "unavailable"
    return "ok"


def _check_cache() -> str:
    # The cache ignores Redis errors by design, so a round trip is the only honest test.
    try:
        cache.set("healthz", "ok", 5)
        return "ok" if cache.get("healthz") == "ok" else "unavailable"
    except Exception:
        return "unavailable"


def _check_broker() -> str:
    try:
        with current_app.connection_for_write() as conn:
            # One attempt: a load balancer's probe must not wait for retries.
            conn.ensure_connection(max_retries=0, timeout=1)
    except Exception:
        return "unavailable"
    return "ok"


@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    # Browsers and bots ask for /favicon.ico whatever the page links; a temporary redirect,
    # because the static file's name changes with its content.
    return HttpResponseRedirect(static("img/favicon.ico"))


def admin_login(request: HttpRequest) -> HttpResponseRedirect:
    """The admin signs in through the site's own login, so its rate limits, lockouts and
    password checks are the same for staff as for everybody; the admin's form takes no POST."""
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("admin:index")
    return redirect_to_login(next_url, reverse("account_login"))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Rendered without the request context: the database behind it may be what failed.
    return HttpResponseServerError(loader.get_template("500.html").render())


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", status=403)
