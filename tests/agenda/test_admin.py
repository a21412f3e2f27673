"""The organisers' admin: adding and changing the programme, clashes warned about and
shown, filters, actions, the speaker autocomplete, and constant queries per list."""

import datetime as dt
import html
import json
import re
from urllib.parse import urlencode

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agenda import events
from agenda.models import Conference, Room, Session
from tests.agenda.conftest import build_programme, local
from tests.factories import (
    ConferenceFactory,
    RoomFactory,
    SessionFactory,
    SessionSpeakerFactory,
    SpeakerFactory,
    TrackFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
SESSIONS = "/admin/agenda/session/"
# The organiser; the filters' choices (conferences, days, rooms, tracks); the count and
# the page of sessions; their speakers; their clashes (two).
ADMIN_LIST_QUERIES = 10


@pytest.fixture
def organiser(client):
    client.force_login(UserFactory(email="organiser@example.org", is_staff=True, is_superuser=True))
    return client


def version(conference) -> int:
    return Conference.objects.get(pk=conference.pk).content_version


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def session_form(conference, **fields) -> dict:
    """What the admin's add and change forms post, speakers inline included."""
    speakers = fields.pop("speakers", [])
    data = {
        "conference": conference.pk,
        "title_en": "",
        "code": "",
        "kind": Session.Kind.PLENARY,
        "status": Session.Status.CONFIRMED,
        "start_0": "2017-11-08",
        "start_1": "09:00",
        "end_0": "2017-11-08",
        "end_1": "10:00",
        "room": "",
        "track": "",
        "abstract_en": "",
        "description_en": "",
        "language": "en",
        "capacity": "",
        "session_speakers-TOTAL_FORMS": len(speakers),
        "session_speakers-INITIAL_FORMS": 0,
        "session_speakers-MIN_NUM_FORMS": 0,
        "session_speakers-MAX_NUM_FORMS": 1000,
    }
    for index, (speaker, role) in enumerate(speakers):
        data[f"session_speakers-{index}-speaker"] = speaker.pk
        data[f"session_speakers-{index}-role"] = role
        data[f"session_speakers-{index}-position"] = index
    data.update(fields)
    return data


def test_organiser_adds_a_keynote_with_two_speakers_and_sees_it_on_the_agenda(organiser, conference):
    puig = SpeakerFactory(conference=conference, name="Ximo Puig")
    engelmann = SpeakerFactory(conference=conference, name="Ulla Engelmann")
    before = version(conference)

    response = organiser.post(
        f"{SESSIONS}add/?conference={conference.pk}",
        session_form(
            conference,
            title_en="Opening of the conference",
            code="opening",
            kind=Session.Kind.KEYNOTE,
            speakers=[(puig, "speaker"), (engelmann, "chair")],
        ),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    session = Session.objects.get(conference=conference, code="opening")
    # Typed as 09:00 in Valencia, stored as 08:00 UTC.
    assert session.start == dt.datetime(2017, 11, 8, 8, tzinfo=dt.UTC)
    assert [(a.speaker.name, a.role) for a in session.session_speakers.all()] == [
        ("Ximo Puig", "speaker"),
        ("Ulla Engelmann", "chair"),
    ]
    assert version(conference) > before

    agenda = organiser.get(f"/{conference.slug}/agenda/?day=2017-11-08").content.decode()
    assert "Opening of the conference" in agenda
    assert "Ximo Puig, Ulla Engelmann" in agenda
    assert "09:00</time>–<time" in agenda


def test_session_form_shows_and_reads_times_in_the_conference_time_zone(organiser):
    conference = ConferenceFactory(timezone="America/New_York", start_date=dt.date(2026, 3, 7), registration_opens=None)
    session = SessionFactory(conference=conference, start=local(conference, 0, 21), end=local(conference, 0, 23))

    form = organiser.get(f"{SESSIONS}{session.pk}/change/").content.decode()
    assert 'name="start_1" value="21:00:00"' in form
    assert "In the conference's time zone, America/New_York." in html.unescape(form)

    organiser.post(
        f"{SESSIONS}{session.pk}/change/",
        session_form(
            conference,
            title_en=session.title,
            code=session.code,
            room=session.room_id,
            start_0="2026-03-08",
            start_1="09:00",
            end_0="2026-03-08",
            end_1="10:00",
        ),
    )
    session.refresh_from_db()
    assert session.start == dt.datetime(2026, 3, 8, 13, tzinfo=dt.UTC)  # 09:00 EDT


def test_saving_a_clash_is_warned_about_not_refused(organiser, conference):
    room = RoomFactory(conference=conference, name="Auditorium")
    SessionFactory(conference=conference, title="Keynote", room=room, start=local(conference, 0, 9))

    response = organiser.post(
        f"{SESSIONS}add/",
        session_form(conference, title_en="Panel", code="panel", room=room.pk, start_1="09:30", end_1="10:30"),
        follow=True,
    )

    panel = Session.objects.get(code="panel")
    assert panel.room == room
    assert any(
        message.startswith("Auditorium is also taken by “Keynote” at Wed 8 Nov 09:00–10:00 CET")
        for message in messages_of(response)
    )
    change_form = organiser.get(f"{SESSIONS}{panel.pk}/change/").content.decode()
    assert "⚠ Auditorium is also taken by “Keynote”" in html.unescape(change_form)


def test_session_moved_in_the_admin_is_announced_with_its_changes(organiser, conference, listen):
    session = SessionFactory(conference=conference, start=local(conference, 0, 9))
    announced = listen(events.SESSION_CHANGED)

    organiser.post(
        f"{SESSIONS}{session.pk}/change/",
        session_form(
            conference,
            title_en=session.title,
            code=session.code,
            room=session.room_id,
            start_1="11:00",
            end_1="12:00",
        ),
    )
    received = [details["changes"] for details in announced]

    session.refresh_from_db()
    assert session.sequence == 1
    assert received == [
        {
            "start": (local(conference, 0, 9), local(conference, 0, 11)),
            "end": (local(conference, 0, 10), local(conference, 0, 12)),
        }
    ]


def test_room_or_speaker_of_another_conference_is_refused(organiser, conference):
    other = ConferenceFactory()

    response = organiser.post(
        f"{SESSIONS}add/",
        session_form(
            conference,
            title_en="Panel",
            code="panel",
            room=RoomFactory(conference=other).pk,
            speakers=[(SpeakerFactory(conference=other), "speaker")],
        ),
    )

    assert response.status_code == 200
    errors = html.unescape(response.content.decode())
    assert "is not one of the options; choose one from the list." in errors
    assert not Session.objects.filter(code="panel").exists()


def test_session_list_by_day_with_rooms_speakers_and_clashes(organiser, conference):
    room = RoomFactory(conference=conference, name="Auditorium")
    keynote = SessionFactory(conference=conference, title="Keynote", room=room, start=local(conference, 0, 9))
    SessionSpeakerFactory(session=keynote, speaker__name="Ximo Puig", speaker__conference=conference)
    SessionFactory(conference=conference, title="Panel", room=room, start=local(conference, 0, 9, 30))
    SessionFactory(
        conference=conference, title="Coffee", room=None, kind=Session.Kind.BREAK, start=local(conference, 1, 11)
    )

    page = html.unescape(organiser.get(f"{SESSIONS}?conference__id__exact={conference.pk}").content.decode())

    assert page.index("Keynote") < page.index("Panel") < page.index("Coffee")
    assert "Wed 8 Nov 2017, 09:00–10:00 CET" in page
    assert "Ximo Puig" in page
    assert "⚠ Auditorium is also taken by “Panel”" in page
    assert "All rooms" in page
    assert f'href="/{conference.slug}/agenda/{keynote.code}/"' in page


def test_session_list_filters_by_day_in_the_conference_time_zone(organiser):
    conference = ConferenceFactory(timezone="America/New_York", start_date=dt.date(2026, 3, 7), registration_opens=None)
    late = SessionFactory(conference=conference, title="Late panel", start=local(conference, 0, 21))  # Sunday in UTC
    SessionFactory(conference=conference, title="Sunday keynote", start=local(conference, 1, 9))

    page = organiser.get(f"{SESSIONS}?conference__id__exact={conference.pk}&day=2026-03-07").content.decode()

    assert "Late panel" in page
    assert "Sunday keynote" not in page
    assert "Sat 7 Mar 2026" in page  # the filter's choices
    assert late.start.astimezone(dt.UTC).date() == dt.date(2026, 3, 8)


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("kind__exact=workshop", "Workshop on clusters", "Opening"),
        ("status__exact=cancelled", "Cancelled panel", "Opening"),
        ("q=Peltomäki", "Opening", "Workshop on clusters"),
    ],
)
def test_session_list_filters_and_search(organiser, conference, query, shown, hidden):
    opening = SessionFactory(conference=conference, title="Opening")
    SessionSpeakerFactory(session=opening, speaker__name="Antti Peltomäki", speaker__conference=conference)
    SessionFactory(conference=conference, title="Workshop on clusters", kind=Session.Kind.WORKSHOP)
    SessionFactory(conference=conference, title="Cancelled panel", status=Session.Status.CANCELLED)

    page = organiser.get(f"{SESSIONS}?{query}").content.decode()

    assert shown in page
    assert hidden not in page


def test_session_list_filters_by_room_and_track(organiser, conference):
    track = TrackFactory(conference=conference, name="Innovation")
    room = RoomFactory(conference=conference, name="Sala 3")
    SessionFactory(conference=conference, title="In the room", room=room)
    SessionFactory(conference=conference, title="On the track", track=track)

    by_room = organiser.get(f"{SESSIONS}?room={room.pk}").content.decode()
    by_track = organiser.get(f"{SESSIONS}?conference__id__exact={conference.pk}&track={track.pk}").content.decode()

    assert "In the room" in by_room
    assert "On the track" not in by_room
    assert "On the track" in by_track
    assert "In the room" not in by_track
    assert f"Sala 3 ({conference.name})" in by_room


def test_session_list_queries_do_not_grow_with_sessions(organiser, django_assert_num_queries):
    for size in (1, 60):
        conference = ConferenceFactory()
        build_programme(conference, size, rooms=10)
        with django_assert_num_queries(ADMIN_LIST_QUERIES):
            response = organiser.get(f"{SESSIONS}?conference__id__exact={conference.pk}")
        assert response.content.decode().count('class="action-select"') == size


def test_duplicate_action_copies_sessions(organiser, conference):
    session = SessionFactory(conference=conference, code="workshop")
    before = version(conference)

    response = organiser.post(SESSIONS, {"action": "duplicate", "_selected_action": [session.pk]}, follow=True)

    copy = Session.objects.get(code="workshop-2")
    assert copy.title == session.title
    assert "Made 1 copy at the same time and place: move it (workshop-2)." in messages_of(response)
    assert version(conference) > before


def test_cancel_action_keeps_sessions_struck_through(organiser, conference):
    sessions = [SessionFactory(conference=conference) for _ in range(2)]

    response = organiser.post(SESSIONS, {"action": "cancel", "_selected_action": [s.pk for s in sessions]}, follow=True)

    assert set(Session.objects.filter(conference=conference).values_list("status", flat=True)) == {"cancelled"}
    assert "Cancelled 2 sessions; they stay in the programme, struck through." in messages_of(response)
    agenda = organiser.get(f"/{conference.slug}/agenda/").content.decode()
    assert agenda.count("is-cancelled") == 2


def test_copy_break_action_fills_every_room_and_explains_refusals(organiser, conference):
    rooms = [RoomFactory(conference=conference) for _ in range(3)]
    coffee = SessionFactory(conference=conference, title="Coffee", kind=Session.Kind.BREAK, room=rooms[0])
    panel = SessionFactory(conference=conference, title="Panel", kind=Session.Kind.PANEL, room=rooms[1])

    response = organiser.post(
        SESSIONS, {"action": "copy_break_to_all_rooms", "_selected_action": [coffee.pk, panel.pk]}, follow=True
    )

    assert sorted(Session.objects.filter(title="Coffee").values_list("room_id", flat=True)) == [r.pk for r in rooms]
    assert messages_of(response) == ["Copied “Coffee” to 2 more rooms.", "“Panel” is not a break."]


def test_delete_bumps_the_content_version(organiser, conference):
    session = SessionFactory(conference=conference)
    before = version(conference)

    organiser.post(f"{SESSIONS}{session.pk}/delete/", {"post": "yes"})

    assert not Session.objects.filter(pk=session.pk).exists()
    assert version(conference) == before + 1


def test_speaker_autocomplete_offers_the_session_conference_speakers_only(organiser, conference):
    SpeakerFactory(conference=conference, name="Ximo Puig")
    SpeakerFactory(name="Ximo Puig de otra edición")
    session = SessionFactory(conference=conference)

    form = organiser.get(f"{SESSIONS}{session.pk}/change/").content.decode()
    url = html.unescape(re.search(r'data-ajax--url="([^"]+)"', form).group(1))
    assert url == f"/admin/autocomplete/?conference={conference.pk}"

    # As the admin's script asks: its parameters added to the address it was given.
    query = {"term": "Ximo", "app_label": "agenda", "model_name": "sessionspeaker", "field_name": "speaker"}
    found = organiser.get(f"{url}&{urlencode(query)}")
    assert [result["text"] for result in json.loads(found.content)["results"]] == ["Ximo Puig"]


def conference_form(conference, **fields) -> dict:
    """What the admin's conference change form posts, with no rooms or tracks."""
    data = {
        "name_en": conference.name,
        "slug": conference.slug,
        "tagline_en": "",
        "description_en": "",
        "start_date": "2017-11-08",
        "end_date": "2017-11-09",
        "timezone": "Europe/Madrid",
        "venue": "Veles e Vents",
        "city": "Valencia",
        "country": "ES",
        "capacity": 350,
        "registration_opens_0": "2017-06-01",
        "registration_opens_1": "09:00",
        "registration_closes_0": "2017-11-01",
        "registration_closes_1": "23:59",
        "is_published": "on",
        "contact_email": "",
        "privacy_statement": "We keep your details to run the conference.",
        "personal_data_months": 12,
        "sensitive_answers_days": 0,
        "rooms-TOTAL_FORMS": 0,
        "rooms-INITIAL_FORMS": 0,
        "rooms-MIN_NUM_FORMS": 0,
        "rooms-MAX_NUM_FORMS": 1000,
        "tracks-TOTAL_FORMS": 0,
        "tracks-INITIAL_FORMS": 0,
        "tracks-MIN_NUM_FORMS": 0,
        "tracks-MAX_NUM_FORMS": 1000,
    }
    data.update(fields)
    return data


def test_conference_edit_with_rooms_bumps_version_and_reads_its_time_zone(organiser, conference):
    before = version(conference)
    data = conference_form(
        conference,
        **{
            "rooms-TOTAL_FORMS": 1,
            "rooms-0-name_en": "Sala Mediterráneo",
            "rooms-0-capacity": 40,
            "rooms-0-position": 1,
        },
    )

    response = organiser.post(f"/admin/agenda/conference/{conference.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:3000]
    conference.refresh_from_db()
    assert Room.objects.get(conference=conference).name == "Sala Mediterráneo"
    assert conference.registration_opens == dt.datetime(2017, 6, 1, 7, tzinfo=dt.UTC)  # 09:00 CEST
    assert conference.content_version > before


def test_conference_list_and_change_pages_render(organiser, conference):
    SessionFactory(conference=conference)

    listing = organiser.get("/admin/agenda/conference/").content.decode()
    change = organiser.get(f"/admin/agenda/conference/{conference.pk}/change/").content.decode()

    assert "GROW your REGIOn" in listing
    assert 'name="rooms-TOTAL_FORMS"' in change
    assert 'name="tracks-TOTAL_FORMS"' in change
    assert "View on site" in change


@pytest.mark.parametrize("url", ["/admin/agenda/speaker/", "/admin/agenda/conference/"])
def test_other_admin_lists_queries_do_not_grow(organiser, url):
    counts = []
    for _ in range(2):
        conference = ConferenceFactory()
        build_programme(conference, 12)
        with CaptureQueriesContext(connection) as captured:
            assert organiser.get(url).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_speaker_edit_shows_on_the_public_pages_at_once(organiser, conference):
    speaker = SpeakerFactory(conference=conference, name="Ximo Puig", code="puig")
    SessionSpeakerFactory(session=SessionFactory(conference=conference), speaker=speaker)
    assert "Ximo Puig" in organiser.get(f"/{conference.slug}/speakers/").content.decode()

    response = organiser.post(
        f"/admin/agenda/speaker/{speaker.pk}/change/",
        {
            "conference": conference.pk,
            "name": "Joaquim Puig",
            "code": "puig",
            "title_en": "President of the Generalitat Valenciana",
            "organisation": "",
            "country": "ES",
            "biography_en": "",
        },
    )

    assert response.status_code == 302
    listing = organiser.get(f"/{conference.slug}/speakers/").content.decode()
    assert "Joaquim Puig" in listing
    assert "President of the Generalitat Valenciana" in listing


def test_two_editions_with_a_speaker_of_the_same_name_each_offer_and_keep_their_own(organiser):
    """The keynote of the 2027 edition, added by an organiser who sees both editions: the
    form asks for the conference first, then offers that edition's Ulla Engelmann alone,
    and saving with her keeps her (no "Select a valid choice" for a choice it offered)."""
    past = ConferenceFactory(name="GROW your REGIOn 2017")
    upcoming = ConferenceFactory(name="GROW your REGIOn 2027")
    SpeakerFactory(conference=past, name="Ulla Engelmann")
    ulla = SpeakerFactory(conference=upcoming, name="Ulla Engelmann")
    puig = SpeakerFactory(conference=upcoming, name="Ximo Puig")
    RoomFactory(conference=past, name="Hall 2017")
    room = RoomFactory(conference=upcoming, name="Hall 2027")

    chooser = html.unescape(organiser.get(f"{SESSIONS}add/").content.decode())
    assert 'name="session_speakers-0-speaker"' not in chooser
    assert f'href="?conference={upcoming.pk}"' in chooser

    form = html.unescape(organiser.get(f"{SESSIONS}add/?conference={upcoming.pk}").content.decode())
    url = re.search(r'data-ajax--url="([^"]+)"', form).group(1)
    assert url == f"/admin/autocomplete/?conference={upcoming.pk}"
    query = {"term": "Ulla", "app_label": "agenda", "model_name": "sessionspeaker", "field_name": "speaker"}
    offered = json.loads(organiser.get(f"{url}&{urlencode(query)}").content)["results"]
    assert [result["id"] for result in offered] == [str(ulla.pk)]
    assert "Hall 2027" in form
    assert "Hall 2017" not in form

    response = organiser.post(
        f"{SESSIONS}add/?conference={upcoming.pk}",
        session_form(
            upcoming,
            title_en="Keynote",
            code="keynote",
            kind=Session.Kind.KEYNOTE,
            room=room.pk,
            speakers=[(ulla, "speaker"), (puig, "speaker")],
        ),
    )

    assert response.status_code == 302, html.unescape(response.content.decode())
    keynote = Session.objects.get(conference=upcoming, code="keynote")
    assert [a.speaker for a in keynote.session_speakers.all()] == [ulla, puig]
