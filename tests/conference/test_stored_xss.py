"""Stored XSS: a hostile or awkward value in every free-text field is shown as the text it is
on every page, export, admin screen, email and attendee list that shows it.

The values reach the database through the factories, around the forms' validators (the
attendee's fields refuse < and > already): what is stored may come from before a validator,
from an import or from an organiser typing in the admin, so output must be safe whatever it is.
Each field holds the payload followed by the field's own name, so every check also proves
that the field is really on the page it is checked on.
"""

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from icalendar import Calendar
from lxml import etree

from agenda.models import Conference, Session, SessionSpeaker
from outbox.emails import send_email
from outbox.models import OutgoingEmail
from registration.exports import neutralise
from registration.models import ExportRecord, Registration
from registration.notifications import notify
from tests.conference.test_authorisation import body
from tests.emails import written
from tests.factories import (
    BookingFactory,
    ConferenceFactory,
    OrganiserFactory,
    RegistrationFactory,
    RoomFactory,
    SessionFactory,
    SpeakerFactory,
    StaffFactory,
    TrackFactory,
    VerifiedUserFactory,
)

pytestmark = pytest.mark.django_db

PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "attribute": '"><img src=x onerror=alert(1)>',
    "javascript-url": "javascript:alert(1)",
    "template": "{{7*7}}",
    "formula": '=HYPERLINK("http://evil","x")',
    "unicode": "Elźbieta Bieńkowska 🎉👩🏽‍💻",
}
PAYLOAD_IDS = list(PAYLOADS)
# Attributes a browser follows as an address.
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "xlink:href", "poster", "srcset"})
# What HTML escaping writes; a plain-text part or a spreadsheet cell must hold none of it.
HTML_ENTITIES = ("&lt;", "&gt;", "&quot;", "&#x27;", "&#39;", "&amp;")

CONFERENCE_FIELDS = ("name", "tagline", "description", "venue", "city", "privacy_statement")
SPEAKER_FIELDS = ("name", "title", "organisation", "biography")
SESSION_FIELDS = ("title", "abstract", "description")
ATTENDEE_FIELDS = (
    "given_name",
    "family_name",
    "organisation",
    "job_title",
    "dietary_requirements",
    "accessibility_needs",
)


@dataclass(frozen=True)
class World:
    """A conference whose every free-text field starts with the payload: a room, a track, a
    speaker in a keynote and in a pre-event that clash, and an attendee booked on the pre-event."""

    payload: str
    values: dict[str, str]
    conference: Conference
    pre_event: Session
    keynote: Session
    registration: Registration

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    def pick(self, *keys: str) -> list[str]:
        return [self.values[key] for key in keys]


def build_world(payload: str) -> World:
    def fields(prefix: str, names: tuple[str, ...]) -> dict[str, str]:
        return {name: f"{payload} {prefix}-{name}" for name in names}

    conference_values = fields("conference", CONFERENCE_FIELDS)
    speaker_values = fields("speaker", SPEAKER_FIELDS)
    session_values = fields("session", SESSION_FIELDS)
    attendee_values = fields("attendee", ATTENDEE_FIELDS)
    conference = ConferenceFactory(contact_email="team@example.org", **conference_values)
    room = RoomFactory(conference=conference, name=f"{payload} room")
    track = TrackFactory(conference=conference, name=f"{payload} track")
    speaker = SpeakerFactory(conference=conference, **speaker_values)
    start = dt.datetime.combine(conference.start_date, dt.time(9), tzinfo=conference.tz)
    keynote = SessionFactory(
        conference=conference,
        title=f"{payload} keynote",
        kind=Session.Kind.KEYNOTE,
        room=room,
        start=start,
        end=start + dt.timedelta(hours=1),
    )
    # Same room and speaker, half an hour later: a clash the admin lists with both titles.
    pre_event = SessionFactory(
        conference=conference,
        kind=Session.Kind.PRE_EVENT,
        capacity=30,
        room=room,
        track=track,
        start=start + dt.timedelta(minutes=30),
        end=start + dt.timedelta(hours=2),
        **session_values,
    )
    for session in (keynote, pre_event):
        SessionSpeaker.objects.create(session=session, speaker=speaker)
    registration = RegistrationFactory(conference=conference, user=VerifiedUserFactory(), **attendee_values)
    BookingFactory(registration=registration, session=pre_event)
    values = {
        **{f"conference.{name}": value for name, value in conference_values.items()},
        **{f"speaker.{name}": value for name, value in speaker_values.items()},
        **{f"session.{name}": value for name, value in session_values.items()},
        **{f"attendee.{name}": value for name, value in attendee_values.items()},
        "room": room.name,
        "track": track.name,
        "keynote": keynote.title,
    }
    return World(payload, values, conference, pre_event, keynote, registration)


@pytest.fixture(params=PAYLOAD_IDS)
def world(request) -> World:
    return build_world(PAYLOADS[request.param])


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


class Markup(HTMLParser):
    """What a browser makes of a page: its attributes, its scripts and its text."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.attributes: list[tuple[str, str, str]] = []
        self.scripts: list[str] = []
        self.texts: list[str] = []
        self._in_script = False
        self.feed(source)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes += [(tag, name, value or "") for name, value in attrs]
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.scripts if self._in_script else self.texts).append(data)

    @property
    def data(self) -> list[str]:
        """Everything shown or submitted as a value, whitespace squeezed: the text as read (across
        inline elements such as a link an email makes of an address) and the attribute values."""
        values = [value for _tag, _name, value in self.attributes]
        return [" ".join(text.split()) for text in ["".join(self.texts), *values]]


def assert_shown_as_text(source: str, payload: str, values: list[str], where: str) -> None:
    """Each value is on the page as data, and the payload made no markup: no event handler, no
    script, no address of its own. Whatever holds an HTML metacharacter is there escaped only."""
    markup = Markup(source)
    handlers = [(tag, name) for tag, name, _value in markup.attributes if name.startswith("on")]
    assert not handlers, f"{where}: event handlers {handlers}"
    assert not [tag for tag, name, value in markup.attributes if tag == "img" and name == "src" and value == "x"], where
    assert not [script for script in markup.scripts if "alert(" in script], f"{where}: a script runs the payload"
    addresses = [value for _tag, name, value in markup.attributes if name in URL_ATTRIBUTES]
    assert not [a for a in addresses if a.strip().lower().startswith("javascript:")], f"{where}: javascript: address"
    for value in values:
        assert any(value in data for data in markup.data), f"{where}: {value!r} is not shown"
    if escape(payload) != payload:
        assert payload not in source, f"{where}: the payload is in the markup unescaped"
        assert escape(payload) in source, f"{where}: the payload is not there escaped"


def assert_plain_text(text: str, values: list[str], where: str) -> None:
    for value in values:
        assert value in text, f"{where}: {value!r} is missing"
    entities = [entity for entity in HTML_ENTITIES if entity in text]
    assert not entities, f"{where}: HTML escaping in plain text: {entities}"


def test_public_pages_show_every_field_as_text(world):
    client = client_for(None)
    slug, code = world.conference.slug, world.pre_event.code
    speaker = world.pre_event.speakers.get()
    everywhere = world.pick("conference.name")
    speaker_card = world.pick("speaker.name", "speaker.title", "speaker.organisation")
    pages = {
        reverse("agenda:conference", args=[slug]): [
            *world.pick("conference.tagline", "conference.description", "conference.venue", "conference.city"),
            *speaker_card,
        ],
        reverse("agenda:agenda", args=[slug]): world.pick("session.title", "keynote", "room", "track", "speaker.name"),
        reverse("agenda:session", args=[slug, code]): [
            *world.pick("session.title", "session.abstract", "session.description", "room", "track"),
            *world.pick("conference.venue", "keynote"),
            *speaker_card,
        ],
        reverse("agenda:speakers", args=[slug]): speaker_card,
        reverse("agenda:speaker", args=[slug, speaker.code]): [
            *speaker_card,
            *world.pick("speaker.biography", "session.title", "keynote", "room"),
        ],
    }

    for path, values in pages.items():
        response = client.get(path)

        assert response.status_code == 200, path
        assert_shown_as_text(body(response), world.payload, [*everywhere, *values], path)


def test_calendar_exports_carry_every_field_as_data(world):
    client = client_for(None)
    slug, code = world.conference.slug, world.pre_event.code

    programme = client.get(reverse("agenda:agenda_ics", args=[slug]))
    one = client.get(reverse("agenda:session_ics", args=[slug, code]))

    calendar = Calendar.from_ical(programme.content)
    events = {str(event["summary"]): event for event in calendar.walk("VEVENT")}
    assert programme.content.count(b"BEGIN:VEVENT") == len(events) == 2
    assert str(calendar["x-wr-calname"]) == world["conference.name"]
    assert set(events) == {world["session.title"], world["keynote"]}
    assert str(events[world["session.title"]]["description"]) == world["session.abstract"]
    assert str(events[world["session.title"]]["location"]) == ", ".join(
        world[name] for name in ("room", "conference.venue", "conference.city")
    )
    (single,) = Calendar.from_ical(one.content).walk("VEVENT")
    assert str(single["summary"]) == world["session.title"]
    assert one.content.count(b"BEGIN:VEVENT") == 1


def test_schedule_exports_are_well_formed_with_every_field_as_data(world):
    client = client_for(None)
    slug = world.conference.slug

    xml = etree.fromstring(client.get(reverse("agenda:schedule_xml", args=[slug])).content)
    schedule = json.loads(client.get(reverse("agenda:schedule_json", args=[slug])).content)

    event = xml.find(f".//event[@id='{world.pre_event.pk}']")
    assert xml.findtext("conference/title") == world["conference.name"]
    assert xml.find("conference/track").get("name") == world["track"]
    assert world["room"] in {room.get("name") for room in xml.iter("room")}
    assert event.findtext("title") == world["session.title"]
    assert event.findtext("abstract") == world["session.abstract"]
    assert event.findtext("description") == world["session.description"]
    assert event.findtext("track") == world["track"]
    assert event.findtext("room") == world["room"]
    assert event.findtext("persons/person") == world["speaker.name"]
    conference = schedule["schedule"]["conference"]
    (event,) = [
        event
        for day in conference["days"]
        for events in day["rooms"].values()
        for event in events
        if event["id"] == world.pre_event.pk
    ]
    assert conference["title"] == world["conference.name"]
    assert conference["description"] == world["conference.tagline"]
    assert conference["tracks"][0]["name"] == world["track"]
    assert world["room"] in {room["name"] for room in conference["rooms"]}
    assert (event["title"], event["abstract"], event["description"], event["track"], event["room"]) == tuple(
        world.pick("session.title", "session.abstract", "session.description", "track", "room")
    )
    assert (event["persons"][0]["name"], event["persons"][0]["biography"]) == (
        world["speaker.name"],
        world["speaker.biography"],
    )


def test_attendee_pages_show_every_field_as_text(world):
    client = client_for(world.registration.user)
    slug = world.conference.slug
    attendee = [world[f"attendee.{name}"] for name in ATTENDEE_FIELDS]
    pages = {
        reverse("registration:mine", args=[slug]): [*attendee, *world.pick("session.title", "room")],
        reverse("registration:edit", args=[slug]): attendee,
        reverse("registration:pre_events", args=[slug]): world.pick("session.title", "room"),
        reverse("registration:cancel", args=[slug]): [],
    }

    for path, values in pages.items():
        response = client.get(path)

        assert response.status_code == 200, path
        assert_shown_as_text(body(response), world.payload, [world["conference.name"], *values], path)

    newcomer = client_for(VerifiedUserFactory()).get(reverse("registration:register", args=[slug]))
    assert newcomer.status_code == 200
    values = world.pick("conference.name", "conference.privacy_statement", "session.title", "room")
    assert_shown_as_text(body(newcomer), world.payload, values, "registration form")


def test_staff_dashboard_shows_every_field_as_text(world):
    response = client_for(StaffFactory(can_export=True)).get(
        reverse("registration:staff_dashboard", args=[world.conference.slug])
    )

    assert response.status_code == 200
    assert_shown_as_text(body(response), world.payload, world.pick("conference.name", "session.title"), "dashboard")


def test_admin_shows_every_field_as_text(world):
    organiser = OrganiserFactory()
    client = client_for(organiser)
    with_email = notify(world.registration, "confirmed")
    send_email(with_email.pk)  # the admin shows what was sent
    record = ExportRecord.objects.create(
        conference=world.conference, user=organiser, user_email=organiser.email, kind=ExportRecord.Kind.ATTENDEES
    )
    attendee = [world[f"attendee.{name}"] for name in ATTENDEE_FIELDS]
    session_values = world.pick("session.title", "session.abstract", "session.description", "room", "track")
    pages = {
        reverse("admin:registration_registration_changelist"): [
            *world.pick("attendee.given_name", "attendee.family_name", "attendee.organisation"),
            *world.pick("conference.name", "session.title"),  # in the filters
        ],
        reverse("admin:registration_registration_change", args=[world.registration.pk]): [
            *attendee,
            *world.pick("conference.name", "conference.privacy_statement", "session.title"),
        ],
        reverse("admin:agenda_session_changelist"): [
            *world.pick("session.title", "keynote", "room", "track", "speaker.name", "conference.name"),
        ],
        reverse("admin:agenda_session_change", args=[world.pre_event.pk]): [
            *session_values,
            *world.pick("conference.name", "speaker.name", "keynote"),  # the keynote in the clash warning
        ],
        reverse("admin:agenda_speaker_changelist"): world.pick(
            "speaker.name", "speaker.title", "speaker.organisation", "conference.name"
        ),
        reverse("admin:agenda_speaker_change", args=[world.pre_event.speakers.get().pk]): [
            *(world[f"speaker.{name}"] for name in SPEAKER_FIELDS),
            world["conference.name"],
        ],
        reverse("admin:agenda_conference_changelist"): world.pick("conference.name", "conference.city"),
        reverse("admin:agenda_conference_change", args=[world.conference.pk]): [
            *(world[f"conference.{name}"] for name in CONFERENCE_FIELDS),
            *world.pick("room", "track"),
        ],
        reverse("admin:outbox_outgoingemail_changelist"): [world["conference.name"]],
        reverse("admin:outbox_outgoingemail_change", args=[with_email.pk]): [
            *world.pick("conference.name", "attendee.given_name", "session.title", "room", "conference.venue"),
        ],
        reverse("admin:registration_exportrecord_changelist"): [world["conference.name"]],
        reverse("admin:registration_exportrecord_change", args=[record.pk]): [world["conference.name"]],
    }

    for path, values in pages.items():
        response = client.get(path)

        assert response.status_code == 200, path
        assert_shown_as_text(body(response), world.payload, values, path)

    confirmation = client.post(
        reverse("admin:registration_registration_changelist"),
        {"action": "reject", "_selected_action": [world.registration.pk]},
    )
    assert confirmation.status_code == 200
    values = world.pick("attendee.given_name", "attendee.family_name", "conference.name")
    assert_shown_as_text(body(confirmation), world.payload, values, "reject confirmation")
    world.registration.refresh_from_db()
    assert world.registration.status == Registration.Status.CONFIRMED


def test_emails_escape_the_html_part_and_keep_the_text_part_plain(world):
    reason = f"{world.payload} reason"
    notify(world.registration, "confirmed")
    notify(world.registration, "session_changed", extra_context={"session": world.pre_event})
    notify(world.registration, "rejected", extra_context={"reason": reason})
    emails = {email.kind: written(email) for email in OutgoingEmail.objects.filter(to=world.registration.user.email)}
    dates = world.pick("conference.name", "conference.venue", "conference.city")
    expected = {
        "confirmed": [world["attendee.given_name"], *dates, world["session.title"], world["room"]],
        "session_changed": [world["attendee.given_name"], *dates, world["session.title"], world["room"]],
        "rejected": [world["attendee.given_name"], *dates, reason],
    }

    for kind, values in expected.items():
        email = emails[kind]
        where = f"{kind} email"

        assert_plain_text(email.subject, [world["conference.name"]], f"{where} subject")
        assert_plain_text(email.body_text, values, f"{where} text part")
        assert_shown_as_text(email.body_html, world.payload, values, f"{where} HTML part")
    assert_plain_text(emails["session_changed"].subject, [world["session.title"]], "session_changed subject")
    (attachment,) = emails["confirmed"].attachments
    calendar = Calendar.from_ical(attachment["content"])
    assert {str(event["summary"]) for event in calendar.walk("VEVENT")} == {
        world["conference.name"],
        world["session.title"],
    }


def csv_rows(response) -> list[dict[str, str]]:
    text = body(response).removeprefix("\ufeff")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_attendee_lists_neutralise_formulas_and_keep_the_text(world):
    client = client_for(StaffFactory(can_export=True))
    slug = world.conference.slug
    lists = {
        reverse("registration:attendees_csv", args=[slug]): {
            "Given name": "attendee.given_name",
            "Family name": "attendee.family_name",
            "Organisation": "attendee.organisation",
            "Job title": "attendee.job_title",
            "Dietary requirements": "attendee.dietary_requirements",
            "Accessibility needs": "attendee.accessibility_needs",
            "Pre-events": "session.title",
        },
        reverse("registration:check_in_csv", args=[slug]): {
            "Family name": "attendee.family_name",
            "Pre-events": "session.title",
            "Accessibility needs": "attendee.accessibility_needs",
        },
        reverse("registration:session_csv", args=[slug, world.pre_event.code]): {
            "Given name": "attendee.given_name",
            "Organisation": "attendee.organisation",
        },
    }

    for path, columns in lists.items():
        (row,) = csv_rows(client.get(path))

        for column, key in columns.items():
            cell = row[column]
            assert cell == neutralise(world[key]), (path, column, cell)
            assert cell.removeprefix("'") == world[key], (path, column, cell)
            assert not cell.startswith(("=", "+", "-", "@")), (path, column, cell)
            assert_plain_text(cell, [world[key]], f"{path} {column}")
