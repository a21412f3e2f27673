import datetime as dt
import re

import pytest
from django.utils import timezone

from outbox.models import OutgoingEmail
from registration import selectors, services
from registration.exceptions import (
    AlreadyRegistered,
    ChangesClosed,
    InvalidSessionChoice,
    InvalidTransition,
    OverlappingSessions,
    PrivacyStatementChanged,
    RegistrationClosed,
    RegistrationUnavailable,
)
from registration.models import Booking, Registration, RegistrationChange
from registration.selectors import privacy_statement
from tests.emails import written
from tests.factories import (
    ConferenceFactory,
    PreEventFactory,
    RegistrationFactory,
    RoomFactory,
    SessionFactory,
    UserFactory,
    attendee_details,
)

pytestmark = pytest.mark.django_db

Status = Registration.Status
Action = RegistrationChange.Action


def sign_up(conference, *, user=None, sessions=(), **details) -> Registration:
    return services.register(
        user or UserFactory(),
        conference,
        details=attendee_details(**details),
        session_ids=[session.pk for session in sessions],
        privacy_statement=privacy_statement(conference),
    )


def emails_to(user, kind: str) -> list[OutgoingEmail]:
    """The emails of `kind` to `user`, written as they will be sent."""
    return [written(email) for email in OutgoingEmail.objects.filter(to=user.email, kind=kind).order_by("pk")]


def bookings_of(registration) -> dict[str, str]:
    return dict(registration.bookings.values_list("session__code", "status"))


def test_register_confirms_while_places_are_left():
    conference = ConferenceFactory(capacity=2)
    user = UserFactory()

    registration = sign_up(conference, user=user, country="PL")

    registration.refresh_from_db()
    assert registration.status == Status.CONFIRMED
    assert registration.number == 1
    assert registration.full_name == "Elźbieta Bieńkowska"
    assert registration.country.code == "PL"
    assert registration.privacy_statement_agreed == privacy_statement(conference)
    assert abs(registration.privacy_agreed_at - timezone.now()) < dt.timedelta(seconds=5)
    change = registration.changes.get()
    assert (change.action, change.actor, change.details["status"]) == (Action.REGISTERED, user, "confirmed")
    (email,) = emails_to(user, "confirmed")
    assert (email.to, email.conference) == (registration.user.email, registration.conference)
    assert "Your registration number is 1." in email.body_text


def test_register_puts_the_rest_on_the_waiting_list_with_their_position():
    conference = ConferenceFactory(capacity=1)
    sign_up(conference)
    second, third = UserFactory(), UserFactory()

    sign_up(conference, user=second)
    waiting = sign_up(conference, user=third)

    assert waiting.status == Status.WAITLISTED
    assert waiting.number == 3
    assert selectors.waitlist_position(waiting) == 2
    assert "at position 2" in emails_to(third, "waitlisted")[0].body_text
    assert "at position 1" in emails_to(second, "waitlisted")[0].body_text


def test_register_is_pending_where_the_conference_requires_approval():
    conference = ConferenceFactory(requires_approval=True, capacity=1)
    user = UserFactory()

    registration = sign_up(conference, user=user)

    assert registration.status == Status.PENDING
    assert len(emails_to(user, "received")) == 1
    conference.refresh_from_db()
    assert selectors.places_left(conference) == 1


def test_register_twice_yields_the_existing_registration():
    conference = ConferenceFactory()
    user = UserFactory()
    first = sign_up(conference, user=user)

    with pytest.raises(AlreadyRegistered) as refused:
        sign_up(conference, user=user, given_name="Other")

    assert refused.value.registration == first
    assert Registration.objects.filter(user=user).count() == 1
    assert Registration.objects.get().given_name == "Elźbieta"


def test_register_again_after_cancelling_makes_a_new_registration():
    conference = ConferenceFactory()
    user = UserFactory()
    first = sign_up(conference, user=user)
    services.cancel_registration(first, actor=user)

    second = sign_up(conference, user=user)

    assert second.pk != first.pk
    assert second.number == 2
    assert second.status == Status.CONFIRMED


def test_register_before_the_window_opens_says_when_it_opens():
    opens = timezone.now() + dt.timedelta(days=3)
    conference = ConferenceFactory(registration_opens=opens, timezone="Europe/Madrid")

    with pytest.raises(RegistrationClosed) as refused:
        sign_up(conference)

    local = timezone.localtime(opens, conference.tz)
    assert refused.value.message == f"Registration opens on {local:%-d %B %Y, %H:%M} (Europe/Madrid)."
    assert not Registration.objects.exists()


def test_register_after_the_window_closes_is_refused():
    conference = ConferenceFactory(
        registration_opens=timezone.now() - dt.timedelta(days=5), registration_closes=timezone.now()
    )

    with pytest.raises(RegistrationClosed) as refused:
        sign_up(conference)

    assert "Registration closed on" in str(refused.value.message)
    assert not Registration.objects.exists()


@pytest.mark.parametrize("state", [{"is_published": False}, {"is_cancelled": True}])
def test_register_for_an_unpublished_or_cancelled_conference_is_refused(state):
    conference = ConferenceFactory(**state)

    with pytest.raises(RegistrationUnavailable):
        sign_up(conference)

    assert not Registration.objects.exists()


def test_register_with_a_changed_privacy_statement_saves_nothing():
    conference = ConferenceFactory()

    with pytest.raises(PrivacyStatementChanged):
        services.register(
            UserFactory(),
            conference,
            details=attendee_details(),
            session_ids=[],
            privacy_statement="An older text.",
        )

    assert not Registration.objects.exists()
    assert not OutgoingEmail.objects.exists()


def test_register_for_a_session_of_another_conference_saves_nothing():
    conference = ConferenceFactory()
    elsewhere = PreEventFactory()

    with pytest.raises(InvalidSessionChoice):
        sign_up(conference, sessions=[elsewhere])

    assert not Registration.objects.exists()
    assert not Booking.objects.exists()


def test_register_for_a_session_without_sign_up_is_refused():
    conference = ConferenceFactory()
    plenary = SessionFactory(conference=conference)
    cancelled = PreEventFactory(conference=conference, status="cancelled")

    for session in (plenary, cancelled):
        with pytest.raises(InvalidSessionChoice):
            sign_up(conference, sessions=[session])

    assert not Registration.objects.exists()


def test_register_for_overlapping_sessions_names_them_and_saves_nothing():
    conference = ConferenceFactory()
    morning = PreEventFactory(conference=conference, title="Smart specialisation lab")
    clash = PreEventFactory(
        conference=conference, title="Cluster internationalisation", start=morning.start + dt.timedelta(minutes=30)
    )

    with pytest.raises(OverlappingSessions) as refused:
        sign_up(conference, sessions=[clash, morning])

    assert "“Smart specialisation lab” and “Cluster internationalisation”" in str(refused.value.message)
    assert not Registration.objects.exists()


def test_register_books_free_seats_and_queues_for_full_sessions():
    conference = ConferenceFactory()
    roomy = PreEventFactory(conference=conference, capacity=5)
    full = PreEventFactory(conference=conference, capacity=1, start=roomy.end)
    sign_up(conference, sessions=[full])

    registration = sign_up(conference, sessions=[roomy, full])

    assert bookings_of(registration) == {roomy.code: "confirmed", full.code: "waitlisted"}
    (waiting,) = [b for b in registration.bookings.all() if b.status == "waitlisted"]
    assert selectors.booking_positions(registration) == {waiting.pk: 1}


def test_register_without_session_capacity_uses_the_room_and_no_limit_at_all():
    conference = ConferenceFactory()
    small_room = PreEventFactory(
        conference=conference, capacity=None, room=RoomFactory(conference=conference, capacity=1)
    )
    open_air = PreEventFactory(conference=conference, capacity=None, room=None, start=small_room.end)
    sign_up(conference, sessions=[small_room, open_air])

    registration = sign_up(conference, sessions=[small_room, open_air])

    assert bookings_of(registration) == {small_room.code: "waitlisted", open_air.code: "confirmed"}


def test_bookings_of_a_waiting_registration_hold_no_seat():
    conference = ConferenceFactory(capacity=1)
    workshop = PreEventFactory(conference=conference, capacity=5)
    sign_up(conference)

    waiting = sign_up(conference, sessions=[workshop])

    assert bookings_of(waiting) == {workshop.code: "waitlisted"}
    assert selectors.booking_positions(waiting) == {}
    assert selectors.seats_left(selectors.bookable_sessions(conference).get()) == 5


def test_cancel_promotes_the_first_on_the_waiting_list_with_their_seats():
    conference = ConferenceFactory(capacity=2)
    workshop = PreEventFactory(conference=conference, capacity=10)
    leaving_user = UserFactory()
    leaving = sign_up(conference, user=leaving_user)
    sign_up(conference)
    first, second = UserFactory(), UserFactory()
    first_waiting = sign_up(conference, user=first, sessions=[workshop])
    second_waiting = sign_up(conference, user=second)

    services.cancel_registration(leaving, actor=leaving_user)

    leaving.refresh_from_db()
    first_waiting.refresh_from_db()
    second_waiting.refresh_from_db()
    assert leaving.status == Status.CANCELLED
    assert first_waiting.status == Status.CONFIRMED
    assert bookings_of(first_waiting) == {workshop.code: "confirmed"}
    assert second_waiting.status == Status.WAITLISTED
    assert selectors.waitlist_position(second_waiting) == 1
    (email,) = emails_to(first, "promoted")
    assert email.subject.endswith(": A place has freed up and it is yours")
    assert emails_to(second, "promoted") == []
    assert len(emails_to(leaving_user, "cancelled")) == 1
    promoted = first_waiting.changes.get(action=Action.PROMOTED)
    assert promoted.actor is None
    assert promoted.details == {"pre_events": {workshop.code: "confirmed"}}
    cancelled = leaving.changes.get(action=Action.CANCELLED)
    assert (cancelled.actor, cancelled.details["previous_status"]) == (leaving_user, "confirmed")


def test_cancel_gives_the_freed_seat_to_the_first_in_the_session_queue():
    conference = ConferenceFactory()
    workshop = PreEventFactory(conference=conference, capacity=1)
    holder_user = UserFactory()
    holder = sign_up(conference, user=holder_user, sessions=[workshop])
    first, second = UserFactory(), UserFactory()
    first_queued = sign_up(conference, user=first, sessions=[workshop])
    second_queued = sign_up(conference, user=second, sessions=[workshop])

    services.cancel_registration(holder, actor=holder_user)

    assert bookings_of(first_queued) == {workshop.code: "confirmed"}
    assert bookings_of(second_queued) == {workshop.code: "waitlisted"}
    assert selectors.booking_positions(second_queued) == {second_queued.bookings.get().pk: 1}
    (email,) = emails_to(first, "promoted")
    assert (email.to, email.conference) == (first_queued.user.email, first_queued.conference)
    assert f"A seat at “{workshop.title}” has freed up and it is yours" in email.subject
    assert "your registration is now confirmed" not in email.body_text
    assert first_queued.changes.filter(action=Action.BOOKING_PROMOTED, details={"session": workshop.code}).exists()
    assert not Booking.objects.filter(registration=holder).exists()


def test_cancel_of_a_waiting_registration_moves_the_others_up():
    conference = ConferenceFactory(capacity=1)
    sign_up(conference)
    leaving_user = UserFactory()
    leaving = sign_up(conference, user=leaving_user)
    behind = sign_up(conference)
    assert selectors.waitlist_position(behind) == 2

    services.cancel_registration(leaving, actor=leaving_user)

    behind.refresh_from_db()
    assert behind.status == Status.WAITLISTED
    assert selectors.waitlist_position(behind) == 1
    assert not OutgoingEmail.objects.filter(kind="promoted").exists()


def test_cancel_twice_is_refused():
    conference = ConferenceFactory()
    user = UserFactory()
    registration = sign_up(conference, user=user)
    services.cancel_registration(registration, actor=user)

    with pytest.raises(InvalidTransition):
        services.cancel_registration(registration, actor=user)

    assert RegistrationChange.objects.filter(action=Action.CANCELLED).count() == 1


def test_attendee_cannot_change_once_the_conference_began_but_an_organiser_can():
    conference = ConferenceFactory(
        start_date=timezone.localdate(),
        registration_opens=timezone.now() - dt.timedelta(days=9),
        registration_closes=timezone.now() - dt.timedelta(days=1),
    )
    user = UserFactory()
    registration = RegistrationFactory(conference=conference, user=user)
    organiser = UserFactory(is_staff=True)

    with pytest.raises(ChangesClosed):
        services.cancel_registration(registration, actor=user)
    with pytest.raises(ChangesClosed):
        services.update_details(registration, details={"job_title": "Director"}, actor=user)
    services.cancel_registration(registration, actor=organiser)

    registration.refresh_from_db()
    assert registration.status == Status.CANCELLED
    assert registration.changes.get().actor == organiser


def test_update_details_records_what_changed_and_tells_the_attendee():
    conference = ConferenceFactory()
    user = UserFactory()
    registration = sign_up(conference, user=user, job_title="Analyst")

    services.update_details(
        registration, details={"job_title": "Cluster manager", "country": "DE", "given_name": "Elźbieta"}, actor=user
    )

    registration.refresh_from_db()
    assert registration.job_title == "Cluster manager"
    assert registration.country.code == "DE"
    change = registration.changes.get(action=Action.DETAILS_CHANGED)
    assert change.actor == user
    assert change.details == {"job_title": ["Analyst", "Cluster manager"], "country": ["PL", "DE"]}
    assert len(emails_to(user, "changed")) == 1


def test_update_details_email_says_what_changed_in_the_attendees_language():
    conference = ConferenceFactory()
    user = UserFactory()
    registration = sign_up(conference, user=user, job_title="", organisation_type="sme", language="es")

    # An organiser's change, in English; the attendee reads it in Spanish.
    services.update_details(
        registration,
        details={"job_title": "Cluster manager", "organisation_type": "public_authority"},
        actor=UserFactory(is_staff=True, language="en"),
    )

    (email,) = emails_to(user, "changed")
    assert "se ha modificado:\n- Cargo: (ninguna) → Cluster manager\n" in email.body_text
    assert "- Tipo de organización: Pyme → Administración pública\n" in email.body_text
    assert "<li>Tipo de organización: Pyme → Administración pública</li>" in email.body_html


def test_change_bookings_email_lists_the_pre_events_added_and_removed():
    conference = ConferenceFactory()
    morning = PreEventFactory(conference=conference, title="Smart specialisation lab")
    full = PreEventFactory(conference=conference, title="Cluster excellence", capacity=1, start=morning.end)
    roomy = PreEventFactory(conference=conference, title="Interregional partnerships", start=full.end)
    sign_up(conference, sessions=[full])
    user = UserFactory()
    registration = sign_up(conference, user=user, sessions=[morning])

    services.change_bookings(registration, session_ids=[full.pk, roomy.pk], actor=user)

    (email,) = emails_to(user, "changed")
    assert "- Pre-event added: Cluster excellence (you are on its waiting list)\n" in email.body_text
    assert "- Pre-event added: Interregional partnerships\n" in email.body_text
    assert "- Pre-event removed: Smart specialisation lab\n" in email.body_text
    changes = re.search(r"<ul>(.*?)</ul>", email.body_html, re.S).group(1)
    assert re.findall(r"<li>(.*?)</li>", changes) == [
        "Pre-event added: Cluster excellence (you are on its waiting list)",
        "Pre-event added: Interregional partnerships",
        "Pre-event removed: Smart specialisation lab",
    ]
    # What the attendee now holds is a list too.
    assert "<li>Interregional partnerships:" in email.body_html


def test_update_details_without_a_difference_changes_nothing():
    conference = ConferenceFactory()
    user = UserFactory()
    registration = sign_up(conference, user=user)

    services.update_details(registration, details={"given_name": "Elźbieta"}, actor=user)

    assert not registration.changes.filter(action=Action.DETAILS_CHANGED).exists()
    assert emails_to(user, "changed") == []


def test_update_details_refuses_fields_that_are_not_details():
    registration = RegistrationFactory()

    with pytest.raises(TypeError):
        services.update_details(registration, details={"status": "confirmed"}, actor=registration.user)


def test_change_bookings_swaps_a_session_and_hands_the_freed_seat_on():
    conference = ConferenceFactory()
    morning = PreEventFactory(conference=conference, capacity=1)
    afternoon = PreEventFactory(conference=conference, capacity=1, start=morning.end)
    other = PreEventFactory(conference=conference, capacity=3, start=morning.start)
    user = UserFactory()
    registration = sign_up(conference, user=user, sessions=[morning, afternoon])
    queued_user = UserFactory()
    queued = sign_up(conference, user=queued_user, sessions=[morning])

    services.change_bookings(registration, session_ids=[other.pk, afternoon.pk], actor=user)

    assert bookings_of(registration) == {other.code: "confirmed", afternoon.code: "confirmed"}
    assert bookings_of(queued) == {morning.code: "confirmed"}
    change = registration.changes.get(action=Action.BOOKINGS_CHANGED)
    assert change.details["added"] == [other.code]
    assert change.details["removed"] == [morning.code]
    assert len(emails_to(user, "changed")) == 1
    assert len(emails_to(queued_user, "promoted")) == 1


def test_change_bookings_to_overlapping_sessions_keeps_the_old_ones():
    conference = ConferenceFactory()
    morning = PreEventFactory(conference=conference)
    clash = PreEventFactory(conference=conference, start=morning.start)
    user = UserFactory()
    registration = sign_up(conference, user=user, sessions=[morning])

    with pytest.raises(OverlappingSessions):
        services.change_bookings(registration, session_ids=[morning.pk, clash.pk], actor=user)

    assert bookings_of(registration) == {morning.code: "confirmed"}
    assert not registration.changes.filter(action=Action.BOOKINGS_CHANGED).exists()


def test_change_bookings_keeps_a_session_cancelled_since_but_refuses_a_new_one():
    conference = ConferenceFactory()
    kept = PreEventFactory(conference=conference)
    user = UserFactory()
    registration = sign_up(conference, user=user, sessions=[kept])
    kept.status = "cancelled"
    kept.save()
    extra = PreEventFactory(conference=conference, start=kept.end)
    cancelled = PreEventFactory(conference=conference, start=extra.end, status="cancelled")

    services.change_bookings(registration, session_ids=[kept.pk, extra.pk], actor=user)
    with pytest.raises(InvalidSessionChoice):
        services.change_bookings(registration, session_ids=[kept.pk, extra.pk, cancelled.pk], actor=user)

    assert bookings_of(registration) == {kept.code: "confirmed", extra.code: "confirmed"}


def test_approve_confirms_while_places_are_left_then_queues():
    conference = ConferenceFactory(requires_approval=True, capacity=1)
    workshop = PreEventFactory(conference=conference, capacity=5)
    organiser = UserFactory(is_staff=True)
    first_user, second_user = UserFactory(), UserFactory()
    first = sign_up(conference, user=first_user, sessions=[workshop])
    second = sign_up(conference, user=second_user)
    assert bookings_of(first) == {workshop.code: "waitlisted"}

    services.approve_registration(first, actor=organiser)
    services.approve_registration(second, actor=organiser)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Status.CONFIRMED
    assert bookings_of(first) == {workshop.code: "confirmed"}
    assert second.status == Status.WAITLISTED
    assert len(emails_to(first_user, "approved")) == 1
    assert "at position 1" in emails_to(second_user, "waitlisted")[0].body_text
    assert first.changes.get(action=Action.APPROVED).actor == organiser
    with pytest.raises(InvalidTransition):
        services.approve_registration(first, actor=organiser)


def test_reject_tells_the_reason_and_drops_the_choices():
    conference = ConferenceFactory(requires_approval=True)
    workshop = PreEventFactory(conference=conference)
    user = UserFactory()
    registration = sign_up(conference, user=user, sessions=[workshop])
    organiser = UserFactory(is_staff=True)

    services.reject_registration(registration, actor=organiser, reason="The conference is for cluster managers.")

    registration.refresh_from_db()
    assert registration.status == Status.REJECTED
    assert not registration.bookings.exists()
    assert "The conference is for cluster managers." in emails_to(user, "rejected")[0].body_text
    assert registration.changes.get(action=Action.REJECTED).details == {
        "reason": "The conference is for cluster managers."
    }


def test_reject_a_confirmed_registration_is_refused():
    registration = RegistrationFactory()

    with pytest.raises(InvalidTransition):
        services.reject_registration(registration, actor=UserFactory(is_staff=True), reason="No.")

    registration.refresh_from_db()
    assert registration.status == Status.CONFIRMED


def test_move_up_puts_a_registration_first_in_line():
    conference = ConferenceFactory(capacity=1)
    sign_up(conference)
    first = sign_up(conference)
    vip = sign_up(conference)
    organiser = UserFactory(is_staff=True)

    services.move_up(vip, actor=organiser)

    vip.refresh_from_db()
    first.refresh_from_db()
    assert vip.status == Status.WAITLISTED
    assert selectors.waitlist_position(vip) == 1
    assert selectors.waitlist_position(first) == 2
    assert vip.changes.get(action=Action.MOVED_UP).actor == organiser


def test_promoted_bookings_join_the_seat_queue_behind_those_already_in_it():
    conference = ConferenceFactory(capacity=2)
    workshop = PreEventFactory(conference=conference, capacity=1)
    holder_user, mid_user = UserFactory(), UserFactory()
    holder = sign_up(conference, user=holder_user, sessions=[workshop])
    mid = sign_up(conference, user=mid_user)
    # Asked for the workshop before `mid` did, but only waiting for the conference then.
    early = sign_up(conference, sessions=[workshop])
    services.change_bookings(mid, session_ids=[workshop.pk], actor=mid_user)

    services.cancel_registration(holder, actor=holder_user)

    early.refresh_from_db()
    assert early.status == Status.CONFIRMED
    assert bookings_of(mid) == {workshop.code: "confirmed"}
    assert bookings_of(early) == {workshop.code: "waitlisted"}
    assert selectors.booking_positions(early) == {early.bookings.get().pk: 1}


def test_a_pre_event_that_has_begun_can_no_longer_be_booked_or_cancelled_by_the_attendee():
    conference = ConferenceFactory(start_date=timezone.localdate() + dt.timedelta(days=1))
    attended = PreEventFactory(conference=conference)
    user = UserFactory()
    registration = sign_up(conference, user=user, sessions=[attended])
    began = timezone.now() - dt.timedelta(hours=2)
    attended.start, attended.end = began, began + dt.timedelta(hours=1)
    attended.save()
    missed = PreEventFactory(conference=conference, start=attended.start, end=attended.end + dt.timedelta(minutes=30))
    upcoming = PreEventFactory(conference=conference, start=timezone.now() + dt.timedelta(hours=3))

    with pytest.raises(InvalidSessionChoice):
        sign_up(conference, sessions=[missed])
    with pytest.raises(InvalidSessionChoice):
        services.change_bookings(registration, session_ids=[attended.pk, upcoming.pk, missed.pk], actor=user)
    # Leaving the past one out of the form keeps it: what took place stays on the record.
    services.change_bookings(registration, session_ids=[upcoming.pk], actor=user)

    assert bookings_of(registration) == {attended.code: "confirmed", upcoming.code: "confirmed"}
    assert list(selectors.bookable_sessions(conference)) == [upcoming]
