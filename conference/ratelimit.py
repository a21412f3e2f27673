"""Rate limits on the site's own forms, counted like allauth's (ACCOUNT_RATE_LIMITS)."""

from collections.abc import Callable
from functools import wraps
from http import HTTPStatus

from allauth.core.internal import ratelimit
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

# allauth's settings (ACCOUNT_RATE_LIMITS) hold our limits next to its own.
APP = "allauth.account"


def limit_posts(action: str, *, key: Callable[[HttpRequest], str] | None = None) -> Callable[[Callable], Callable]:
    """Refuse POSTs beyond the limits of the allauth rate-limit `action` with a 429 page.

    A POST answered 400 (a form sent back with errors, nothing done) counts against
    `<action>_failed` instead, a budget of its own: someone putting a form right may try as
    often as they need without losing the submissions `action` allows, while a flood of
    either kind is still refused. Past the failed budget every POST is refused, the right
    one too, as allauth does with failed logins.

    `key(request)` names who a `/key` rate counts: someone without an account (a guest of
    the voting) has neither a user nor an address of their own."""
    failed = f"{action}_failed"

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method != "POST":
                return view(request, *args, **kwargs)
            who = key(request) if key else None
            if not _consume(request, failed, who, dry_run=True):
                return _refuse(request)
            # Counted before the view runs, so that parallel submissions cannot all slip through.
            usage = _consume(request, action, who)
            if not usage:
                return _refuse(request)
            response = view(request, *args, **kwargs)
            if response.status_code == HTTPStatus.BAD_REQUEST:
                usage.rollback()
                _consume(request, failed, who)
            return response

        return wrapper

    return decorator


def _consume(request: HttpRequest, action: str, key: str | None, *, dry_run: bool = False):
    return ratelimit.consume(request, app=APP, action=action, key=key, dry_run=dry_run)


def _refuse(request: HttpRequest) -> HttpResponse:
    return render(request, "conference/rate_limited.html", status=HTTPStatus.TOO_MANY_REQUESTS)
