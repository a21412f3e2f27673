from django.utils.functional import SimpleLazyObject

from accounts import destinations
from accounts.teams import may_do_anything


def admin_link(request) -> dict:
    """`can_use_admin`: whether the admin has anything for the user (a superuser, or a member
    of a team that may do something in a conference). Asked only when a template uses it."""
    user = getattr(request, "user", None)  # none on pages answered before authentication (413)
    if user is None:
        return {"can_use_admin": False}
    return {"can_use_admin": SimpleLazyObject(lambda: user.is_staff and may_do_anything(user))}


def return_address(request) -> dict:
    """`return_to`: where the header's "Log in" and "Sign up" return to (accounts.destinations).
    On an account page, also the `conference` the visitor came from, so that its header
    names it (a view's own `conference` comes first)."""
    if getattr(request, "resolver_match", None) is None:  # answered before URL resolution (413)
        return {"return_to": ""}
    address = destinations.return_address(request)
    if not destinations.is_account_page(request):
        return {"return_to": address}
    conference = destinations.conference_of(address)
    return {"return_to": address, **({"conference": conference} if conference is not None else {})}
