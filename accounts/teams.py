"""Who may do what in which conference: the one place that answers it.

A permission is the name of one of Team's `can_...` fields. Superusers hold every
permission in every conference; anyone else holds a permission in a conference when a
team of theirs that has it runs that conference. Inactive and anonymous users hold none.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from accounts.models import Team

PERMISSIONS = tuple(field.name for field in Team._meta.get_fields() if field.name.startswith("can_"))


def _check(permission: str) -> None:
    if permission not in PERMISSIONS:
        raise ValueError(f"Unknown team permission {permission!r}; one of {', '.join(PERMISSIONS)}.")


def user_can(user, conference, permission: str) -> bool:
    """Whether `user` holds `permission` in `conference` (a Conference or its primary key)."""
    _check(permission)
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    return Team.objects.filter(members=user, conferences=conference, **{permission: True}).exists()


def team_conference_ids(user, permission: str | None = None) -> QuerySet:
    """The primary keys of the conferences where `user` holds `permission` (any permission
    when None) through a team, as a subquery. Superusers are not special here: see `limit`."""
    if permission is not None:
        _check(permission)
    teams = Team.objects.filter(members=user)
    if permission is not None:
        teams = teams.filter(**{permission: True})
    return teams.filter(conferences__isnull=False).values("conferences")


def limit(queryset: QuerySet, user, permission: str | None = None, *, via: str = "conference") -> QuerySet:
    """`queryset` cut down to the objects of the conferences where `user` holds `permission`
    (any team permission when None). `via` is the path from the queryset's model to its
    conference ("" for Conference itself, "session__conference" for a booking, ...)."""
    if user.is_superuser and user.is_active:
        return queryset
    if not (user.is_authenticated and user.is_active):
        return queryset.none()
    lookup = f"{via}__in" if via else "pk__in"
    return queryset.filter(**{lookup: team_conference_ids(user, permission)})


def may_do_anything(user) -> bool:
    """Whether `user` holds any permission in any conference (superusers do): who gets the
    admin, and a link to it."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    any_permission = Q()
    for permission in PERMISSIONS:
        any_permission |= Q(**{permission: True})
    return Team.objects.filter(any_permission, members=user, conferences__isnull=False).exists()


def members_with(conference, permission: str) -> QuerySet:
    """The active users who hold `permission` in `conference` through a team (superusers
    only if they are on such a team): whom the site writes to about that conference."""
    _check(permission)
    return (
        get_user_model()
        .objects.filter(is_active=True, teams__conferences=conference, **{f"teams__{permission}": True})
        .distinct()
        .order_by("pk")
    )
