import datetime as dt

import pytest
from django.db.models import ProtectedError

from agenda import events, services
from agenda.exceptions import NotABreak, SpansAllRooms
from agenda.models import Conference, Session
from tests.agenda.conftest import local
from tests.factories import BookingFactory, ConferenceFactory, RoomFactory, SessionFactory, SessionSpeakerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def announcements(listen):
    """SESSION_CHANGED as announced: the details of each, and whether it came inside a transaction."""
    return listen(events.SESSION_CHANGED)


@pytest.fixture
def raised(listen):
    """CAPACITY_RAISED as announced: the details of each, and whether it came inside a transaction."""
    return listen(events.CAPACITY_RAISED)


def changed(announcements) -> list[tuple]:
    return [(d["session"].pk, d["changes"], d["in_transaction"]) for d in announcements]


def raised_for(raised) -> list[tuple]:
    return [(d["conference_id"], d["in_transaction"]) for d in raised]


def version(conference) -> int:
    return Conference.objects.get(pk=conference.pk).content_version


def test_bump_content_version_raises_version_and_last_modified(conference):
    before = Conference.objects.get(pk=conference.pk)

    services.bump_content_version(conference.pk)

    after = Conference.objects.get(pk=conference.pk)
    assert after.content_version == before.content_version + 1
    assert after.updated_at > before.updated_at


def test_save_session_move_raises_sequence_and_announces_the_change(conference, announcements):
    session = SessionFactory(conference=conference)
    old_start, old_end, old_room = session.start, session.end, session.room
    new_room = RoomFactory(conference=conference)
    before = version(conference)

    session.start += dt.timedelta(hours=2)
    session.end += dt.timedelta(hours=2)
    session.room = new_room
    services.save_session(session)

    session.refresh_from_db()
    assert session.sequence == 1
    assert version(conference) == before + 1
    assert changed(announcements) == [
        (
            session.pk,
            {
                "start": (old_start, session.start),
                "end": (old_end, session.end),
                "room": (old_room, new_room),
            },
            True,
        )
    ]


def test_save_session_abstract_change_raises_sequence_without_announcement(conference, announcements):
    session = SessionFactory(conference=conference)

    session.abstract = "Clusters are the DNA of smart specialisation."
    services.save_session(session)
    session.capacity = 20  # not in the calendar entry
    services.save_session(session)

    session.refresh_from_db()
    assert session.sequence == 1
    assert changed(announcements) == []


def test_save_session_new_session_bumps_version_only(conference, announcements):
    before = version(conference)
    session = SessionFactory.build(
        conference=conference,
        code="opening",
        room=RoomFactory(conference=conference),
        start=local(conference, 0, 9),
        end=local(conference, 0, 10),
    )

    services.save_session(session)

    assert Session.objects.get(code="opening").sequence == 0
    assert version(conference) == before + 1
    assert changed(announcements) == []


def test_cancel_sessions_announces_each_and_skips_cancelled(conference, announcements):
    first = SessionFactory(conference=conference)
    second = SessionFactory(conference=conference)
    SessionFactory(conference=conference, status=Session.Status.CANCELLED)

    cancelled = services.cancel_sessions(Session.objects.filter(conference=conference))

    assert sorted(session.pk for session in cancelled) == [first.pk, second.pk]
    assert set(Session.objects.filter(conference=conference).values_list("status", flat=True)) == {"cancelled"}
    assert sorted(pk for pk, _changes, _atomic in changed(announcements)) == [first.pk, second.pk]
    assert changed(announcements)[0][1] == {"status": ("confirmed", "cancelled")}


def test_duplicate_session_copies_speakers_under_a_new_code_and_guid(conference):
    original = SessionFactory(conference=conference, code="pre-event-digital", status=Session.Status.CANCELLED)
    first = SessionSpeakerFactory(session=original, position=0)
    second = SessionSpeakerFactory(session=original, position=1, role="moderator")
    SessionFactory(conference=conference, code="pre-event-digit-2")
    before = version(conference)

    copy = services.duplicate_session(original)
    again = services.duplicate_session(original)

    assert (copy.code, again.code) == ("pre-event-digit-3", "pre-event-digit-4")
    assert copy.guid != original.guid
    assert copy.status == Session.Status.CONFIRMED
    assert (copy.start, copy.room_id, copy.title) == (original.start, original.room_id, original.title)
    assert list(copy.session_speakers.values_list("speaker_id", "role", "position")) == [
        (first.speaker_id, "speaker", 0),
        (second.speaker_id, "moderator", 1),
    ]
    assert version(conference) == before + 2


def test_copy_break_to_all_rooms_fills_the_other_rooms_once(conference):
    rooms = [RoomFactory(conference=conference) for _ in range(3)]
    coffee = SessionFactory(conference=conference, kind=Session.Kind.BREAK, title="Coffee", room=rooms[1])

    copies = services.copy_break_to_all_rooms(coffee)
    again = services.copy_break_to_all_rooms(coffee)

    assert sorted(copy.room_id for copy in copies) == [rooms[0].pk, rooms[2].pk]
    assert {copy.start for copy in copies} == {coffee.start}
    assert again == []
    assert Session.objects.filter(conference=conference, title="Coffee").count() == 3


def test_copy_break_to_all_rooms_refuses_other_kinds_and_roomless_breaks(conference):
    with pytest.raises(NotABreak):
        services.copy_break_to_all_rooms(SessionFactory(conference=conference, kind=Session.Kind.PANEL))
    with pytest.raises(SpansAllRooms):
        services.copy_break_to_all_rooms(SessionFactory(conference=conference, kind=Session.Kind.BREAK, room=None))


def test_delete_session_with_bookings_is_refused(conference):
    booked = BookingFactory(registration__conference=conference).session
    free = SessionFactory(conference=conference)
    before = version(conference)

    services.delete_session(free)
    with pytest.raises(ProtectedError):
        services.delete_session(booked)

    assert not Session.objects.filter(pk=free.pk).exists()
    assert Session.objects.filter(pk=booked.pk).exists()
    assert version(conference) == before + 1


PRE_EVENT, PLENARY = Session.Kind.PRE_EVENT, Session.Kind.PLENARY


@pytest.mark.parametrize(
    ("kind", "seats", "room_capacity", "new_seats", "announced"),
    [
        (PRE_EVENT, 10, 100, 12, True),
        (PRE_EVENT, None, 10, 12, True),  # its own seats above the room's
        (PRE_EVENT, 10, None, None, True),  # no limit any more
        (PRE_EVENT, 10, 100, 10, False),
        (PRE_EVENT, 10, 100, 8, False),
        (PRE_EVENT, 10, 100, None, True),  # the room's 100
        (PRE_EVENT, None, 100, 50, False),
        (PLENARY, 10, 100, 20, False),  # nobody books a seat on it
    ],
)
def test_save_session_announces_more_seats_only(conference, raised, kind, seats, room_capacity, new_seats, announced):
    session = SessionFactory(conference=conference, kind=kind, capacity=seats, room__capacity=room_capacity)

    session.capacity = new_seats
    services.save_session(session)

    assert raised_for(raised) == ([(conference.pk, True)] if announced else [])


def test_save_session_move_to_a_roomier_room_announces_more_seats(conference, raised):
    session = SessionFactory(conference=conference, kind=PRE_EVENT, capacity=None, room__capacity=20)

    session.room = RoomFactory(conference=conference, capacity=30)
    services.save_session(session)
    session.room = RoomFactory(conference=conference, capacity=25)
    services.save_session(session)

    assert raised_for(raised) == [(conference.pk, True)]


def test_save_session_new_session_announces_no_seats(conference, raised):
    services.save_session(SessionFactory.build(conference=conference, kind=PRE_EVENT, room=None, capacity=30))

    assert raised_for(raised) == []


@pytest.mark.parametrize(
    ("capacity", "new_capacity", "announced"),
    [(10, 12, True), (10, None, True), (10, 10, False), (10, 8, False), (None, 50, False)],
)
def test_save_room_announces_more_capacity_only(conference, raised, capacity, new_capacity, announced):
    room = RoomFactory(conference=conference, capacity=capacity)
    before = version(conference)

    room.capacity = new_capacity
    services.save_room(room)

    assert raised_for(raised) == ([(conference.pk, True)] if announced else [])
    assert version(conference) == before + 1


@pytest.mark.parametrize(
    ("cancelled", "new_cancelled", "new_capacity", "announced"),
    [
        (False, False, 400, True),
        (False, False, 350, False),
        (False, False, 300, False),
        (True, False, 350, True),  # called off its cancellation
        (True, True, 400, False),
        (False, True, 400, False),
    ],
)
def test_save_conference_announces_more_places_only(raised, cancelled, new_cancelled, new_capacity, announced):
    conference = ConferenceFactory(capacity=350, is_cancelled=cancelled)

    conference.is_cancelled, conference.capacity = new_cancelled, new_capacity
    services.save_conference(conference)

    assert raised_for(raised) == ([(conference.pk, True)] if announced else [])


def test_save_conference_keeps_the_stored_content_version_and_raises_it(raised):
    conference = ConferenceFactory()
    edited = Conference.objects.get(pk=conference.pk)
    services.bump_content_version(conference.pk)  # another organiser's edit, after the form was loaded

    edited.name = "Cluster Days"
    services.save_conference(edited)

    assert version(conference) == conference.content_version + 2
    assert raised_for(raised) == []
