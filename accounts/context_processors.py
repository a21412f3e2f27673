from django.utils.functional import SimpleLazyObject

from accounts.teams import may_do_anything


def admin_link(request) -> dict:
    """`can_use_admin`: whether the admin has anything for the user (a superuser, or a member
    of a team that may do something in a conference). Asked only when a template uses it."""
    user = getattr(request, "user", None)  # none on pages answered before authentication (413)
    if user is None:
        return {"can_use_admin": False}
    return {"can_use_admin": SimpleLazyObject(lambda: user.is_staff and may_do_anything(user))}
