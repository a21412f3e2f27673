import logging

import psycopg2
import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from tests.conftest import database_url
from tests.factories import PASSWORD, RegistrationFactory, VerifiedUserFactory


def assert_friendly_503(response) -> None:
    content = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "<h1>We are very busy right now</h1>" in content
    assert "Please wait a minute and try again." in content
    assert 'class="skip-link"' in content  # in the site's layout


@pytest.fixture
def database_down(monkeypatch):
    """PostgreSQL stops answering: every new connection is refused by the driver."""

    def refuse(*args, **kwargs):
        raise connection.Database.OperationalError("connection refused")

    connection.close()
    monkeypatch.setattr(connection.Database, "connect", refuse)


@pytest.mark.django_db(transaction=True)
def test_a_lock_held_too_long_gives_a_friendly_503_and_saves_nothing(client, caplog):
    user = VerifiedUserFactory()
    locker = psycopg2.connect(database_url())
    try:
        with locker.cursor() as cursor:
            # Another transaction holds the user's row, as a slow registration would.
            cursor.execute("SELECT id FROM registration_user WHERE id = %s FOR UPDATE", [user.pk])
            with caplog.at_level(logging.WARNING, logger="conference.middleware"):
                response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    finally:
        locker.close()

    assert_friendly_503(response)
    # It was the lock timeout, not the statement timeout, that ended the wait.
    assert "canceling statement due to lock timeout" in caplog.text
    # Logging in writes the session, then the last login: neither is kept.
    user.refresh_from_db()
    assert user.last_login is None
    assert not Session.objects.exists()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db(transaction=True)
def test_pages_are_a_friendly_503_when_the_database_is_down(client, database_down):
    response = client.get(reverse("agenda:conference_list"))

    assert_friendly_503(response)
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_forms_are_a_friendly_503_when_the_database_is_down(client, database_down):
    response = client.post(reverse("account_login"), {"login": "someone@example.org", "password": PASSWORD})

    assert_friendly_503(response)


@pytest.mark.django_db(transaction=True)
def test_the_503_page_speaks_the_visitors_language(client, database_down):
    client.cookies["django_language"] = "fr"

    response = client.get(reverse("agenda:conference_list"))

    assert response.status_code == 503
    assert '<html lang="fr">' in response.content.decode()


# The language switch of anonymous pages


@pytest.mark.django_db
def test_lang_sets_the_cookie_and_comes_back_to_the_same_address(client):
    response = client.get("/growyourregion/agenda/?day=2017-11-07&lang=es&kind=keynote")

    assert response.status_code == 302
    assert response["Location"] == "/growyourregion/agenda/?day=2017-11-07&kind=keynote"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["//evil.example/", "/\\evil.example/"])
def test_lang_never_leaves_the_site(client, path):
    response = client.get(path, {"lang": "fr"})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"


@pytest.mark.django_db
def test_lang_of_a_language_the_site_lacks_changes_nothing(client):
    response = client.get("/", {"lang": "xx"})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


@pytest.mark.django_db
def test_lang_switches_the_page_that_follows(client):
    client.get("/", {"lang": "de"}, follow=True)

    assert 'lang="de"' in client.get("/").content.decode()


# Size and privacy


@pytest.mark.django_db
def test_a_body_larger_than_any_form_takes_is_refused_unread(client):
    upload = SimpleUploadedFile("photo.jpg", b"\xff" * (11 * 1024 * 1024), content_type="image/jpeg")

    response = client.post(reverse("account_login"), {"login": "a@example.org", "password": "x", "file": upload})
    # What a client claims to send decides, before any of it is read: 200 MB here.
    claimed = client.post(
        reverse("account_login"), b"", content_type="text/plain", CONTENT_LENGTH=str(200 * 1024 * 1024)
    )

    for refused in (response, claimed):
        assert refused.status_code == 413
        assert "<h1>What was sent is too large</h1>" in refused.content.decode()
        assert refused["Connection"] == "close"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["registration:mine", "registration:edit", "registration:export", "account_email"])
def test_pages_of_a_signed_in_visitor_are_never_stored(client, name):
    registration = RegistrationFactory()
    client.force_login(registration.user)
    kwargs = {} if name.startswith("account") else {"slug": registration.conference.slug}

    response = client.get(reverse(name, kwargs=kwargs))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


@pytest.mark.django_db
def test_public_pages_keep_their_own_caching(client):
    conference = RegistrationFactory().conference

    response = client.get(reverse("agenda:conference", kwargs={"slug": conference.slug}))

    assert "no-store" not in response.get("Cache-Control", "")
