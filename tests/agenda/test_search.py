"""Searching the programme: titles, abstracts and speakers, as the reader reads them, without script."""

import pytest

from agenda.models import SessionSpeaker
from tests.agenda.conftest import build_programme, main, text
from tests.factories import ConferenceFactory, SessionFactory, SpeakerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sessions(conference):
    keynote = SessionFactory(
        conference=conference,
        code="keynote",
        title="Clusters and regional growth",
        title_es="Clústeres y crecimiento regional",
        abstract="How clusters help smart specialisation.",
        abstract_es="Cómo los clústeres ayudan a la especialización inteligente.",
    )
    SessionSpeaker.objects.create(
        session=keynote, speaker=SpeakerFactory(conference=conference, name="Elżbieta Bieńkowska")
    )
    SessionFactory(conference=conference, code="lunch", title="Lunch", abstract="Paella on the terrace.")
    SessionFactory(conference=ConferenceFactory(), code="other", title="Clusters elsewhere")
    return keynote


def search(client, conference, query: str, **headers):
    return client.get(f"/{conference.slug}/search/", {"q": query}, **headers)


def test_the_agenda_page_has_a_search_form_that_needs_no_script(client, conference, sessions):
    page = main(client.get(f"/{conference.slug}/agenda/"))

    assert f'<form class="search-form" method="get" action="/{conference.slug}/search/" role="search">' in page
    assert '<label for="search-q">Search the programme</label>' in page


@pytest.mark.parametrize(
    "query",
    ["clusters GROWTH", "smart specialisation", "bienkowska", "ELŻBIETA", "  regional\tclusters  "],
)
def test_search_finds_titles_abstracts_and_speakers_ignoring_case_and_accents(client, conference, sessions, query):
    page = text(search(client, conference, query))

    assert "1 session found" in page
    assert "Clusters and regional growth" in page
    assert "Lunch" not in page
    assert "Clusters elsewhere" not in page  # another conference's


def test_every_word_must_match(client, conference, sessions):
    page = text(search(client, conference, "clusters paella"))

    assert "0 sessions found" in page
    assert "No session matches every word" in page


def test_search_reads_the_programme_in_the_readers_language(client, conference, sessions):
    spanish = text(search(client, conference, "crecimiento", HTTP_ACCEPT_LANGUAGE="es"))
    english_word_in_spanish = text(search(client, conference, "growth", HTTP_ACCEPT_LANGUAGE="es"))
    untranslated = text(search(client, conference, "paella", HTTP_ACCEPT_LANGUAGE="es"))

    assert "Clústeres y crecimiento regional" in spanish
    assert "Clústeres" not in english_word_in_spanish
    assert "Lunch" in untranslated  # the original, where a session has no translation


def test_the_query_is_escaped_and_kept_in_the_form(client, conference, sessions):
    response = search(client, conference, '<script>alert(1)</script> =HYPERLINK("x")\x07')

    assert response.status_code == 200
    page = main(response)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_too_long_query_gets_a_clear_message_and_a_400(client, conference, sessions):
    response = search(client, conference, "x" * 101)

    assert response.status_code == 400
    assert "Search for at most 100 characters." in text(response)


def test_an_empty_query_shows_the_form_only(client, conference, sessions):
    page = text(search(client, conference, ""))

    assert "Search the programme" in page
    assert "found" not in page


def test_a_null_character_gets_a_clear_message(client, conference, sessions):
    response = search(client, conference, "clusters\x00")

    assert response.status_code == 400
    assert "Leave out invisible characters such as null characters." in text(response)


def test_search_queries_do_not_grow_with_the_programme(client, conference, django_assert_num_queries):
    larger = ConferenceFactory()
    build_programme(conference, 2)
    build_programme(larger, 40)
    for each in (conference, larger):
        with django_assert_num_queries(3):  # the conference, the sessions, their speakers
            assert "sessions found" in text(search(client, each, "session"))
