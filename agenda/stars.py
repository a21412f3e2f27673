"""Stars: the sessions a visitor marks for their own programme.

Anyone can star: a visitor without an account keeps their stars in the browser
(static/js/stars.js), an account keeps them here. After logging in, the browser sends
the stars it kept once (`merge_stars`), so nothing starred before is lost. Star writes
touch one person's rows only and lock nothing: the unique constraint makes starring twice,
or two tabs merging at once, a no-op instead of an error.

Which sessions a person starred is kept in the cache (`starred_ids`), so that their agenda
pages cost one query, for their user. Every write here forgets it, now and when the write
commits; a copy read just before a commit and stored just after lingers at most
STARRED_TIMEOUT (two tabs of one person starring at the same moment).
"""

from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet

from agenda.models import Conference, Session, Star

# More codes than a programme has sessions is not a browser's list of stars.
MAX_MERGED = 1000
STARRED_TIMEOUT = 60 * 60


def star_session(user, session: Session) -> None:
    """Put `session` on the user's programme; starring it again changes nothing."""
    Star.objects.bulk_create([Star(user=user, session=session)], ignore_conflicts=True)
    _forget(user)


def unstar_session(user, session: Session) -> None:
    """Take `session` off the user's programme, if it is there."""
    Star.objects.filter(user=user, session=session).delete()
    _forget(user)


def merge_stars(user, conference: Conference, codes: Iterable[str]) -> int:
    """Star the sessions of `conference` with these codes (what the browser kept before
    login); unknown codes and other conferences' sessions are ignored. Idempotent.
    Returns how many of the codes name a session of the conference."""
    wanted = list(dict.fromkeys(code for code in codes if isinstance(code, str)))[:MAX_MERGED]
    sessions = list(Session.objects.filter(conference=conference, code__in=wanted).only("pk"))
    Star.objects.bulk_create([Star(user=user, session=session) for session in sessions], ignore_conflicts=True)
    _forget(user)
    return len(sessions)


def starred(user, conference: Conference) -> QuerySet[Session]:
    """The user's starred sessions of `conference`, in time order, room loaded."""
    return (
        Session.objects.filter(conference=conference, stars__user=user)
        .select_related("room", "conference")
        .order_by("start", "pk")
    )


def starred_ids(user, session_ids: Iterable[int]) -> set[int]:
    """Which of these sessions the user starred: from the cache, else one query for all
    their stars, kept until they star or unstar something."""
    key = _starred_key(user)
    starred = cache.get(key)
    if starred is None:
        starred = frozenset(Star.objects.filter(user=user).values_list("session_id", flat=True))
        cache.set(key, starred, STARRED_TIMEOUT)
    return starred.intersection(session_ids)


def _starred_key(user) -> str:
    return f"agenda:starred:{user.pk}"


def _forget(user) -> None:
    key = _starred_key(user)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def stars_data(user) -> list[dict]:
    """The user's stars, for their own-data download."""
    return [
        {
            "conference": star.session.conference.slug,
            "session": star.session.code,
            "starred_at": star.created_at.isoformat(),
        }
        for star in Star.objects.filter(user=user).select_related("session__conference").order_by("created_at", "pk")
    ]


def erase_stars(user) -> None:
    Star.objects.filter(user=user).delete()
    _forget(user)
