import datetime as dt

import pytest
from django.utils import timezone

from agenda import seats, selectors
from agenda.models import Session
from agenda.selectors import Clash
from registration.models import Booking
from tests.agenda.conftest import build_programme, local
from tests.factories import (
    BookingFactory,
    ConferenceFactory,
    RoomFactory,
    SessionFactory,
    SessionSpeakerFactory,
    SpeakerFactory,
)

pytestmark = pytest.mark.django_db


def kinds_of(clashes, session):
    return sorted(clash.kind for clash in clashes.get(session.pk, []))


def test_find_clashes_two_sessions_in_one_room_at_once(conference):
    room = RoomFactory(conference=conference, name="Sala Mediterráneo")
    first = SessionFactory(
        conference=conference, room=room, start=local(conference, 0, 9), end=local(conference, 0, 10)
    )
    second = SessionFactory(
        conference=conference,
        title="Smart voting",
        room=room,
        start=local(conference, 0, 9, 30),
        end=local(conference, 0, 11),
    )
    after = SessionFactory(
        conference=conference, room=room, start=local(conference, 0, 11), end=local(conference, 0, 12)
    )
    elsewhere = SessionFactory(conference=conference, start=local(conference, 0, 9), end=local(conference, 0, 10))

    clashes = selectors.find_clashes([conference.pk])

    assert kinds_of(clashes, first) == [Clash.ROOM]
    assert kinds_of(clashes, second) == [Clash.ROOM]
    assert clashes[first.pk][0].message.startswith("Sala Mediterráneo is also taken by “Smart voting” at ")
    assert clashes[first.pk][0].message.endswith("at Wed 8 Nov 09:30–11:00 CET.")
    assert after.pk not in clashes  # back to back is fine
    assert elsewhere.pk not in clashes


def test_find_clashes_a_session_without_room_takes_every_room(conference):
    plenary = SessionFactory(
        conference=conference, room=None, start=local(conference, 0, 9), end=local(conference, 0, 10)
    )
    workshop = SessionFactory(conference=conference, start=local(conference, 0, 9, 45), end=local(conference, 0, 11))

    clashes = selectors.find_clashes([conference.pk])

    assert kinds_of(clashes, plenary) == [Clash.ROOM]
    assert kinds_of(clashes, workshop) == [Clash.ROOM]
    assert clashes[plenary.pk][0].message.startswith("Spans all rooms while")


def test_find_clashes_a_speaker_in_two_places_at_once(conference):
    speaker = SpeakerFactory(conference=conference, name="Antti Peltomäki")
    first = SessionFactory(conference=conference, start=local(conference, 0, 9), end=local(conference, 0, 10))
    second = SessionFactory(conference=conference, start=local(conference, 0, 9, 30), end=local(conference, 0, 10))
    later = SessionFactory(conference=conference, start=local(conference, 0, 10), end=local(conference, 0, 11))
    for session in (first, second, later):
        SessionSpeakerFactory(session=session, speaker=speaker)

    clashes = selectors.find_clashes([conference.pk])

    assert kinds_of(clashes, first) == [Clash.SPEAKER]
    assert kinds_of(clashes, second) == [Clash.SPEAKER]
    assert clashes[first.pk][0].message.startswith("Antti Peltomäki is also in")
    assert later.pk not in clashes


def test_find_clashes_outside_the_conference_days_in_its_time_zone(conference):
    # 23:30 on the last day in Madrid is already the next day in UTC: still inside.
    late = SessionFactory(conference=conference, start=local(conference, 1, 23), end=local(conference, 1, 23, 59))
    until_midnight = SessionFactory(conference=conference, start=local(conference, 1, 22), end=local(conference, 2, 0))
    day_before = SessionFactory(conference=conference, start=local(conference, -1, 14), end=local(conference, -1, 17))
    overnight = SessionFactory(conference=conference, start=local(conference, 1, 23), end=local(conference, 2, 1))
    pre_event_on_the_eve = SessionFactory(
        conference=conference,
        kind=Session.Kind.PRE_EVENT,
        start=local(conference, -1, 14),
        end=local(conference, -1, 17),
    )
    pre_event_two_days_before = SessionFactory(
        conference=conference,
        kind=Session.Kind.PRE_EVENT,
        start=local(conference, -2, 14),
        end=local(conference, -2, 17),
    )

    clashes = selectors.find_clashes([conference.pk])

    assert late.pk not in clashes
    assert pre_event_on_the_eve.pk not in clashes
    assert Clash.OUTSIDE_DAYS in kinds_of(clashes, pre_event_two_days_before)
    assert Clash.OUTSIDE_DAYS not in kinds_of(clashes, until_midnight)
    assert Clash.OUTSIDE_DAYS in kinds_of(clashes, day_before)
    assert Clash.OUTSIDE_DAYS in kinds_of(clashes, overnight)


def test_find_clashes_seats_above_the_room_capacity(conference):
    over = SessionFactory(conference=conference, capacity=60, room__capacity=40, room__name="Room B")
    within = SessionFactory(conference=conference, capacity=40, room__capacity=40, start=local(conference, 1, 9))

    clashes = selectors.find_clashes([conference.pk])

    assert clashes[over.pk] == [Clash(Clash.OVER_CAPACITY, "60 seats, but Room B holds 40.")]
    assert within.pk not in clashes


def test_find_clashes_ignores_cancelled_sessions_and_other_conferences(conference):
    room = RoomFactory(conference=conference)
    SessionFactory(conference=conference, room=room, status=Session.Status.CANCELLED)
    kept = SessionFactory(conference=conference, room=room)
    other = ConferenceFactory()
    SessionFactory(conference=other, start=kept.start, end=kept.end)

    assert selectors.find_clashes([conference.pk]) == {}


def test_find_clashes_takes_two_queries_whatever_the_number_of_sessions(django_assert_num_queries):
    small, large = ConferenceFactory(), ConferenceFactory()
    build_programme(small, 1)
    build_programme(large, 40)

    with django_assert_num_queries(2):
        assert selectors.find_clashes([small.pk]) == {}
    with django_assert_num_queries(2):
        assert selectors.find_clashes([large.pk])


def test_seats_left_are_counted_only_until_a_session_begins(conference, monkeypatch):
    pre_event = SessionFactory(conference=conference, kind=Session.Kind.PRE_EVENT, capacity=5)
    BookingFactory(session=pre_event, registration__conference=conference)

    assert seats.seats_left([pre_event.pk]) == {}  # the 2017 edition is over
    monkeypatch.setattr(timezone, "now", lambda: pre_event.start - dt.timedelta(minutes=1))
    assert seats.seats_left([pre_event.pk]) == {pre_event.pk: 4}


def test_seats_left_counts_confirmed_bookings_only(before_the_conference, conference, django_assert_num_queries):
    pre_event = SessionFactory(conference=conference, kind=Session.Kind.PRE_EVENT, capacity=3)
    in_room = SessionFactory(
        conference=conference,
        kind=Session.Kind.WORKSHOP,
        capacity=None,
        room__capacity=2,
        start=local(conference, 1, 9),
    )
    full = SessionFactory(
        conference=conference, kind=Session.Kind.PRE_EVENT, capacity=1, start=local(conference, 1, 11)
    )
    plenary = SessionFactory(conference=conference, kind=Session.Kind.PLENARY, capacity=10)
    cancelled = SessionFactory(
        conference=conference, kind=Session.Kind.PRE_EVENT, status=Session.Status.CANCELLED, capacity=5
    )
    not_asked = SessionFactory(conference=conference, kind=Session.Kind.WORKSHOP, capacity=5)
    BookingFactory(session=pre_event, registration__conference=conference)
    BookingFactory(session=pre_event, registration__conference=conference, status=Booking.Status.WAITLISTED)
    BookingFactory(session=full, registration__conference=conference)
    BookingFactory(session=full, registration__conference=conference)  # organisers may overfill

    with django_assert_num_queries(1):
        left = seats.seats_left([pre_event.pk, in_room.pk, full.pk, plenary.pk, cancelled.pk])
    with django_assert_num_queries(0):
        assert seats.seats_left([]) == {}

    assert left == {pre_event.pk: 2, in_room.pk: 2, full.pk: 0}
    assert not_asked.pk not in left


def test_programme_days_include_pre_event_days_and_every_conference_day(conference):
    SessionFactory(conference=conference, start=local(conference, -1, 14), end=local(conference, -1, 17))
    programme = selectors.load_programme(conference)

    assert programme.days == [
        conference.start_date - dt.timedelta(days=1),
        conference.start_date,
        conference.end_date,
    ]


def test_programme_speakers_and_parallel_sessions_come_from_memory(conference, django_assert_num_queries):
    sessions = build_programme(conference, 12)

    with django_assert_num_queries(2):
        programme = selectors.load_programme(conference)
    with django_assert_num_queries(0):
        entries = programme.speakers
        parallel = programme.parallel_to(sessions[0])
        keynotes = programme.keynote_speakers
        appearances = [appearance.session.title for entry in entries for appearance in entry.appearances]

    assert [entry.speaker.name for entry in entries] == sorted(entry.speaker.name for entry in entries)
    assert {session.pk for session in parallel} == {s.pk for s in sessions if s.start == sessions[0].start} - {
        sessions[0].pk
    }
    assert keynotes == []
    assert len(appearances) == sum(1 + index % 3 for index in range(12))
