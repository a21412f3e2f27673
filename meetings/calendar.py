"""iCalendar entries for meetings, in the agenda's calendar format (agenda.calendar): the
conference's IANA time zone with its VTIMEZONE, one UID per meeting for ever (its guid),
SEQUENCE raised with each change and STATUS:CANCELLED once cancelled, so calendars update
the entry instead of adding another."""

import datetime as dt

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext
from icalendar import Calendar, Event

from agenda.calendar import PRODID, Entry, location
from agenda.models import Conference
from meetings import selectors
from meetings.models import Meeting, Profile


def meeting_uid(meeting: Meeting) -> str:
    return f"{meeting.guid}@meetings.conference"


def meeting_location(meeting: Meeting, conference: Conference) -> str:
    """The table, then the room, venue and city (agenda.calendar.location). The meeting needs
    its table and its block's session with its room loaded."""
    block = meeting.block
    room = block.session.room.name if block.session.room_id else ""
    return location(conference, f"{block.table_label or gettext('Table')} {meeting.table.number}", room)


def build_meeting_calendar(meeting: Meeting, *, viewer: Profile) -> bytes:
    """One VCALENDAR with the meeting as seen by `viewer` (its summary names the other
    side), in the active language. The meeting needs its slot, table, request and block
    loaded; a meeting without a time has no entry and must not be given here."""
    block = meeting.block
    conference = block.session.conference
    other = meeting.request.other(viewer)
    start, end = meeting.slot.start.astimezone(conference.tz), meeting.slot.end.astimezone(conference.tz)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add(
        "summary",
        gettext("Meeting with %(name)s (%(organisation)s)")
        % {"name": other.registration.full_name, "organisation": other.registration.organisation},
    )
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("dtstamp", meeting.updated_at)
    event.add("last-modified", meeting.updated_at)
    event.add("sequence", meeting.sequence)
    event.add("status", "CANCELLED" if meeting.status == Meeting.Status.CANCELLED else "CONFIRMED")
    event.add("location", meeting_location(meeting, conference))
    event.add("url", settings.SITE_URL + reverse("meetings:home", kwargs={"slug": conference.slug}))
    calendar.add_component(event)
    calendar.add_missing_timezones(
        first_date=start.date() - dt.timedelta(days=1), last_date=end.date() + dt.timedelta(days=1)
    )
    return calendar.to_ical()


def programme_entries(user, conference) -> list[Entry]:
    """The user's meetings of `conference` that have a time, for My programme and its feed
    (registration.programme): the same UID, SEQUENCE and summary as the meeting's own .ics.
    Two queries, whatever the number of meetings."""
    profile = Profile.objects.filter(registration__user=user, registration__conference=conference).first()
    if profile is None:
        return []
    entries = []
    for meeting in selectors.timetable(profile).filter(slot__isnull=False):
        other = meeting.request.other(profile)
        entries.append(
            Entry(
                uid=meeting_uid(meeting),
                title=gettext("Meeting with %(name)s (%(organisation)s)")
                % {"name": other.registration.full_name, "organisation": other.registration.organisation},
                start=meeting.slot.start,
                end=meeting.slot.end,
                location=meeting_location(meeting, conference),
                url=settings.SITE_URL + reverse("meetings:home", kwargs={"slug": conference.slug}),
                sequence=meeting.sequence,
                updated_at=meeting.updated_at,
            )
        )
    return entries
