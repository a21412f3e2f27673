"""Registration's answers to the organisers' changes in the agenda: more places or seats go
to those waiting, inside the organiser's transaction, and nothing is done otherwise."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agenda import services as agenda_services
from agenda.models import Conference, Session
from outbox.models import OutgoingEmail
from registration import services
from registration.models import Registration, RegistrationChange
from registration.selectors import privacy_statement
from tests.factories import (
    ConferenceFactory,
    OrganiserFactory,
    PreEventFactory,
    RoomFactory,
    SessionFactory,
    UserFactory,
    attendee_details,
)

pytestmark = pytest.mark.django_db

Status = Registration.Status


def sign_up(conference, *, sessions=()) -> Registration:
    return services.register(
        UserFactory(),
        conference,
        details=attendee_details(),
        session_ids=[session.pk for session in sessions],
        privacy_statement=privacy_statement(conference),
    )


def statuses(*registrations) -> list[str]:
    return [Registration.objects.get(pk=r.pk).status for r in registrations]


def seat_status(registration, session) -> str:
    return registration.bookings.get(session=session).status


# The test's transaction never commits: whatever the promotions changed, they changed inside
# the organiser's transaction, not after it.


def test_more_places_promote_in_order_in_the_organisers_transaction():
    conference = ConferenceFactory(capacity=1)
    sign_up(conference)
    first, second, third = sign_up(conference), sign_up(conference), sign_up(conference)

    conference.capacity = 3
    agenda_services.save_conference(conference)

    assert statuses(first, second, third) == [Status.CONFIRMED, Status.CONFIRMED, Status.WAITLISTED]
    assert sorted(OutgoingEmail.objects.filter(kind="promoted").values_list("to", flat=True)) == sorted(
        [first.user.email, second.user.email]
    )


def test_more_seats_on_a_pre_event_seat_its_queue_in_the_organisers_transaction():
    conference = ConferenceFactory()
    workshop = PreEventFactory(conference=conference, capacity=1)
    sign_up(conference, sessions=[workshop])
    queued, still_queued = sign_up(conference, sessions=[workshop]), sign_up(conference, sessions=[workshop])

    workshop.capacity = 2
    agenda_services.save_session(workshop)

    assert (seat_status(queued, workshop), seat_status(still_queued, workshop)) == ("confirmed", "waitlisted")
    (email,) = OutgoingEmail.objects.filter(kind="promoted")
    assert email.to == queued.user.email


def test_a_roomier_room_in_the_conference_admin_seats_the_queues_of_its_sessions(client):
    conference = ConferenceFactory(name="Cluster Days", capacity=100)
    room = RoomFactory(conference=conference, name="Sala 1", capacity=1, position=1)
    workshop = PreEventFactory(conference=conference, capacity=None, room=room)
    sign_up(conference, sessions=[workshop])
    queued = sign_up(conference, sessions=[workshop])
    client.force_login(OrganiserFactory())

    response = client.post(
        f"/admin/agenda/conference/{conference.pk}/change/",
        {
            "name_en": conference.name,
            "slug": conference.slug,
            "start_date": conference.start_date.isoformat(),
            "end_date": conference.end_date.isoformat(),
            "timezone": conference.timezone,
            "capacity": conference.capacity,
            "is_published": "on",
            "privacy_statement": conference.privacy_statement,
            "personal_data_months": 12,
            "sensitive_answers_days": 0,
            "rooms-TOTAL_FORMS": 1,
            "rooms-INITIAL_FORMS": 1,
            "rooms-0-id": room.pk,
            "rooms-0-conference": conference.pk,
            "rooms-0-name_en": room.name,
            "rooms-0-capacity": 2,
            "rooms-0-position": 1,
            "tracks-TOTAL_FORMS": 0,
            "tracks-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    room.refresh_from_db()
    assert room.capacity == 2
    assert seat_status(queued, workshop) == "confirmed"
    assert queued.changes.filter(action=RegistrationChange.Action.BOOKING_PROMOTED).count() == 1


def test_calling_off_a_cancellation_promotes_but_nobody_is_promoted_into_a_cancelled_conference():
    conference = ConferenceFactory(capacity=1)
    sign_up(conference)
    waiting = sign_up(conference)

    conference.is_cancelled = True
    conference.capacity = 5
    agenda_services.save_conference(conference)
    assert statuses(waiting) == [Status.WAITLISTED]

    conference.is_cancelled = False
    agenda_services.save_conference(conference)
    assert statuses(waiting) == [Status.CONFIRMED]


def test_saving_a_conference_without_more_places_promotes_nobody(django_capture_on_commit_callbacks):
    conference = ConferenceFactory(capacity=1)
    sign_up(conference)
    waiting = sign_up(conference)
    # Places the services were not told about: an answer to every save would hand them out.
    Conference.objects.filter(pk=conference.pk).update(capacity=2)
    conference.refresh_from_db()
    emails = OutgoingEmail.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        conference.name = "Cluster Days, renamed"
        agenda_services.save_conference(conference)
        conference.capacity = 1
        agenda_services.save_conference(conference)

    assert statuses(waiting) == [Status.WAITLISTED]
    assert OutgoingEmail.objects.count() == emails


def test_saving_a_pre_event_without_more_seats_promotes_nobody_and_costs_no_query(django_capture_on_commit_callbacks):
    conference = ConferenceFactory()
    workshop = PreEventFactory(conference=conference, capacity=1)
    sign_up(conference, sessions=[workshop])
    queued = sign_up(conference, sessions=[workshop])
    Session.objects.filter(pk=workshop.pk).update(capacity=2)
    workshop.refresh_from_db()
    plenary = SessionFactory(conference=conference, kind=Session.Kind.PLENARY, room=workshop.room)

    counts = []
    emails = OutgoingEmail.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        for session in (workshop, plenary):
            session.title = "Renamed"
            with CaptureQueriesContext(connection) as queries:
                agenda_services.save_session(session)
            counts.append(len(queries))
        workshop.capacity = 1
        agenda_services.save_session(workshop)

    assert seat_status(queued, workshop) == "waitlisted"
    assert OutgoingEmail.objects.count() == emails
    # Booked and waited for, or neither: the save costs the agenda's own queries only.
    assert counts[0] == counts[1]


def test_registration_is_the_one_subscriber_of_the_programme_events():
    from agenda import events
    from registration import notifications

    assert events.subscribers(events.CAPACITY_RAISED) == [services.promote_waitlist]
    assert events.subscribers(events.SESSION_CHANGED) == [notifications.notify_session_change]
