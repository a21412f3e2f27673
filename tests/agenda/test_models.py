import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import RestrictedError

from agenda.models import Conference, Session
from tests.agenda.conftest import local
from tests.factories import (
    ConferenceFactory,
    RoomFactory,
    SessionFactory,
    SessionSpeakerFactory,
    SpeakerFactory,
    TrackFactory,
)

pytestmark = pytest.mark.django_db


def test_conference_slug_reserved_is_refused_by_the_form_and_the_database():
    conference = ConferenceFactory.build(slug="Admin")
    with pytest.raises(ValidationError) as error:
        conference.full_clean()
    assert "slug" in error.value.message_dict

    with pytest.raises(IntegrityError), transaction.atomic():
        ConferenceFactory(slug="Accounts")
    ConferenceFactory(slug="admins")  # only the words themselves are taken


def test_session_ending_before_it_starts_is_refused_by_the_database(conference):
    start = local(conference, 0, 10)
    with pytest.raises(IntegrityError), transaction.atomic():
        SessionFactory(conference=conference, start=start, end=start)
    with pytest.raises(IntegrityError), transaction.atomic():
        SessionFactory(conference=conference, start=start, end=start - dt.timedelta(minutes=1))


def test_session_code_is_unique_per_conference_only(conference):
    SessionFactory(conference=conference, code="opening")
    SessionFactory(code="opening")  # another conference
    with pytest.raises(IntegrityError), transaction.atomic():
        SessionFactory(conference=conference, code="opening")


def test_session_and_room_capacity_must_be_positive(conference):
    with pytest.raises(IntegrityError), transaction.atomic():
        SessionFactory(conference=conference, capacity=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoomFactory(conference=conference, capacity=0)
    assert SessionFactory(conference=conference, capacity=None, room__capacity=None).seats is None


def test_track_colour_must_be_hex_in_the_database(conference):
    with pytest.raises(IntegrityError), transaction.atomic():
        TrackFactory(conference=conference, colour="red")
    assert TrackFactory(conference=conference, colour="#A1b2C3").colour == "#A1b2C3"


def test_session_seats_fall_back_to_the_room(conference):
    session = SessionFactory(conference=conference, room__capacity=80, capacity=None)
    assert session.seats == 80
    session.capacity = 30
    assert session.seats == 30


def test_session_room_track_and_speakers_of_another_conference_are_refused(conference):
    other = ConferenceFactory()
    session = SessionFactory.build(
        conference=conference,
        code="x1",
        room=RoomFactory(conference=other),
        track=TrackFactory(conference=other),
        start=local(conference, 0, 9),
        end=local(conference, 0, 10),
    )
    with pytest.raises(ValidationError) as error:
        session.full_clean()
    assert set(error.value.message_dict) == {"room", "track"}

    link = SessionSpeakerFactory.build(
        session=SessionFactory(conference=conference), speaker=SpeakerFactory(conference=other)
    )
    with pytest.raises(ValidationError) as error:
        link.full_clean()
    assert "speaker" in error.value.message_dict


def test_room_in_use_cannot_be_deleted_but_its_conference_can(conference):
    session = SessionFactory(conference=conference)
    with pytest.raises(RestrictedError):
        session.room.delete()

    conference.delete()

    assert not Conference.objects.filter(pk=conference.pk).exists()
    assert not Session.objects.filter(pk=session.pk).exists()
