"""Programme content in several languages: organisers give translations in the admin,
readers get their language where there is one and the original elsewhere, on the pages,
in the calendar files and schedule exports, from the cache, in constant queries."""

import datetime as dt
import html
import json

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import translation
from icalendar import Calendar
from lxml import etree

from agenda import services
from agenda.demo import seed_growyourregion
from agenda.models import Conference, Room, Session, Speaker, Track
from tests.agenda.conftest import build_programme, local, main, text
from tests.agenda.test_admin import ADMIN_LIST_QUERIES, SESSIONS, conference_form, session_form
from tests.agenda.test_views import PAGES
from tests.factories import (
    ConferenceFactory,
    OrganiserFactory,
    RoomFactory,
    SessionFactory,
    SessionSpeakerFactory,
    SpeakerFactory,
    TrackFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def organiser(client):
    client.force_login(OrganiserFactory())
    return client


def reader(language: str) -> Client:
    """A visitor whose browser asks for `language`."""
    return Client(headers={"accept-language": language})


def summaries(ical: bytes) -> list[str]:
    return [str(event["summary"]) for event in Calendar.from_ical(ical).walk("VEVENT")]


@pytest.fixture
def opening(conference):
    session = SessionFactory(
        conference=conference,
        code="opening",
        title="Opening of the conference",
        abstract="Welcome to Valencia on behalf of the Generalitat Valenciana.",
        room=None,
        start=local(conference, 0, 9),
        end=local(conference, 0, 10),
    )
    SessionSpeakerFactory(session=session, speaker__name="Ximo Puig", speaker__conference=conference)
    return session


def test_organiser_gives_a_spanish_title_and_spanish_readers_see_it(organiser, conference, opening):
    spanish, french = reader("es"), reader("fr")
    agenda, page = f"/{conference.slug}/agenda/?day=2017-11-08", f"/{conference.slug}/agenda/opening/"
    assert "Opening of the conference" in text(spanish.get(agenda))  # cached before the translation

    response = organiser.post(
        f"{SESSIONS}{opening.pk}/change/",
        session_form(
            conference,
            title_en="Opening of the conference",
            title_es="Apertura de la conferencia",
            code="opening",
            abstract_en=opening.abstract,
        ),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    on_agenda = text(spanish.get(agenda))
    assert "Apertura de la conferencia" in on_agenda
    assert "Opening of the conference" not in on_agenda
    session_page = spanish.get(page)
    assert '<h1 class="session-title">Apertura de la conferencia</h1>' in main(session_page)
    assert "<title>Apertura de la conferencia" in session_page.content.decode()
    # The abstract has no Spanish version: the original.
    assert "Welcome to Valencia on behalf of the Generalitat Valenciana." in text(session_page)
    assert summaries(spanish.get(f"/{conference.slug}/agenda/opening.ics").content) == ["Apertura de la conferencia"]
    assert summaries(spanish.get(f"/{conference.slug}/agenda.ics").content) == ["Apertura de la conferencia"]

    # After the Spanish reader filled the cache: a French reader gets the original, not Spanish.
    assert "Opening of the conference" in text(french.get(agenda))
    assert "Opening of the conference" in text(french.get(page))
    assert summaries(french.get(f"/{conference.slug}/agenda/opening.ics").content) == ["Opening of the conference"]
    assert "Opening of the conference" in text(reader("en").get(page))


def test_language_cookie_chooses_the_content_language(conference, opening):
    opening.title_es = "Apertura de la conferencia"
    services.save_session(opening)
    visitor = Client()
    visitor.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"

    assert "Apertura de la conferencia" in text(visitor.get(f"/{conference.slug}/agenda/opening/"))
    assert "Apertura de la conferencia" in text(visitor.get(f"/{conference.slug}/agenda/?day=2017-11-08"))


def test_exports_have_their_own_etag_per_language(conference, opening):
    opening.title_es = "Apertura de la conferencia"
    services.save_session(opening)
    url = f"/{conference.slug}/agenda.ics"
    spanish = reader("es").get(url)

    french = reader("fr").get(url, HTTP_IF_NONE_MATCH=spanish["ETag"])

    assert french.status_code == 200
    assert summaries(french.content) == ["Opening of the conference"]
    assert reader("es").get(url, HTTP_IF_NONE_MATCH=spanish["ETag"]).status_code == 304


def test_speaker_and_conference_content_in_the_readers_language(conference, opening):
    Conference.objects.filter(pk=conference.pk).update(
        tagline_en="Clusters across regions", tagline_es="Clústeres entre regiones"
    )
    speaker = opening.speakers.get()
    speaker.title_en, speaker.title_es = "President of the Generalitat", "President de la Generalitat"
    speaker.biography_en, speaker.biography_es = "Born in Morella.", "Nacido en Morella."
    speaker.save()
    services.bump_content_version(conference.pk)
    spanish = reader("es")

    assert "Clústeres entre regiones" in text(spanish.get("/"))
    assert "Clústeres entre regiones" in text(spanish.get(f"/{conference.slug}/"))
    speaker_page = text(spanish.get(f"/{conference.slug}/speakers/{speaker.code}/"))
    assert "President de la Generalitat" in speaker_page
    assert "Nacido en Morella." in speaker_page
    assert "Clusters across regions" in text(reader("de").get(f"/{conference.slug}/"))


def test_original_text_on_a_page_in_another_language_names_its_language(conference, opening):
    opening.title_es = "Apertura de la conferencia"
    services.save_session(opening)
    parallel = SessionFactory(conference=conference, title="Cluster clinic", start=opening.start, end=opening.end)
    speaker = opening.speakers.get()
    speaker.title_en, speaker.biography_en = "President of the Generalitat", "Born in Morella."
    speaker.save()
    services.bump_content_version(conference.pk)
    spanish, english = reader("es"), reader("en")
    session_page = f"/{conference.slug}/agenda/{opening.code}/"

    page = main(spanish.get(session_page))
    # The title is Spanish; the abstract, the speaker's role and the session beside it are the original English.
    assert '<h1 class="session-title">Apertura de la conferencia</h1>' in page
    assert '<div class="prose abstract" lang="en"><p>Welcome to Valencia' in page
    assert '<span lang="en">President of the Generalitat</span>' in page
    assert f'{parallel.code}/" lang="en">Cluster clinic</a>' in page
    agenda = main(spanish.get(f"/{conference.slug}/agenda/?day=2017-11-08"))
    assert '/" lang="en">Cluster clinic</a>' in agenda
    assert '/">Apertura de la conferencia</a>' in agenda
    speaker_page = main(spanish.get(f"/{conference.slug}/speakers/{speaker.code}/"))
    assert '<div class="prose" lang="en"><p>Born in Morella.</p></div>' in speaker_page
    # In the original language nothing needs saying.
    assert ' lang="' not in main(english.get(session_page))


def test_schedule_exports_in_the_readers_language(conference, opening):
    opening.title_es = "Apertura de la conferencia"
    services.save_session(opening)

    spanish = json.loads(reader("es").get(f"/{conference.slug}/schedule.json").content)
    french = json.loads(reader("fr").get(f"/{conference.slug}/schedule.json").content)
    xml = etree.fromstring(reader("es").get(f"/{conference.slug}/schedule.xml").content)

    def event(schedule: dict) -> dict:
        [day] = [day for day in schedule["schedule"]["conference"]["days"] if day["date"] == "2017-11-08"]
        return next(event for events in day["rooms"].values() for event in events)

    assert event(spanish)["title"] == "Apertura de la conferencia"
    assert event(spanish)["abstract"] == opening.abstract  # no Spanish abstract: the original
    assert event(spanish)["guid"] == event(french)["guid"]
    assert event(french)["title"] == "Opening of the conference"
    assert xml.find(".//event/title").text == "Apertura de la conferencia"


def test_admin_offers_a_field_per_language_and_requires_the_original(organiser, conference):
    form = html.unescape(organiser.get(f"{SESSIONS}add/?conference={conference.pk}").content.decode())
    for language in ("en", "es", "fr", "de"):
        assert f'name="title_{language}"' in form
        assert f'name="abstract_{language}"' in form
    assert 'name="title"' not in form

    response = organiser.post(
        f"{SESSIONS}add/", session_form(conference, title_en="", title_es="Apertura", code="opening")
    )

    assert response.status_code == 200
    assert "Fill in this field." in response.content.decode()
    assert not Session.objects.filter(code="opening").exists()


def test_admin_in_spanish_keeps_the_original_in_the_untranslated_column(organiser, conference, opening):
    response = organiser.post(
        f"{SESSIONS}{opening.pk}/change/",
        session_form(
            conference, title_en="Opening of the conference", title_es="Apertura de la conferencia", code="opening"
        ),
        headers={"accept-language": "es"},
    )

    assert response.status_code == 302
    # What SQL outside the models reads (another app's join) is the original, whoever edited.
    with connection.cursor() as cursor:
        cursor.execute("SELECT title FROM agenda_session WHERE id = %s", [opening.pk])
        assert cursor.fetchone() == ("Opening of the conference",)


def test_admin_search_finds_sessions_by_any_translation(organiser, conference, opening):
    SessionFactory(conference=conference, title="Coffee break", start=local(conference, 1, 11))
    opening.title_es = "Apertura de la conferencia"
    services.save_session(opening)

    page = organiser.get(f"{SESSIONS}?q=Apertura").content.decode()

    assert "Opening of the conference" in page
    assert "Coffee break" not in page


def test_admin_session_list_in_spanish_queries_do_not_grow(organiser, django_assert_num_queries):
    for size in (1, 60):
        conference = ConferenceFactory()
        sessions = build_programme(conference, size, rooms=10)
        Session.objects.filter(pk=sessions[0].pk).update(title_es="Sesión en español")
        with django_assert_num_queries(ADMIN_LIST_QUERIES):
            response = organiser.get(
                f"{SESSIONS}?conference__id__exact={conference.pk}", headers={"accept-language": "es"}
            )
        assert response.content.decode().count('class="action-select"') == size
        assert "Sesión en español" in response.content.decode()


@pytest.mark.parametrize(("url", "cold", "cached"), PAGES)
def test_queries_in_spanish_are_the_same_for_one_session_and_many(
    before_the_conference, django_assert_num_queries, url, cold, cached
):
    spanish = reader("es")
    for size in (1, 40):
        conference = ConferenceFactory(start_date=dt.date(2017, 11, 8), registration_opens=None)
        first, *rest = build_programme(conference, size, rooms=10)
        first.code, first.title_es = "s-first", "Primera sesión"
        first.save()
        Session.objects.filter(pk__in=[session.pk for session in rest[::2]]).update(title_es="Sesión traducida")
        speaker = first.session_speakers.first().speaker
        speaker.code, speaker.biography_es = "spk-first", "Biografía"
        speaker.save()
        address = url.format(slug=conference.slug)

        with django_assert_num_queries(cold):
            response = spanish.get(address)
        with django_assert_num_queries(cached):
            again = spanish.get(address)
        assert response.status_code == again.status_code == 200
        assert response["Content-Language"] == "es"


def test_calendar_sequence_rises_with_a_translation_only(conference, opening):
    opening.title_de = "Eröffnung der Konferenz"
    services.save_session(opening)
    assert Session.objects.get(pk=opening.pk).sequence == 1

    # A translation never given (NULL) and one cleared in a form ("") are the same: no change.
    opening.title_fr = ""
    services.save_session(opening)
    assert Session.objects.get(pk=opening.pk).sequence == 1


def test_copies_of_a_session_keep_its_translations(conference):
    rooms = [RoomFactory(conference=conference) for _ in range(2)]
    coffee = SessionFactory(
        conference=conference, title="Coffee", title_es="Café", kind=Session.Kind.BREAK, room=rooms[0]
    )

    [copy] = services.copy_break_to_all_rooms(coffee)
    duplicate = services.duplicate_session(coffee)

    for session in (copy, duplicate):
        stored = Session.objects.get(pk=session.pk)
        assert (stored.title_en, stored.title_es) == ("Coffee", "Café")
    # A break already in every room is not copied again, whatever the active language.
    with translation.override("es"):
        assert services.copy_break_to_all_rooms(coffee) == []


def test_content_created_in_another_language_keeps_its_original(conference):
    with translation.override("fr"):
        session = SessionFactory(conference=conference, title="Ouverture")
        speaker = SpeakerFactory(conference=conference, title="Présidente")

    assert Session.objects.get(pk=session.pk).title_en == "Ouverture"
    assert Speaker.objects.get(pk=speaker.pk).title_en == "Présidente"
    with translation.override("de"):
        assert Session.objects.get(pk=session.pk).title == "Ouverture"


def test_demo_keynotes_have_spanish_titles_and_the_seed_stays_idempotent():
    with translation.override("es"):
        [past, _upcoming] = seed_growyourregion(today=dt.date(2026, 1, 5))
    version = Conference.objects.get(pk=past.pk).content_version

    keynote = past.sessions.get(code="keynote-regio")
    assert keynote.title_en.startswith("Strengthening innovation in Europe's regions")
    assert keynote.title_es.startswith("Reforzar la innovación en las regiones de Europa")
    assert "Reforzar la innovación" in text(reader("es").get(f"/{past.slug}/agenda/keynote-regio/"))
    assert "Strengthening innovation" in text(reader("fr").get(f"/{past.slug}/agenda/keynote-regio/"))

    with translation.override("es"):
        seed_growyourregion(today=dt.date(2026, 1, 5))
    assert Conference.objects.get(pk=past.pk).content_version == version
    assert past.sessions.get(code="keynote-regio").title_es == keynote.title_es


@pytest.mark.django_db(transaction=True)
def test_migration_makes_existing_content_the_original():
    before = [("agenda", "0002_programme_rules")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        conference = old.get_model("agenda", "Conference").objects.create(
            name="GROW your REGIOn",
            slug="growyourregion-2017",
            tagline="Clusters",
            start_date=dt.date(2017, 11, 8),
            end_date=dt.date(2017, 11, 9),
            capacity=350,
        )
        old.get_model("agenda", "Session").objects.create(
            conference=conference,
            code="opening",
            title="Opening",
            abstract="Welcome.",
            start=dt.datetime(2017, 11, 8, 8, tzinfo=dt.UTC),
            end=dt.datetime(2017, 11, 8, 9, tzinfo=dt.UTC),
        )

        MigrationExecutor(connection).migrate(latest)

        session = Session.objects.get(code="opening")
        assert (session.title_en, session.abstract_en, session.title_es) == ("Opening", "Welcome.", None)
        assert Conference.objects.get(slug="growyourregion-2017").name_en == "GROW your REGIOn"
        with translation.override("es"):
            assert Session.objects.get(code="opening").title == "Opening"
    finally:
        MigrationExecutor(connection).migrate(latest)


def test_rooms_tracks_and_breaks_in_the_readers_language():
    [past, _upcoming] = seed_growyourregion(today=dt.date(2026, 1, 5))
    agenda = f"/{past.slug}/agenda/?day=2017-11-08"

    spanish = text(reader("es").get(agenda))
    for words in ("Pausa para el café", "Almuerzo", "Auditorio", "Políticas", "Cocreación", "Sala Mediterrània"):
        assert words in spanish
    for words in ("Coffee break", "Lunch", "Auditorium", "Policy"):
        assert words not in spanish
    german = text(reader("de").get(agenda))
    assert "Kaffeepause" in german
    assert "Mittagessen" in german
    english = text(reader("en").get(agenda))
    assert "Coffee break" in english
    assert "Auditorium" in english
    assert "Policy" in english
    # What SQL outside the models reads is the original, as for the rest of the programme.
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM agenda_track WHERE conference_id = %s ORDER BY name", [past.pk])
        assert [name for (name,) in cursor.fetchall()] == ["Co-creation", "Partnering", "Policy", "Pre-events"]


def test_admin_offers_room_and_track_names_per_language(organiser, conference):
    RoomFactory(conference=conference, name="Auditorium")
    TrackFactory(conference=conference, name="Policy")

    form = organiser.get(f"/admin/agenda/conference/{conference.pk}/change/").content.decode()

    for language in ("en", "es", "fr", "de"):
        assert f'name="rooms-0-name_{language}"' in form
        assert f'name="tracks-0-name_{language}"' in form


def test_admin_saves_a_spanish_room_name(organiser, conference):
    room = RoomFactory(conference=conference, name="Auditorium", capacity=350, position=0)
    data = conference_form(conference)
    data.update(
        {
            "rooms-TOTAL_FORMS": 1,
            "rooms-INITIAL_FORMS": 1,
            "rooms-0-id": room.pk,
            "rooms-0-conference": conference.pk,
            "rooms-0-name_en": "Auditorium",
            "rooms-0-name_es": "Auditorio",
            "rooms-0-capacity": 350,
            "rooms-0-position": 0,
        }
    )

    response = organiser.post(f"/admin/agenda/conference/{conference.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:3000]
    room.refresh_from_db()
    assert (room.name_en, room.name_es) == ("Auditorium", "Auditorio")
    with translation.override("es"):
        assert Room.objects.get(pk=room.pk).name == "Auditorio"
    with translation.override("fr"):
        assert Room.objects.get(pk=room.pk).name == "Auditorium"


def test_session_language_is_a_choice_named_in_the_readers_language(organiser, conference, opening):
    form = organiser.get(f"{SESSIONS}{opening.pk}/change/").content.decode()
    assert '<select name="language"' in form
    assert '<option value="ca">Catalan</option>' in form

    refused = organiser.post(
        f"{SESSIONS}{opening.pk}/change/",
        session_form(conference, title_en=opening.title, code="opening", language="Klingon"),
    )
    assert refused.status_code == 200
    assert "is not one of the options; choose one from the list." in refused.content.decode()
    assert Session.objects.get(pk=opening.pk).language == "en"

    response = organiser.post(
        f"{SESSIONS}{opening.pk}/change/",
        session_form(conference, title_en=opening.title, code="opening", language="ca"),
    )
    assert response.status_code == 302
    assert Session.objects.get(pk=opening.pk).language == "ca"
    assert "Catalán" in text(reader("es").get(f"/{conference.slug}/agenda/opening/"))


@pytest.mark.django_db(transaction=True)
def test_migration_makes_free_text_languages_choices_and_room_and_track_names_originals():
    before = [("agenda", "0003_content_in_several_languages")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    written = {
        "en": "en",
        "english": "en",
        "EN": "en",
        "es-ES": "es",
        "Español": "es",
        "Spanish": "es",
        "castellano": "es",
        " Deutsch ": "de",
        "valencià": "ca",
        "pt_BR": "pt",
        "": "en",
        "Klingon": "en",
    }
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        conference = old.get_model("agenda", "Conference").objects.create(
            name="GROW your REGIOn",
            slug="growyourregion-2017",
            start_date=dt.date(2017, 11, 8),
            end_date=dt.date(2017, 11, 9),
            capacity=350,
        )
        old.get_model("agenda", "Room").objects.create(conference=conference, name="Auditorium")
        old.get_model("agenda", "Track").objects.create(conference=conference, name="Policy")
        for number, language in enumerate(written):
            old.get_model("agenda", "Session").objects.create(
                conference=conference,
                code=f"s{number:02}",
                title=f"Session in {language}",
                language=language,
                start=dt.datetime(2017, 11, 8, 8, tzinfo=dt.UTC),
                end=dt.datetime(2017, 11, 8, 9, tzinfo=dt.UTC),
            )

        MigrationExecutor(connection).migrate(latest)

        sessions = Session.objects.filter(conference__slug="growyourregion-2017").order_by("code")
        assert [session.language for session in sessions] == list(written.values())
        assert Room.objects.get(name="Auditorium").name_en == "Auditorium"
        assert Track.objects.get(name="Policy").name_en == "Policy"
    finally:
        MigrationExecutor(connection).migrate(latest)
