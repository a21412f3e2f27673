"""The iCalendar files: what calendar apps rely on, and time zones done right."""

import datetime as dt
import zoneinfo

import pytest
from icalendar import Calendar

from agenda import services
from agenda.calendar import build_calendar, session_uid
from agenda.models import Session
from tests.factories import ConferenceFactory, RoomFactory, SessionFactory

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def events(ical: bytes) -> dict[str, object]:
    return {str(event["summary"]): event for event in Calendar.from_ical(ical).walk("VEVENT")}


def as_clients_without_iana_read_it(ical: bytes, event) -> tuple[dt.datetime, dt.datetime]:
    """Start and end as a client that knows only the VTIMEZONE in the file (Outlook, older
    apps) computes them: from the file's own rules, not from its IANA database."""
    timezones = Calendar.from_ical(ical).walk("VTIMEZONE")
    assert len(timezones) == 1
    assert event["dtstart"].params["TZID"] == timezones[0]["tzid"]
    rules = timezones[0].to_tz(lookup_tzid=False)
    start, end = (event.decoded(name).replace(tzinfo=None).replace(tzinfo=rules) for name in ("dtstart", "dtend"))
    return start.astimezone(UTC), end.astimezone(UTC)


def conference_in(zone: str, start: dt.date, end: dt.date):
    return ConferenceFactory(timezone=zone, start_date=start, end_date=end, registration_opens=None)


def session_at(conference, title: str, start: dt.datetime, minutes: int = 60):
    return SessionFactory(conference=conference, title=title, start=start, end=start + dt.timedelta(minutes=minutes))


def test_madrid_in_winter_and_summer_is_placed_right_by_the_file_alone():
    madrid = zoneinfo.ZoneInfo("Europe/Madrid")
    conference = conference_in("Europe/Madrid", dt.date(2026, 3, 27), dt.date(2026, 3, 30))
    winter = session_at(conference, "Before the change", dt.datetime(2026, 3, 28, 9, tzinfo=madrid))
    summer = session_at(conference, "After the change", dt.datetime(2026, 3, 30, 9, tzinfo=madrid))

    ical = build_calendar(conference, [winter, summer])
    found = events(ical)

    assert b"DTSTART;TZID=Europe/Madrid:20260328T090000" in ical
    assert b"DTSTART;TZID=Europe/Madrid:20260330T090000" in ical
    assert as_clients_without_iana_read_it(ical, found["Before the change"]) == (
        dt.datetime(2026, 3, 28, 8, tzinfo=UTC),
        dt.datetime(2026, 3, 28, 9, tzinfo=UTC),
    )
    assert as_clients_without_iana_read_it(ical, found["After the change"]) == (
        dt.datetime(2026, 3, 30, 7, tzinfo=UTC),
        dt.datetime(2026, 3, 30, 8, tzinfo=UTC),
    )
    vtimezone = Calendar.from_ical(ical).walk("VTIMEZONE")[0]
    assert {part.name for part in vtimezone.subcomponents} == {"STANDARD", "DAYLIGHT"}


def test_madrid_in_winter_only_needs_no_summer_rules():
    madrid = zoneinfo.ZoneInfo("Europe/Madrid")
    conference = conference_in("Europe/Madrid", dt.date(2017, 11, 8), dt.date(2017, 11, 9))
    opening = session_at(conference, "Opening", dt.datetime(2017, 11, 8, 9, tzinfo=madrid))

    ical = build_calendar(conference, [opening])

    assert as_clients_without_iana_read_it(ical, events(ical)["Opening"])[0] == dt.datetime(2017, 11, 8, 8, tzinfo=UTC)
    assert len(ical) < 2000  # not 40 years of daylight-saving rules


def test_zone_west_of_utc_across_its_spring_change():
    new_york = zoneinfo.ZoneInfo("America/New_York")
    conference = conference_in("America/New_York", dt.date(2026, 3, 7), dt.date(2026, 3, 8))
    saturday = session_at(conference, "Saturday", dt.datetime(2026, 3, 7, 21, tzinfo=new_york), minutes=120)
    sunday = session_at(conference, "Sunday", dt.datetime(2026, 3, 8, 9, tzinfo=new_york))

    ical = build_calendar(conference, [saturday, sunday])
    found = events(ical)

    # 21:00 EST on Saturday is already Sunday in UTC.
    assert as_clients_without_iana_read_it(ical, found["Saturday"]) == (
        dt.datetime(2026, 3, 8, 2, tzinfo=UTC),
        dt.datetime(2026, 3, 8, 4, tzinfo=UTC),
    )
    assert as_clients_without_iana_read_it(ical, found["Sunday"]) == (
        dt.datetime(2026, 3, 8, 13, tzinfo=UTC),
        dt.datetime(2026, 3, 8, 14, tzinfo=UTC),
    )


def test_every_event_has_an_end_a_uid_and_a_status():
    conference = conference_in("Europe/Madrid", dt.date(2017, 11, 8), dt.date(2017, 11, 9))
    first = session_at(conference, "Keynote", dt.datetime(2017, 11, 8, 9, tzinfo=conference.tz))
    cancelled = session_at(conference, "Cancelled panel", dt.datetime(2017, 11, 8, 11, tzinfo=conference.tz))
    cancelled.status = Session.Status.CANCELLED

    found = events(build_calendar(conference, [first, cancelled], include_conference=True))

    assert found["Keynote"]["uid"] == f"{first.guid}@conference"
    assert found["Keynote"]["status"] == "CONFIRMED"
    assert found["Cancelled panel"]["status"] == "CANCELLED"
    assert all("dtend" in event for event in found.values())
    assert found[conference.name].decoded("dtend") == dt.date(2017, 11, 10)


def test_location_names_room_venue_and_city_so_maps_find_it(client):
    conference = ConferenceFactory(slug="valencia", venue="Veles e Vents", city="Valencia")
    room = RoomFactory(conference=conference, name="Sala Mediterráneo")
    in_room = SessionFactory(conference=conference, title="Smart voting", room=room)
    everywhere = SessionFactory(conference=conference, title="Lunch", room=None)

    files = [
        build_calendar(conference, [in_room, everywhere], include_conference=True),
        client.get(f"/valencia/agenda/{in_room.code}.ics").content,
        client.get("/valencia/agenda.ics").content,
    ]

    for ical in files:
        found = events(ical)
        assert found["Smart voting"]["location"] == "Sala Mediterráneo, Veles e Vents, Valencia"
    assert events(files[0])["Lunch"]["location"] == "Veles e Vents, Valencia"
    assert events(files[0])[conference.name]["location"] == "Veles e Vents, Valencia"


def test_moved_session_keeps_its_uid_and_raises_sequence_and_last_modified():
    conference = conference_in("Europe/Madrid", dt.date(2017, 11, 8), dt.date(2017, 11, 9))
    session = session_at(conference, "Smart voting", dt.datetime(2017, 11, 8, 15, tzinfo=conference.tz))
    # Last changed yesterday: calendar times count whole seconds.
    Session.objects.filter(pk=session.pk).update(updated_at=session.updated_at - dt.timedelta(days=1))
    session.refresh_from_db()
    before = events(build_calendar(conference, [session]))["Smart voting"]

    session.start += dt.timedelta(days=1)
    session.end += dt.timedelta(days=1)
    session.room = RoomFactory(conference=conference, name="Sala 2")
    services.save_session(session)
    session = Session.objects.select_related("room").get(pk=session.pk)
    after = events(build_calendar(conference, [session]))["Smart voting"]

    assert after["uid"] == before["uid"] == session_uid(session)
    assert after["sequence"] == before["sequence"] + 1
    assert after.decoded("last-modified") > before.decoded("last-modified")
    assert after["location"] == "Sala 2, Veles e Vents, Valencia"
    assert after.decoded("dtstart") == dt.datetime(2017, 11, 9, 15, tzinfo=conference.tz)
