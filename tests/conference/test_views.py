import json

import pytest
from django.db import connection
from django.test import override_settings


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


@pytest.mark.django_db
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
    from celery import current_app

    original_broker = current_app.conf.broker_url
    current_app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/healthz")
    finally:
        current_app.conf.broker_url = original_broker

    body = json.loads(response.content)
    assert response.status_code == 200
    assert body["checks"] == {"database": "ok", "cache": "unavailable", "broker": "unavailable"}


@pytest.mark.django_db
def test_unknown_page_is_a_friendly_404_in_the_layout(client):
    response = client.get("/no-such-conference/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert 'class="skip-link"' in response.content.decode()
