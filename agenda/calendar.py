"""iCalendar for sessions and conferences, shared by the agenda's .ics exports and the
confirmation emails, so a session has one UID everywhere: its guid."""

import datetime
from collections.abc import Iterable

from django.conf import settings
from icalendar import Calendar, Event

from agenda.models import Conference, Session

PRODID = "-//Conference registration and agenda//EN"


def session_uid(session: Session) -> str:
    return f"{session.guid}@conference"


def conference_uid(conference: Conference) -> str:
    return f"{conference.guid}@conference"


def build_calendar(
    conference: Conference,
    sessions: Iterable[Session],
    *,
    name: str | None = None,
    include_conference: bool = False,
) -> bytes:
    """One VCALENDAR with a VEVENT per session, in the conference's IANA time zone; with
    include_conference, first an all-day event spanning the conference days."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name or conference.name)
    calendar.add("x-wr-timezone", conference.timezone)
    tz = conference.tz
    if include_conference:
        event = Event()
        event.add("uid", conference_uid(conference))
        event.add("summary", conference.name)
        event.add("dtstart", conference.start_date)
        event.add("dtend", conference.end_date + datetime.timedelta(days=1))
        event.add("dtstamp", conference.updated_at)
        event.add("status", "CANCELLED" if conference.is_cancelled else "CONFIRMED")
        event.add("location", ", ".join(part for part in (conference.venue, conference.city) if part))
        event.add("url", settings.SITE_URL + conference.get_absolute_url())
        calendar.add_component(event)
    for session in sessions:
        event = Event()
        event.add("uid", session_uid(session))
        event.add("summary", session.title)
        event.add("dtstart", session.start.astimezone(tz))
        event.add("dtend", session.end.astimezone(tz))
        event.add("dtstamp", session.updated_at)
        event.add("last-modified", session.updated_at)
        event.add("sequence", session.sequence)
        event.add("status", "CANCELLED" if session.status == Session.Status.CANCELLED else "CONFIRMED")
        location = session.room.name if session.room_id else conference.venue
        if location:
            event.add("location", location)
        if session.abstract:
            event.add("description", session.abstract)
        event.add("url", settings.SITE_URL + session.get_absolute_url())
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
