"""iCalendar for sessions and conferences, shared by the agenda's .ics exports and the
confirmation emails, so a session has one UID everywhere: its guid."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from icalendar import Calendar, Event

from agenda.models import Conference, Session

PRODID = "-//Conference registration and agenda//EN"


def session_uid(session: Session) -> str:
    return f"{session.guid}@conference"


def conference_uid(conference: Conference) -> str:
    return f"{conference.guid}@conference"


@dataclass(frozen=True)
class Entry:
    """An event that is not a session of the programme (a bilateral meeting, say), for a
    personal calendar; its app gives it a UID that stays the same across changes."""

    uid: str
    title: str
    start: datetime.datetime
    end: datetime.datetime
    location: str
    url: str
    sequence: int
    updated_at: datetime.datetime
    is_cancelled: bool = False


def location(conference: Conference, *places: str) -> str:
    """An event's LOCATION: the given places (a table, a room), then the venue and the city,
    so that a map app finds the building from the calendar entry alone."""
    return ", ".join(part for part in (*places, conference.venue, conference.city) if part)


def build_calendar(
    conference: Conference,
    sessions: Iterable[Session],
    *,
    name: str | None = None,
    include_conference: bool = False,
    refresh_interval: datetime.timedelta | None = None,
    entries: Iterable[Entry] = (),
) -> bytes:
    """One VCALENDAR with a VEVENT per session, in the conference's IANA time zone; with
    include_conference, first an all-day event spanning the conference days.

    Sessions need their room loaded (select_related). Every event has a start and an end
    with the TZID of the conference and one VTIMEZONE for it, covering the days of the
    events, so clients without the IANA database place them right across DST changes.
    refresh_interval tells subscribing clients how often to fetch the calendar again.
    `entries` are further events, after the sessions.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name or conference.name)
    calendar.add("x-wr-timezone", conference.timezone)
    if refresh_interval:
        calendar.add("refresh-interval", refresh_interval, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", refresh_interval)
    tz = conference.tz
    days = set()
    if include_conference:
        event = Event()
        event.add("uid", conference_uid(conference))
        event.add("summary", conference.name)
        event.add("dtstart", conference.start_date)
        event.add("dtend", conference.end_date + datetime.timedelta(days=1))
        event.add("dtstamp", conference.updated_at)
        event.add("status", "CANCELLED" if conference.is_cancelled else "CONFIRMED")
        if location(conference):
            event.add("location", location(conference))
        event.add("url", settings.SITE_URL + conference.get_absolute_url())
        calendar.add_component(event)
    for session in sessions:
        start, end = session.start.astimezone(tz), session.end.astimezone(tz)
        days.update((start.date(), end.date()))
        event = Event()
        event.add("uid", session_uid(session))
        event.add("summary", session.title)
        event.add("dtstart", start)
        event.add("dtend", end)
        # Without METHOD, DTSTAMP is when the entry was last revised (RFC 5545, 3.8.7.2).
        event.add("dtstamp", session.updated_at)
        event.add("last-modified", session.updated_at)
        event.add("sequence", session.sequence)
        event.add("status", "CANCELLED" if session.is_cancelled else "CONFIRMED")
        event.add("categories", [session.kind_label])
        where = location(conference, session.room.name if session.room_id else "")
        if where:
            event.add("location", where)
        if session.abstract:
            event.add("description", session.abstract)
        url = reverse("agenda:session", kwargs={"slug": conference.slug, "code": session.code})
        event.add("url", settings.SITE_URL + url)
        calendar.add_component(event)
    for entry in entries:
        start, end = entry.start.astimezone(tz), entry.end.astimezone(tz)
        days.update((start.date(), end.date()))
        event = Event()
        event.add("uid", entry.uid)
        event.add("summary", entry.title)
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add("dtstamp", entry.updated_at)
        event.add("last-modified", entry.updated_at)
        event.add("sequence", entry.sequence)
        event.add("status", "CANCELLED" if entry.is_cancelled else "CONFIRMED")
        if entry.location:
            event.add("location", entry.location)
        event.add("url", settings.SITE_URL + entry.url)
        calendar.add_component(event)
    if days:
        # Only the transitions around the events: a VTIMEZONE for 1970-2038 would be
        # larger than the programme, and wrong after 2038.
        calendar.add_missing_timezones(
            first_date=min(days) - datetime.timedelta(days=1), last_date=max(days) + datetime.timedelta(days=1)
        )
    return calendar.to_ical()
