"""Rate limits on the site's own forms, counted like allauth's (ACCOUNT_RATE_LIMITS)."""

from collections.abc import Callable
from functools import wraps

from allauth.core import ratelimit
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def limit_posts(action: str, *, key: Callable[[HttpRequest], str] | None = None) -> Callable[[Callable], Callable]:
    """Refuse POSTs beyond the limits of the allauth rate-limit `action` with a 429 page.

    `key(request)` names who a `/key` rate counts: someone without an account (a guest of
    the voting) has neither a user nor an address of their own."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "POST" and not ratelimit.consume(
                request, action=action, key=key(request) if key else None
            ):
                return render(request, "conference/rate_limited.html", status=429)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
