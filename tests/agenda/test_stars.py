"""Stars: without an account they are the browser's (a button its script keeps), with one
they are the account's (a plain form); the browser hands its stars over once at login."""

import pytest
from django.db import IntegrityError

from accounts import personal_data
from agenda.models import Star
from tests.agenda.conftest import build_programme, main
from tests.factories import ConferenceFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(conference):
    return SessionFactory(conference=conference, code="opening", title="Opening")


def star_url(session) -> str:
    return f"/{session.conference.slug}/agenda/{session.code}/star/"


def test_a_visitor_without_an_account_gets_the_scripts_button_and_no_form(client, session):
    page = main(client.get(session.get_absolute_url()))

    assert 'data-star-session="opening"' in page
    assert f'data-star-conference="{session.conference.slug}"' in page
    assert "hidden>Add to my programme</button>" in page  # shown by the script only
    assert 'class="star-form"' not in page


def test_a_logged_in_visitor_stars_and_unstars_with_a_plain_form(client, session):
    user = UserFactory()
    client.force_login(user)
    page = main(client.get(session.get_absolute_url()))
    assert f'action="{star_url(session)}"' in page
    assert 'value="star" aria-pressed="false">Add to my programme' in page

    response = client.post(star_url(session), {"action": "star", "next": session.get_absolute_url()})

    assert response["Location"] == session.get_absolute_url()
    assert list(Star.objects.values_list("user", "session")) == [(user.pk, session.pk)]
    assert 'value="unstar" aria-pressed="true">On my programme: remove' in main(client.get(session.get_absolute_url()))

    client.post(star_url(session), {"action": "unstar"})

    assert not Star.objects.exists()
    assert 'value="star" aria-pressed="false">Add to my programme' in main(client.get(session.get_absolute_url()))


def test_starring_twice_keeps_one_star(client, session):
    user = UserFactory()
    client.force_login(user)

    client.post(star_url(session), {"action": "star"})
    client.post(star_url(session), {"action": "star"})

    assert Star.objects.filter(user=user).count() == 1
    with pytest.raises(IntegrityError):
        Star.objects.create(user=user, session=session)


def test_star_leads_back_only_within_the_site(client, session):
    client.force_login(UserFactory())

    response = client.post(star_url(session), {"action": "star", "next": "https://evil.example/"})

    assert response["Location"] == session.get_absolute_url()


def test_a_session_of_another_conference_cannot_be_starred_through_this_one(client, session):
    other = SessionFactory(code="elsewhere")
    client.force_login(UserFactory())

    response = client.post(f"/{session.conference.slug}/agenda/{other.code}/star/", {"action": "star"})

    assert response.status_code == 404
    assert not Star.objects.exists()


def test_the_browsers_stars_merge_into_the_account_once_and_idempotently(client, conference, session):
    second = SessionFactory(conference=conference, code="panel")
    foreign = SessionFactory(conference=ConferenceFactory(), code="foreign")
    user = UserFactory()
    Star.objects.create(user=user, session=session)  # starred on another device already
    client.force_login(user)
    assert 'aria-pressed="false"' in main(client.get(second.get_absolute_url()))
    codes = ["opening", "panel", "panel", foreign.code, "no-such-session", "=HYPERLINK(1)"]

    first = client.post(f"/{conference.slug}/stars/", {"code": codes})
    again = client.post(f"/{conference.slug}/stars/", {"code": codes})

    assert first.json() == again.json() == {"merged": 2}
    assert set(Star.objects.filter(user=user).values_list("session__code", flat=True)) == {"opening", "panel"}
    assert not Star.objects.filter(session=foreign).exists()
    assert second.stars.count() == 1
    assert 'aria-pressed="true"' in main(client.get(second.get_absolute_url()))


def test_merging_needs_a_login(client, conference):
    response = client.post(f"/{conference.slug}/stars/", {"code": ["opening"]})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not Star.objects.exists()


def test_the_page_carries_the_merge_form_only_for_those_logged_in(client, session):
    assert 'id="star-merge"' not in client.get(session.get_absolute_url()).content.decode()

    client.force_login(UserFactory())

    assert 'id="star-merge"' in client.get(session.get_absolute_url()).content.decode()


def test_a_star_shows_at_once_on_that_visitors_page(client, session):
    client.force_login(UserFactory())
    assert 'aria-pressed="false"' in client.get(session.get_absolute_url()).content.decode()

    client.post(star_url(session), {"action": "star"})

    assert 'aria-pressed="true"' in client.get(session.get_absolute_url()).content.decode()


@pytest.mark.parametrize(("logged_in", "queries"), [(False, 0), (True, 1)])
def test_stars_cost_no_query_whatever_the_number_of_sessions(
    client, conference, django_assert_num_queries, logged_in, queries
):
    """Anonymous: the whole page from the cache. Logged in: the user; their stars from the cache."""
    larger = ConferenceFactory(
        start_date=conference.start_date,
        end_date=conference.end_date,
        registration_opens=conference.registration_opens,
        registration_closes=conference.registration_closes,
    )
    build_programme(conference, 1)
    build_programme(larger, 40)
    if logged_in:
        client.force_login(UserFactory())
    for each in (conference, larger):
        url = f"/{each.slug}/agenda/?day={each.start_date}"
        client.get(url)  # fills the cache
        with django_assert_num_queries(queries):
            client.get(url)


def test_stars_are_in_the_own_data_download_and_go_with_the_account(session):
    user = UserFactory()
    Star.objects.create(user=user, session=session)

    data = personal_data.personal_data(user)
    personal_data.delete_account(user)

    assert data["stars"] == [
        {"conference": session.conference.slug, "session": "opening", "starred_at": data["stars"][0]["starred_at"]}
    ]
    assert not Star.objects.exists()
