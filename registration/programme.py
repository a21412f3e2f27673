"""A person's own programme of a conference ("My programme"): the sessions they starred,
the pre-events they booked, and what other apps add through `register` (the meetings app,
a person's bilateral meetings), day by day with clashes marked; and its private calendar
feed, whose secret token is the only key to it.

Other apps add themselves in their AppConfig.ready(), as they do to
accounts.personal_data: registration imports none of them.
"""

import datetime
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from agenda import stars
from agenda.calendar import Entry
from agenda.models import Conference, Session
from registration.models import Booking, ProgrammeFeed, Registration, User

# A source gives a person's entries of a conference; each runs a fixed number of queries.
Source = Callable[[User, Conference], Iterable[Entry]]

_sources: dict[str, tuple[str, Source]] = {}


def register(name: str, *, label: str, entries: Source) -> None:
    """Add an app's entries to My programme under `name`, shown with `label` (lazy text)."""
    if name in _sources and _sources[name] != (label, entries):
        raise ValueError(f"A source of My programme named {name!r} is registered already.")
    _sources[name] = (label, entries)


@dataclass
class Item:
    """One line of My programme: a session (starred or booked) or another app's entry."""

    start: datetime.datetime
    end: datetime.datetime
    title: str
    url: str
    location: str
    labels: list[str]
    is_cancelled: bool
    session: Session | None = None
    starred: bool = False
    clashes: list["Item"] = field(default_factory=list)


@dataclass
class Programme:
    sessions: list[Session]
    entries: list[Entry]
    items: list[Item]

    def days(self, tz: datetime.tzinfo) -> list[tuple[datetime.date, list[Item]]]:
        return _by_day(self.items, tz)


def _by_day(items: list[Item], tz: datetime.tzinfo) -> list[tuple[datetime.date, list[Item]]]:
    """Items in time order, grouped by their day in the time zone `tz`."""
    by_day: dict[datetime.date, list[Item]] = {}
    for item in items:
        by_day.setdefault(item.start.astimezone(tz).date(), []).append(item)
    return sorted(by_day.items())


def load_programme(user: User, conference: Conference) -> Programme:
    """The user's programme of `conference`, in time order, clashes marked: the starred
    sessions (one query), the live registration's bookings (one query; a waiting-list
    place is shown as such, but only a seat goes in the calendar) and each source's entries."""
    labels: dict[int, list[str]] = {}
    sessions: dict[int, Session] = {}
    starred = set()
    for session in stars.starred(user, conference):
        starred.add(session.pk)
        sessions[session.pk] = session
        labels.setdefault(session.pk, []).append(_("Starred"))
    bookings = Booking.objects.filter(
        registration__user=user,
        registration__conference=conference,
        registration__status__in=Registration.LIVE_STATUSES,
    ).select_related("session__room", "session__conference")
    in_calendar = set(sessions)
    for booking in bookings:
        sessions.setdefault(booking.session_id, booking.session)
        if booking.status == Booking.Status.CONFIRMED:
            in_calendar.add(booking.session_id)
            labels.setdefault(booking.session_id, []).append(_("Seat booked"))
        else:
            labels.setdefault(booking.session_id, []).append(_("On the waiting list"))
    items = [_session_item(session, labels[session.pk], starred=session.pk in starred) for session in sessions.values()]
    entries, entry_items = _source_entries(user, conference)
    items = sorted(items + entry_items, key=_in_time_order)
    _mark_clashes(items)
    return Programme(
        sessions=sorted((sessions[pk] for pk in in_calendar), key=lambda session: (session.start, session.pk)),
        entries=entries,
        items=items,
    )


def booked_days(
    user: User, conference: Conference, booked: Iterable[Session]
) -> list[tuple[datetime.date, list[Item]]]:
    """What a person has a place at, day by day in the conference's time zone, for the emails
    that remind them of it: the sessions they have a seat on (`booked`, given by the caller
    with their rooms loaded) and every source's entries (a bilateral meeting, say); not the
    sessions they only starred. Runs only the sources' queries, a fixed number each."""
    _entries, entry_items = _source_entries(user, conference)
    items = [_session_item(session, [_("Seat booked")]) for session in booked] + entry_items
    return _by_day(sorted(items, key=_in_time_order), conference.tz)


def _session_item(session: Session, labels: list[str], *, starred: bool = False) -> Item:
    return Item(
        start=session.start,
        end=session.end,
        title=session.title,
        url=session.get_absolute_url(),
        location=session.room.name if session.room_id else _("All rooms"),
        labels=labels,
        is_cancelled=session.is_cancelled,
        session=session,
        starred=starred,
    )


def _source_entries(user: User, conference: Conference) -> tuple[list[Entry], list[Item]]:
    """Every source's entries of the user's programme, and each as an item with its source's label."""
    entries, items = [], []
    for label, source in _sources.values():
        for entry in source(user, conference):
            entries.append(entry)
            items.append(
                Item(entry.start, entry.end, entry.title, entry.url, entry.location, [str(label)], entry.is_cancelled)
            )
    return entries, items


def _in_time_order(item: Item) -> tuple:
    return (item.start, item.end, item.title)


def _mark_clashes(items: list[Item]) -> None:
    """Items that overlap in time, cancelled ones aside; `items` in start order."""
    held = [item for item in items if not item.is_cancelled]
    for index, item in enumerate(held):
        for other in held[index + 1 :]:
            if other.start >= item.end:
                break
            item.clashes.append(other)
            other.clashes.append(item)


def programme_feed(user: User, conference: Conference) -> ProgrammeFeed:
    """The user's feed of `conference`, given a token the first time it is asked for."""
    feed = ProgrammeFeed.objects.filter(user=user, conference=conference).first()
    if feed is not None:
        return feed
    try:
        with transaction.atomic():
            return ProgrammeFeed.objects.create(user=user, conference=conference, token=_new_token())
    except IntegrityError:
        # Asked for twice at once (two tabs): the other request made it.
        return ProgrammeFeed.objects.get(user=user, conference=conference)


def renew_programme_feed(user: User, conference: Conference) -> ProgrammeFeed:
    """Give the user's feed of `conference` a new token: the old address stops working."""
    feed = programme_feed(user, conference)
    ProgrammeFeed.objects.filter(pk=feed.pk).update(token=_new_token())
    feed.refresh_from_db()
    return feed


def _new_token() -> str:
    # 256 bits: the address is the only key, and stays in calendar apps for years.
    return secrets.token_urlsafe(32)
