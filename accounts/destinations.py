"""Where a visitor was going when they met the login, sign-up, verification and password pages.

Those pages carry it as `next` and hand it on to each other unchanged (never a `next` that
points at another of them), so that every way in ends where the visitor was going. The
place is named after the conference it belongs to: conferences are the agenda's, which
this app does not import; the agenda gives its lookup here in its AppConfig.ready().
"""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

REDIRECT_FIELD = "next"
PENDING_LOGIN = "account_login"

_find: Callable[[str], Any] | None = None


def find_with(finder: Callable[[str], Any]) -> None:
    """Use `finder(path) -> conference or None` to learn which conference an address is part of."""
    global _find
    _find = finder


def is_account_page(request: HttpRequest) -> bool:
    """allauth's pages (their URL names all start so)."""
    match = getattr(request, "resolver_match", None)
    return bool(match and match.url_name and match.url_name.startswith("account_"))


def safe_path(value: str) -> str:
    """`value` if it is a path on this site, else ""."""
    if not isinstance(value, str) or not value.startswith("/"):
        return ""
    return value if url_has_allowed_host_and_scheme(value, allowed_hosts=None) else ""


def next_path(request: HttpRequest | None) -> str:
    """The `next` an account page was given (its form's, else its address's), if it is ours;
    between sign-up and verification, where allauth keeps the pending login's."""
    if request is None:
        return ""
    given = request.POST.get(REDIRECT_FIELD) or request.GET.get(REDIRECT_FIELD)
    if given is None and hasattr(request, "session"):
        # allauth's own record of the login waiting for the address to be verified
        # (allauth.account.internal.stagekit), read only.
        given = (request.session.get(PENDING_LOGIN) or {}).get("redirect_url")
    return safe_path(given or "")


def return_address(request: HttpRequest) -> str:
    """Where the header's "Log in" and "Sign up" send the visitor back to: this page, or on
    an account page, the place it was itself given (so that the addresses never nest)."""
    return next_path(request) if is_account_page(request) else request.get_full_path()


def conference_of(path: str) -> Any:
    """The published conference `path` belongs to, or None."""
    return _find(path) if _find is not None and path else None
