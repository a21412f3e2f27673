import pytest
from django.core.servers.basehttp import WSGIServer

from tests.factories import ConferenceFactory, MeetingBlockFactory, ProfileFactory

# Django's test server listens with a backlog of 10 connections; the bursts in
# test_concurrency.py open 40 at once, as a production server (gunicorn: 2048) allows.
WSGIServer.request_queue_size = 128


@pytest.fixture
def conference(db):
    return ConferenceFactory(name="GROW your REGIOn", timezone="Europe/Madrid")


@pytest.fixture
def block(conference):
    return MeetingBlockFactory(conference=conference)


@pytest.fixture
def ela(conference):
    return ProfileFactory(
        registration__conference=conference,
        registration__given_name="Elżbieta",
        registration__family_name="Bieńkowska",
        registration__user__email="ela@example.eu",
    )


@pytest.fixture
def marcel(conference):
    return ProfileFactory(
        registration__conference=conference,
        registration__given_name="Marcel·la",
        registration__family_name="Puig",
        registration__organisation="Clúster de l'Automoció",
        registration__country="ES",
        registration__language="es",
        registration__user__email="marcella@example.es",
    )
