"""schedule.xml and schedule.json: valid against the published frab schemas, and free of
what the schemas let through but apps choke on (schemas/README.md)."""

import datetime as dt
import json
import re
import uuid

import jsonschema
import pytest
from lxml import etree

from agenda import services
from agenda.models import Session
from tests.agenda.conftest import build_programme, local
from tests.factories import ConferenceFactory, RoomFactory, SessionFactory, SessionSpeakerFactory, TrackFactory

pytestmark = pytest.mark.django_db
DURATION = re.compile(r"^\d{1,2}:[0-5]\d$")


@pytest.fixture
def tricky(conference):
    """What trips the schemas and the apps: a track named from a digit, a hyphen in the
    acronym, a session without a room, a 90-minute slot, a cancelled session, a
    pre-event the day before."""
    track = TrackFactory(conference=conference, name="2 Technology", colour="#AA3300")
    keynote = SessionFactory(
        conference=conference,
        code="opening",
        title="Opening: Ximo Puig",
        kind=Session.Kind.KEYNOTE,
        room=None,
        start=local(conference, 0, 9),
        end=local(conference, 0, 10, 30),
        track=track,
    )
    SessionSpeakerFactory(session=keynote, speaker__name="Ximo Puig", speaker__conference=conference)
    SessionSpeakerFactory(session=keynote, speaker__name="Elżbieta Bieńkowska", speaker__conference=conference)
    SessionFactory(conference=conference, kind=Session.Kind.PRE_EVENT, start=local(conference, -1, 14))
    SessionFactory(conference=conference, status=Session.Status.CANCELLED, title="Panel", start=local(conference, 1, 9))
    return keynote


def schedule_xml(client, conference) -> bytes:
    response = client.get(f"/{conference.slug}/schedule.xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    return response.content


def schedule_json(client, conference) -> dict:
    response = client.get(f"/{conference.slug}/schedule.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def test_schedule_xml_is_valid_against_the_xsd(client, conference, tricky, schemas):
    xsd = etree.XMLSchema(etree.parse(str(schemas / "schedule.xml.xsd")))

    document = etree.fromstring(schedule_xml(client, conference))

    xsd.assertValid(document)
    assert document.findtext("conference/acronym") == "growyourregion_2017"
    assert document.find("conference/track").attrib == {
        "name": "2 Technology",
        "color": "#aa3300",
        "slug": "track-2-technology",
    }
    assert [day.get("date") for day in document.iter("day")] == ["2017-11-07", "2017-11-08", "2017-11-09"]


def test_schedule_xml_has_what_apps_need(client, conference, tricky, schemas):
    document = etree.fromstring(schedule_xml(client, conference))

    event = document.find(f".//event[@guid='{tricky.guid}']")
    assert event.get("id") == str(tricky.pk)
    assert event.findtext("duration") == "01:30"
    assert event.findtext("start") == "09:00"
    assert event.findtext("date") == "2017-11-08T09:00:00+01:00"
    assert event.findtext("room") == "All rooms"
    assert [(person.text, person.get("id").isdigit(), bool(person.get("guid"))) for person in event.iter("person")] == [
        ("Ximo Puig", True, True),
        ("Elżbieta Bieńkowska", True, True),
    ]
    for day in document.iter("day"):
        assert re.search(r"[+-]\d\d:\d\d$", day.get("start"))
        assert re.search(r"[+-]\d\d:\d\d$", day.get("end"))
    assert all(DURATION.match(duration.text) for duration in document.iter("duration"))
    assert [title.text for title in document.iter("title")][-1] == "Cancelled: Panel"


def test_schedule_json_is_valid_against_the_json_schema(client, conference, tricky, schemas):
    schema = json.loads((schemas / "schedule.schema.json").read_text())
    validator = jsonschema.Draft6Validator(schema, format_checker=jsonschema.Draft6Validator.FORMAT_CHECKER)

    body = schedule_json(client, conference)

    validator.validate(body)
    head = body["schedule"]["conference"]
    assert head["acronym"] == "growyourregion_2017"
    assert head["time_zone_name"] == "Europe/Madrid"
    assert head["timeslot_duration"] == "00:30"
    events = [event for day in head["days"] for room in day["rooms"].values() for event in room]
    keynote = next(event for event in events if event["guid"] == str(tricky.guid))
    assert keynote["id"] == tricky.pk
    assert keynote["duration"] == "01:30"
    assert keynote["date"] == "2017-11-08T09:00:00+01:00"
    assert keynote["persons"][0]["name"] == "Ximo Puig"
    assert isinstance(keynote["persons"][0]["id"], int)
    for event in events:
        uuid.UUID(event["guid"])
        assert dt.datetime.fromisoformat(event["date"]).utcoffset() is not None
    for day in head["days"]:
        assert dt.datetime.fromisoformat(day["day_start"]).utcoffset() is not None


def test_schedule_json_leaves_out_a_time_zone_name_its_schema_refuses(client, schemas):
    conference = ConferenceFactory(timezone="America/Argentina/Buenos_Aires", slug="ba")
    SessionFactory(conference=conference)
    other = ConferenceFactory(timezone="Etc/GMT+3", slug="gmt")
    SessionFactory(conference=other)
    validator = jsonschema.Draft6Validator(json.loads((schemas / "schedule.schema.json").read_text()))

    kept, left_out = schedule_json(client, conference), schedule_json(client, other)

    validator.validate(kept)
    validator.validate(left_out)
    assert kept["schedule"]["conference"]["time_zone_name"] == "America/Argentina/Buenos_Aires"
    assert kept["schedule"]["conference"]["acronym"] == "ba__"
    assert "time_zone_name" not in left_out["schedule"]["conference"]


def test_schedule_event_id_and_guid_stay_when_a_session_moves(client, conference, tricky, schemas):
    before = etree.fromstring(schedule_xml(client, conference)).find(f".//event[@guid='{tricky.guid}']")

    tricky.start += dt.timedelta(days=1, hours=2)
    tricky.end += dt.timedelta(days=1, hours=2)
    tricky.room = RoomFactory(conference=conference, name="Sala 3")
    services.save_session(tricky)
    document = etree.fromstring(schedule_xml(client, conference))

    after = document.find(f".//event[@guid='{tricky.guid}']")
    assert after.get("id") == before.get("id")
    assert after.findtext("room") == "Sala 3"
    assert after.getparent().getparent().get("date") == "2017-11-09"
    assert document.findtext("version") != "1"


def test_schedule_of_a_large_programme_is_valid(client, conference, schemas):
    build_programme(conference, 60, rooms=10)
    xsd = etree.XMLSchema(etree.parse(str(schemas / "schedule.xml.xsd")))
    validator = jsonschema.Draft6Validator(json.loads((schemas / "schedule.schema.json").read_text()))

    xsd.assertValid(etree.fromstring(schedule_xml(client, conference)))
    validator.validate(schedule_json(client, conference))
