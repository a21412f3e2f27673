import json

import pytest
from celery import current_app
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import override_settings

from conference import views


@pytest.mark.django_db
def test_healthz_reports_every_service_when_all_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert json.loads(response.content) == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }


@pytest.mark.django_db(transaction=True)
def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise connection.Database.OperationalError("connection refused")

    # The driver is what leaves the project: make its connection attempt fail.
    connection.close()
    monkeypatch.setattr(connection.Database, "connect", refuse)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert json.loads(response.content)["checks"]["database"] == "unavailable"


@pytest.fixture
def broker_down():
    """Celery pointed at a closed port. Celery reads its settings from Django's once, at
    first use: override_settings cannot reach it, and must not be active at that moment or
    its values would stay for the rest of the run. Fixtures run before it is."""
    original = current_app.conf.broker_url
    current_app.conf.broker_url = "redis://127.0.0.1:1/0"
    yield
    current_app.conf.broker_url = original


@pytest.mark.django_db
@pytest.mark.usefixtures("broker_down")
@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2},
        }
    },
)
def test_healthz_stays_200_without_redis(client):
    response = client.get("/healthz")

    body = json.loads(response.content)
    assert response.status_code == 200
    assert body["checks"] == {"database": "ok", "cache": "unavailable", "broker": "unavailable"}


@pytest.mark.django_db
def test_unknown_page_is_a_friendly_404_in_the_layout(client):
    response = client.get("/no-such-conference/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert 'class="skip-link"' in response.content.decode()


def test_favicon_redirects_to_the_static_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == "/static/img/favicon.ico"
    assert "max-age=86400" in response["Cache-Control"]
    assert finders.find("img/favicon.ico")


@pytest.mark.django_db
def test_pages_link_the_icon(client):
    response = client.get("/")

    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in response.content.decode()
    assert finders.find("img/favicon.svg")


@pytest.mark.django_db
def test_permission_denied_is_a_friendly_403_in_the_layout(rf, django_user_model):
    request = rf.get("/growyourregion/staff/")
    request.user = django_user_model.objects.create_user("attendee@example.org", "x")

    response = views.permission_denied(request, PermissionDenied())

    assert response.status_code == 403
    assert "You are not allowed to see this page" in response.content.decode()
    assert 'class="skip-link"' in response.content.decode()


def test_server_error_is_a_friendly_500_without_the_database(rf):
    # No django_db mark: any query would fail the test, as a dead database would fail the page.
    response = views.server_error(rf.get("/growyourregion/"))

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
    assert 'class="skip-link"' in response.content.decode()


@pytest.mark.django_db
def test_csrf_failure_offers_the_form_again_without_script(client):
    csrf_client = type(client)(enforce_csrf_checks=True)

    response = csrf_client.post("/accounts/login/", {"login": "a@example.org", "password": "x"})

    body = response.content.decode()
    assert response.status_code == 403
    assert "This form has expired" in body
    assert '<a href="/accounts/login/">' in body
    assert "javascript:" not in body
