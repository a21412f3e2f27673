"""Rate limits on the site's own forms, counted like allauth's (ACCOUNT_RATE_LIMITS)."""

from collections.abc import Callable
from functools import wraps

from allauth.core import ratelimit
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def limit_posts(action: str) -> Callable[[Callable], Callable]:
    """Refuse POSTs beyond the limits of the allauth rate-limit `action` with a 429 page."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "POST" and not ratelimit.consume(request, action=action):
                return render(request, "conference/rate_limited.html", status=429)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
