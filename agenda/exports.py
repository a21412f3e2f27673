"""The programme in the frab schedule format (schedule.xml and schedule.json), which
Giggity, EventFahrplan, ConfClerk and other conference apps read.

Valid against the published schemas (a copy is kept in tests/agenda/schemas), and careful
with what they let through but apps choke on: durations as HH:MM, a numeric id and a guid for every
person, ids that stay the same when a session moves, acronyms both schemas accept, and
UTC offsets on every date and time.
"""

import datetime
import json
import math
import re
import uuid
from dataclasses import dataclass
from xml.etree import ElementTree

from django.conf import settings
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _

from agenda.models import Session, Track
from agenda.selectors import Programme

GENERATOR = "conference-agenda"
JSON_SCHEMA_URL = "https://c3voc.de/schedule/schema.json"
# The JSON schema's time_zone_name pattern; other IANA names (Etc/GMT+3, US/Eastern) are left out there.
JSON_TIME_ZONE_NAME = re.compile(r"^([A-Z][a-z]+/[A-Z][a-z]+)|UTC$")


@dataclass
class Day:
    index: int
    date: datetime.date
    start: datetime.datetime
    end: datetime.datetime
    rooms: dict[str, tuple[str, list[Session]]]  # name -> (guid, sessions)


def acronym(programme: Programme) -> str:
    """The conference slug in the one shape both schemas accept: lowercase letters,
    digits and underscores, at least four (the JSON schema refuses `growyourregion-2017`)."""
    return programme.conference.slug.lower().replace("-", "_").ljust(4, "_")


def track_slug(track: Track) -> str:
    """A slug the XSD accepts: it must start with a letter (`2 Technology` would not)."""
    slug = re.sub(r"[^a-z0-9]+", "-", slugify(track.name)).strip("-") or str(track.pk)
    return slug if slug[0].isalpha() else f"track-{slug}"


def event_slug(programme: Programme, session: Session) -> str:
    title = re.sub(r"[^a-z0-9]+", "-", slugify(session.title))[:50].strip("-")
    return f"{acronym(programme)}-{session.pk}-{title or 'session'}"


def hours_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def duration(session: Session) -> str:
    return hours_minutes(int((session.end - session.start).total_seconds() // 60))


def timeslot_minutes(programme: Programme) -> int:
    """The largest step, up to an hour, that every start and end falls on."""
    step = 60
    for session in programme.sessions:
        for moment in (session.start.astimezone(programme.tz), session.end.astimezone(programme.tz)):
            step = math.gcd(step, moment.hour * 60 + moment.minute)
    return step or 60


def all_rooms_name() -> str:
    return _("All rooms")


def room_columns(programme: Programme) -> list[tuple[str, str]]:
    """(name, guid) of each room in order; sessions without a room go under one shared
    “All rooms” with a guid derived from the conference's, so it is stable too."""
    columns = [(room.name, str(room.guid)) for room in programme.rooms]
    if any(session.room_id is None for session in programme.sessions):
        columns.insert(0, (all_rooms_name(), str(uuid.uuid5(programme.conference.guid, "all-rooms"))))
    return columns


def days(programme: Programme) -> list[Day]:
    """Each programme day with every room, in order, so apps keep their columns."""
    columns = room_columns(programme)
    result = []
    for index, date in enumerate(programme.days, start=1):
        sessions = programme.sessions_on(date)
        rooms = {name: (guid, []) for name, guid in columns}
        for session in sessions:
            rooms[session.room.name if session.room_id else all_rooms_name()][1].append(session)
        if sessions:
            start, end = min(s.start for s in sessions), max(s.end for s in sessions)
        else:
            start = datetime.datetime.combine(date, datetime.time(), tzinfo=programme.tz)
            end = start + datetime.timedelta(days=1)
        result.append(Day(index, date, start.astimezone(programme.tz), end.astimezone(programme.tz), rooms))
    return result


def _absolute(url: str) -> str:
    return settings.SITE_URL + url


def _session_url(programme: Programme, session: Session) -> str:
    return _absolute(reverse("agenda:session", kwargs={"slug": programme.conference.slug, "code": session.code}))


def _speaker_url(programme: Programme, code: str) -> str:
    return _absolute(reverse("agenda:speaker", kwargs={"slug": programme.conference.slug, "code": code}))


def _title(session: Session) -> str:
    # Apps have no status field: a cancelled session keeps its place and says so.
    return _("Cancelled: %(title)s") % {"title": session.title} if session.is_cancelled else session.title


def schedule_json(programme: Programme) -> bytes:
    conference = programme.conference
    body = {
        "$schema": JSON_SCHEMA_URL,
        "generator": {"name": GENERATOR},
        "schedule": {
            "version": str(conference.content_version),
            "base_url": _absolute("/"),
            "url": _absolute(reverse("agenda:schedule_json", kwargs={"slug": conference.slug})),
            "conference": {
                "acronym": acronym(programme),
                "title": conference.name,
                "description": conference.tagline,
                "start": programme.days[0].isoformat(),
                "end": programme.days[-1].isoformat(),
                "daysCount": len(programme.days),
                "timeslot_duration": hours_minutes(timeslot_minutes(programme)),
                **({"time_zone_name": conference.timezone} if JSON_TIME_ZONE_NAME.match(conference.timezone) else {}),
                "url": _absolute(conference.get_absolute_url()),
                "tracks": [
                    {"name": track.name, "slug": track_slug(track), "color": track.colour.lower()}
                    for track in programme.tracks
                ],
                "rooms": [{"name": name, "guid": guid} for name, guid in room_columns(programme)],
                "days": [
                    {
                        "index": day.index,
                        "date": day.date.isoformat(),
                        "day_start": day.start.isoformat(),
                        "day_end": day.end.isoformat(),
                        "rooms": {
                            name: [_json_event(programme, session, name) for session in sessions]
                            for name, (_guid, sessions) in day.rooms.items()
                        },
                    }
                    for day in days(programme)
                ],
            },
        },
    }
    # Compact: the indented encoder is pure Python and several times slower.
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _json_event(programme: Programme, session: Session, room: str) -> dict:
    start = session.start.astimezone(programme.tz)
    return {
        "guid": str(session.guid),
        "id": session.pk,
        "date": start.isoformat(),
        "start": start.strftime("%H:%M"),
        "end": session.end.astimezone(programme.tz).isoformat(),
        "duration": duration(session),
        "room": room,
        "slug": event_slug(programme, session),
        "url": _session_url(programme, session),
        "title": _title(session),
        "subtitle": "",
        "track": session.track.name if session.track_id else None,
        "type": session.kind_label,
        "language": session.language,
        "abstract": session.abstract,
        "description": session.description,
        "persons": [
            # `name` without `public_name`: the schema's Person is oneOf frab's and
            # pretalx's shape, and a person matching both is invalid.
            {
                "id": appearance.speaker.pk,
                "guid": str(appearance.speaker.guid),
                "name": appearance.speaker.name,
                "biography": appearance.speaker.biography,
                "url": _speaker_url(programme, appearance.speaker.code),
            }
            for appearance in session.session_speakers.all()
        ],
        "links": [],
    }


def schedule_xml(programme: Programme) -> bytes:
    conference = programme.conference
    root = ElementTree.Element("schedule")
    ElementTree.SubElement(root, "generator", name=GENERATOR)
    _text(root, "url", _absolute(reverse("agenda:schedule_xml", kwargs={"slug": conference.slug})))
    _text(root, "version", str(conference.content_version))
    head = ElementTree.SubElement(root, "conference")
    _text(head, "title", conference.name)
    _text(head, "acronym", acronym(programme))
    _text(head, "start", programme.days[0].isoformat())
    _text(head, "end", programme.days[-1].isoformat())
    _text(head, "days", str(len(programme.days)))
    _text(head, "timeslot_duration", hours_minutes(timeslot_minutes(programme)))
    _text(head, "base_url", _absolute("/"))
    _text(head, "url", _absolute(conference.get_absolute_url()))
    _text(head, "time_zone_name", conference.timezone)
    for track in programme.tracks:
        element = _text(head, "track", track.name)
        element.attrib.update(name=track.name, color=track.colour.lower(), slug=track_slug(track))
    for day in days(programme):
        day_element = ElementTree.SubElement(
            root,
            "day",
            index=str(day.index),
            date=day.date.isoformat(),
            start=day.start.isoformat(),
            end=day.end.isoformat(),
        )
        for name, (guid, sessions) in day.rooms.items():
            room_element = ElementTree.SubElement(day_element, "room", name=name, guid=guid)
            for session in sessions:
                _xml_event(room_element, programme, session, name)
    ElementTree.indent(root, space=" ")
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def _xml_event(parent: ElementTree.Element, programme: Programme, session: Session, room: str) -> None:
    start = session.start.astimezone(programme.tz)
    event = ElementTree.SubElement(parent, "event", id=str(session.pk), guid=str(session.guid))
    _text(event, "date", start.isoformat())
    _text(event, "start", start.strftime("%H:%M"))
    _text(event, "duration", duration(session))
    _text(event, "room", room)
    _text(event, "slug", event_slug(programme, session))
    _text(event, "url", _session_url(programme, session))
    _text(event, "title", _title(session))
    _text(event, "track", session.track.name if session.track_id else "")
    _text(event, "type", session.kind_label)
    _text(event, "language", session.language)
    _text(event, "abstract", session.abstract)
    _text(event, "description", session.description)
    persons = ElementTree.SubElement(event, "persons")
    for appearance in session.session_speakers.all():
        speaker = appearance.speaker
        _text(persons, "person", speaker.name).attrib.update(id=str(speaker.pk), guid=str(speaker.guid))
    ElementTree.SubElement(event, "links")


def _text(parent: ElementTree.Element, tag: str, text: str) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, tag)
    element.text = text
    return element
