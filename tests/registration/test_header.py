"""Every page of a conference tells a logged-in attendee where they stand and leads back to
their registration; nothing of it reaches the pages kept whole for anonymous visitors."""

import re

import pytest

from registration import selectors
from registration.models import Registration
from tests.agenda.conftest import text
from tests.factories import BookingFactory, ConferenceFactory, PreEventFactory, RegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db


def header(response) -> str:
    markup = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.search(r"<header.*?</header>", markup, re.S).group(0)))


@pytest.fixture
def registered(client):
    """Elżbieta, confirmed as number 12 with one pre-event, logged in."""
    conference = ConferenceFactory(slug="growyourregion", name="GROW your REGIOn")
    RegistrationFactory.create_batch(11, conference=conference)
    registration = RegistrationFactory(conference=conference, user=UserFactory(email="elzbieta@example.org"))
    BookingFactory(registration=registration, session=PreEventFactory(conference=conference, code="pre-lab"))
    client.force_login(registration.user)
    return registration


PAGES = (
    "/growyourregion/",
    "/growyourregion/agenda/",
    "/growyourregion/agenda/pre-lab/",
    "/growyourregion/speakers/",
    "/growyourregion/my-programme/",
    "/growyourregion/my-registration/",
    "/growyourregion/my-registration/details/",
    "/growyourregion/my-registration/pre-events/",
    "/growyourregion/my-registration/cancel/",
    "/growyourregion/meetings/",
    "/growyourregion/vote/",
)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_of_the_conference_shows_the_registration_and_the_conference_nav(client, registered, path):
    response = client.get(path)

    assert response.status_code == 200
    assert "You are registered · number 12 · 1 pre-event" in header(response)
    markup = response.content.decode()
    for name, url in (
        ("Programme", "/growyourregion/agenda/"),
        ("Speakers", "/growyourregion/speakers/"),
        ("My registration", "/growyourregion/my-registration/"),
    ):
        assert re.search(rf'<a href="{url}"[^>]*>{name}</a>', markup), name


@pytest.mark.parametrize(
    ("language", "state", "link"),
    [
        ("es", "Está inscrito · número 12 · 1 actividad previa", "Mi inscripción"),
        ("fr", "Vous êtes inscrit · numéro 12 · 1 pré-événement", "Mon inscription"),
        ("de", "Sie sind angemeldet · Nummer 12 · 1 Vorveranstaltung", "Meine Anmeldung"),
    ],
)
def test_the_registration_in_the_header_speaks_every_language(client, registered, language, state, link):
    response = client.get("/growyourregion/agenda/", HTTP_ACCEPT_LANGUAGE=language)

    assert state in header(response)
    assert f">{link}</a>" in response.content.decode()


def test_the_conference_page_leads_a_registered_visitor_to_their_registration_not_to_register(client, registered):
    page = client.get("/growyourregion/")

    assert "You are registered." in text(page)
    assert re.search(
        r'<a class="button" href="/growyourregion/my-registration/">See your registration</a>', page.content.decode()
    )
    assert "/growyourregion/register/" not in page.content.decode()


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (Registration.Status.WAITLISTED, "You are on the waiting list · number 12"),
        (Registration.Status.PENDING, "Your registration awaits approval · number 12"),
    ],
)
def test_the_header_says_when_one_waits(client, registered, status, state):
    Registration.objects.filter(pk=registered.pk).update(status=status)
    registered.bookings.update(status="waitlisted")

    response = client.get("/growyourregion/speakers/")

    assert f"{state} · waiting for 1 pre-event" in header(response)


def test_a_cancelled_registration_leaves_the_register_button(client, registered):
    Registration.objects.filter(pk=registered.pk).update(status=Registration.Status.CANCELLED)

    page = client.get("/growyourregion/")

    assert "You are registered" not in page.content.decode()
    assert "My registration" not in header(page)
    assert '<a class="button" href="/growyourregion/register/">Register</a>' in page.content.decode()


def test_another_conference_does_not_show_this_registration(client, registered):
    other = ConferenceFactory(slug="smart-regions")

    page = client.get(f"/{other.slug}/agenda/", follow=True)

    assert "You are registered" not in page.content.decode()


def test_the_registration_costs_no_query_of_its_own(client, registered, django_assert_num_queries):
    url = "/growyourregion/agenda/pre-lab/"
    client.get(url)  # the programme, conference, seats and page into the cache

    with django_assert_num_queries(1):  # the user with their registrations (their stars are cached)
        response = client.get(url)

    assert "You are registered · number 12 · 1 pre-event" in header(response)


def test_no_registration_enters_the_pages_kept_for_anonymous_visitors(client, registered):
    for path in PAGES[:4]:
        assert "You are registered" in client.get(path).content.decode()
    client.logout()

    for path in PAGES[:4]:
        markup = client.get(path).content.decode()
        assert "You are registered" not in markup
        assert "My registration" not in markup


def test_a_user_loaded_without_their_registrations_is_looked_up(registered, django_assert_num_queries):
    user = type(registered.user).objects.get(pk=registered.user_id)

    with django_assert_num_queries(1):
        mine = selectors.live_registration(user, registered.conference)

    assert (mine.number, mine.pre_events, mine.waiting, mine.is_confirmed) == (12, 1, 0, True)
