import datetime as dt

import pytest
from django.utils import timezone

from checkin import services
from checkin.exceptions import (
    AlreadyCheckedIn,
    NotBooked,
    NotConfirmed,
    OtherConference,
    UndoRefused,
    UnknownDoor,
    UnknownTicket,
)
from checkin.models import CheckIn, OfflineScan, Ticket
from checkin.selectors import Door, door_for
from registration import services as registration_services
from registration.models import Registration
from tests.factories import BookingFactory, ConferenceFactory, PreEventFactory, RegistrationFactory

pytestmark = pytest.mark.django_db
Status = Registration.Status


def test_ticket_token_is_random_and_unrelated_to_the_row(conference):
    registrations = RegistrationFactory.create_batch(20, conference=conference)

    tokens = [services.ensure_ticket(registration).token for registration in registrations]

    assert len(set(tokens)) == 20
    for registration, token in zip(registrations, tokens, strict=True):
        assert len(token) >= 32
        assert str(registration.pk) != token
        assert str(registration.number) != token


def test_ticket_is_made_once(attendee):
    first = services.ensure_ticket(attendee)

    assert services.ensure_ticket(attendee) == first
    assert Ticket.objects.filter(registration=attendee).count() == 1


@pytest.mark.parametrize("status", [Status.WAITLISTED, Status.PENDING, Status.CANCELLED, Status.REJECTED])
def test_only_a_confirmed_registration_has_a_ticket(conference, status):
    registration = RegistrationFactory(conference=conference, status=status)

    assert services.ensure_ticket(registration) is None
    assert not Ticket.objects.exists()


def test_cancelling_and_registering_again_gives_a_new_token_and_refuses_the_old(conference, door, door_staff):
    first = RegistrationFactory(conference=conference)
    old_token = services.ensure_ticket(first).token
    registration_services.cancel_registration(first, actor=first.user)
    again = RegistrationFactory(conference=conference, user=first.user)

    new_token = services.ensure_ticket(again).token

    assert new_token != old_token
    with pytest.raises(NotConfirmed):
        services.check_in_ticket(conference, old_token, door=door, actor=door_staff)
    services.check_in_ticket(conference, new_token, door=door, actor=door_staff)
    assert CheckIn.objects.valid().get().registration == again


def test_a_confirmed_ticket_checks_in_once(conference, door, door_staff, attendee):
    token = services.ensure_ticket(attendee).token

    check_in = services.check_in_ticket(conference, token, door=door, actor=door_staff)

    assert (check_in.registration, check_in.day, check_in.session, check_in.checked_in_by) == (
        attendee,
        conference.start_date,
        None,
        door_staff,
    )
    with pytest.raises(AlreadyCheckedIn) as refusal:
        services.check_in_ticket(conference, token, door=door, actor=door_staff)
    assert refusal.value.check_in == check_in
    assert "door@example.org" in refusal.value.message
    assert conference.timezone in refusal.value.message
    assert CheckIn.objects.count() == 1


def test_each_day_is_a_door_of_its_own(conference, door_staff, attendee):
    services.check_in(attendee, door=Door(conference.start_date), actor=door_staff)
    services.check_in(attendee, door=Door(conference.end_date), actor=door_staff)

    assert CheckIn.objects.valid().count() == 2


@pytest.mark.parametrize("token", ["", "x" * 65, "not-a-ticket", "1", "' OR 1=1 --", "\x00\x1f"])
def test_a_forged_token_is_refused(conference, door, door_staff, attendee, token):
    services.ensure_ticket(attendee)

    with pytest.raises(UnknownTicket):
        services.check_in_ticket(conference, token, door=door, actor=door_staff)
    assert not CheckIn.objects.exists()


def test_another_conference_s_ticket_is_refused(conference, door, door_staff):
    elsewhere = RegistrationFactory(conference=ConferenceFactory())
    token = services.ensure_ticket(elsewhere).token

    with pytest.raises(OtherConference):
        services.check_in_ticket(conference, token, door=door, actor=door_staff)
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize("status", [Status.WAITLISTED, Status.CANCELLED, Status.PENDING])
def test_a_registration_that_is_not_confirmed_is_refused_by_name(conference, door, door_staff, attendee, status):
    Registration.objects.filter(pk=attendee.pk).update(status=status)

    with pytest.raises(NotConfirmed) as refusal:
        services.check_in(attendee, door=door, actor=door_staff)

    assert f"(registration status: {Status(status).label})" in refusal.value.message
    assert not CheckIn.objects.exists()


def test_a_session_door_lets_in_only_those_with_a_confirmed_seat(conference, door_staff, attendee):
    pre_event = PreEventFactory(conference=conference)
    BookingFactory(registration=attendee, session=pre_event)
    other = RegistrationFactory(conference=conference)
    session_door = door_for(conference, f"session-{pre_event.code}")

    services.check_in(attendee, door=session_door, actor=door_staff)
    with pytest.raises(NotBooked):
        services.check_in(other, door=session_door, actor=door_staff)

    assert CheckIn.objects.get().session == pre_event


@pytest.mark.parametrize("key", ["day-2001-01-01", "day-x", "session-nope", "nothing", ""])
def test_an_unknown_door_is_refused(conference, key):
    with pytest.raises(UnknownDoor):
        door_for(conference, key)


def test_undo_within_a_minute_lets_the_person_be_checked_in_again(conference, door, door_staff, attendee):
    check_in = services.check_in(attendee, door=door, actor=door_staff)

    services.undo_check_in(check_in, actor=door_staff)
    again = services.check_in(attendee, door=door, actor=door_staff)

    check_in.refresh_from_db()
    assert check_in.undone_at is not None
    assert check_in.undone_by == door_staff
    assert list(CheckIn.objects.valid()) == [again]
    with pytest.raises(UndoRefused):
        services.undo_check_in(check_in, actor=door_staff)


def test_undo_after_a_minute_is_refused(conference, door, door_staff, attendee):
    check_in = services.check_in(attendee, door=door, actor=door_staff, at=timezone.now() - dt.timedelta(seconds=61))

    with pytest.raises(UndoRefused):
        services.undo_check_in(check_in, actor=door_staff)

    check_in.refresh_from_db()
    assert check_in.undone_at is None


def test_an_offline_batch_sent_twice_records_each_scan_once(conference, door, door_staff, attendee):
    token = services.ensure_ticket(attendee).token
    scanned_at = timezone.now() - dt.timedelta(minutes=5)
    batch = [
        {"nonce": "n-1", "token": token, "door": door.key, "scanned_at": scanned_at.timestamp() * 1000},
        {"nonce": "n-2", "token": "forged", "door": door.key},
        {"nonce": "n-3", "token": token, "door": door.key},
    ]

    first = services.sync_offline_scans(conference, batch, actor=door_staff)
    second = services.sync_offline_scans(conference, batch, actor=door_staff)

    assert [r["code"] for r in first] == ["checked_in", "unknown_ticket", "already_checked_in"]
    assert [r["replayed"] for r in first] == [False, False, False]
    assert [r["code"] for r in second] == ["checked_in", "unknown_ticket", "already_checked_in"]
    assert [r["replayed"] for r in second] == [True, True, True]
    check_in = CheckIn.objects.get()
    assert abs(check_in.checked_in_at - scanned_at) < dt.timedelta(seconds=1)
    assert OfflineScan.objects.count() == 3


def test_a_replayed_scan_does_not_undo_an_undo(conference, door, door_staff, attendee):
    token = services.ensure_ticket(attendee).token
    batch = [{"nonce": "n-1", "token": token, "door": door.key}]
    services.sync_offline_scans(conference, batch, actor=door_staff)
    services.undo_check_in(CheckIn.objects.get(), actor=door_staff)

    replay = services.sync_offline_scans(conference, batch, actor=door_staff)

    assert replay[0]["replayed"] is True
    assert not CheckIn.objects.valid().exists()


def test_offline_scans_with_bad_parts_are_answered_and_record_nothing(conference, door_staff, attendee):
    token = services.ensure_ticket(attendee).token
    batch = [
        {"token": token, "door": "day-x"},
        {"nonce": "n" * 65, "token": token},
        {"nonce": "n-9", "token": token, "door": "day-1999-01-01"},
        {"nonce": "n-10", "token": token, "door": 5, "scanned_at": "soon"},
    ]

    results = services.sync_offline_scans(conference, batch, actor=door_staff)

    assert [r["code"] for r in results] == ["invalid", "invalid", "unknown_door", "unknown_door"]
    assert not CheckIn.objects.exists()


def test_an_offline_scan_from_the_future_is_dated_when_received(conference, door, door_staff, attendee):
    token = services.ensure_ticket(attendee).token
    future = (timezone.now() + dt.timedelta(days=3)).timestamp() * 1000

    services.sync_offline_scans(
        conference, [{"nonce": "n", "token": token, "door": door.key, "scanned_at": future}], actor=door_staff
    )

    assert abs(CheckIn.objects.get().checked_in_at - timezone.now()) < dt.timedelta(minutes=1)


def test_scan_says_who_came_and_what_they_need(conference, door, door_staff, attendee):
    pre_event = PreEventFactory(
        conference=conference,
        title="Σταύρος' workshop",
        start=dt.datetime.combine(conference.start_date, dt.time(14), tzinfo=conference.tz),
    )
    BookingFactory(registration=attendee, session=pre_event)
    Registration.objects.filter(pk=attendee.pk).update(photo_opt_out=True, accessibility_needs="Step-free access")
    attendee.refresh_from_db()

    outcome = services.scan(conference, door=door, actor=door_staff, registration=attendee)

    assert outcome.admitted
    assert outcome.details["name"] == "Elżbieta Bieńkowska"
    assert outcome.details["pre_events"] == ["Σταύρος' workshop"]
    assert outcome.details["flags"] == [
        "Dietary requirements: Vegetarian",
        "Accessibility needs: Step-free access",
        "No photos, please",
    ]
