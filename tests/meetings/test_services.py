import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from icalendar import Calendar

from meetings import exceptions, services
from meetings.models import Meeting, MeetingRequest, MeetingSeat, Slot, Table
from outbox.models import OutgoingEmail
from registration.models import Registration
from tests.factories import ConferenceFactory, MeetingBlockFactory, ProfileFactory

pytestmark = pytest.mark.django_db


def state() -> tuple:
    """Everything the services write, to show that a refusal changed nothing."""
    return (
        list(MeetingRequest.objects.order_by("pk").values_list("pk", "status")),
        list(Meeting.objects.order_by("pk").values_list("pk", "status", "slot_id", "table_id")),
        MeetingSeat.objects.count(),
        OutgoingEmail.objects.count(),
    )


def ask(sender, recipient, block, **kwargs) -> MeetingRequest:
    return services.send_request(sender, block=block, recipient=recipient, message="Shall we meet?", **kwargs)


def calendar_of(email: OutgoingEmail):
    (attachment,) = email.attachments
    assert attachment["mimetype"] == "text/calendar"
    return next(iter(Calendar.from_ical(attachment["content"]).walk("VEVENT")))


def test_set_up_block_cuts_the_session_into_slots_and_numbers_the_tables(block):
    slots = list(block.slots.all())

    assert [timezone.localtime(slot.start, block.session.conference.tz).strftime("%H:%M") for slot in slots] == [
        "17:00",
        "17:20",
        "17:40",
        "18:00",
    ]
    assert list(block.table_set.values_list("number", flat=True)) == list(range(1, 11))


def test_send_request_saves_it_and_tells_the_recipient_in_their_language(block, ela, marcel):
    slot = block.slots.first()

    meeting_request = ask(ela, marcel, block, slot_ids=[slot.pk])

    assert meeting_request.status == MeetingRequest.Status.PENDING
    assert list(meeting_request.proposed_slots.all()) == [slot]
    assert meeting_request.expires_at == meeting_request.created_at + block.request_lifetime
    email = OutgoingEmail.objects.get()
    assert email.to == "marcella@example.es"
    assert email.language == "es"
    assert "Elżbieta Bieńkowska le pide una reunión" in email.subject
    assert "Shall we meet?" in email.body_text


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda ctx: {"recipient": ctx["ela"]}, exceptions.CannotAskYourself),
        (
            lambda ctx: ctx["marcel"].__class__.objects.filter(pk=ctx["marcel"].pk).update(opted_in=False),
            exceptions.NotFound,
        ),
        (
            lambda ctx: ctx["ela"].__class__.objects.filter(pk=ctx["ela"].pk).update(opted_in=False),
            exceptions.NotAParticipant,
        ),
        (
            lambda ctx: Registration.objects.filter(pk=ctx["marcel"].registration_id).update(status="cancelled"),
            exceptions.NotFound,
        ),
        (
            lambda ctx: (
                ctx["block"]
                .__class__.objects.filter(pk=ctx["block"].pk)
                .update(
                    requests_open=timezone.now() + dt.timedelta(hours=1),
                    requests_close=timezone.now() + dt.timedelta(days=1),
                )
            ),
            exceptions.OutsideWindow,
        ),
        (
            lambda ctx: (
                ctx["block"]
                .__class__.objects.filter(pk=ctx["block"].pk)
                .update(
                    requests_open=timezone.now() - dt.timedelta(days=2),
                    requests_close=timezone.now() - dt.timedelta(days=1),
                )
            ),
            exceptions.OutsideWindow,
        ),
        (
            lambda ctx: ctx["block"].__class__.objects.filter(pk=ctx["block"].pk).update(is_cancelled=True),
            exceptions.BlockCancelled,
        ),
        (lambda ctx: {"block": MeetingBlockFactory()}, exceptions.NotFound),
        (lambda ctx: {"recipient": ProfileFactory()}, exceptions.NotFound),
        (lambda ctx: {"slot_ids": [MeetingBlockFactory().slots.first().pk]}, exceptions.InvalidSlot),
    ],
    ids=[
        "to oneself",
        "recipient not opted in",
        "sender not opted in",
        "recipient no longer confirmed",
        "before the window",
        "after the window",
        "cancelled block",
        "block of another conference",
        "recipient of another conference",
        "slot of another block",
    ],
)
def test_send_request_refuses_bad_input_and_changes_nothing(block, ela, marcel, change, error):
    context = {"block": block, "ela": ela, "marcel": marcel}
    overrides = change(context)
    arguments = {"block": block, "recipient": marcel, **(overrides if isinstance(overrides, dict) else {})}
    before = state()

    with pytest.raises(error) as refusal:
        services.send_request(ela, message="Hello", **arguments)

    assert state() == before
    assert 400 <= refusal.value.status < 500
    assert str(refusal.value.message)


def test_a_second_request_between_the_same_two_either_way_is_refused(block, ela, marcel):
    ask(ela, marcel, block)
    before = state()

    with pytest.raises(exceptions.AlreadyAsked):
        ask(ela, marcel, block)
    with pytest.raises(exceptions.AlreadyAsked):
        ask(marcel, ela, block)

    assert state() == before


def test_open_requests_beyond_the_cap_are_refused(conference, block, ela):
    block.max_open_requests = 2
    block.save()
    others = ProfileFactory.create_batch(3, registration__conference=conference)
    ask(ela, others[0], block)
    ask(ela, others[1], block)
    before = state()

    with pytest.raises(exceptions.TooManyOpenRequests):
        ask(ela, others[2], block)

    assert state() == before


def test_meetings_beyond_the_cap_are_refused_when_asking_and_when_accepting(conference, block, ela):
    block.max_meetings = 1
    block.save()
    first, second, third = ProfileFactory.create_batch(3, registration__conference=conference)
    waiting = ask(second, ela, block)  # sent while Ela still had room
    services.accept_request(ask(ela, first, block), by=first, slot_id=None)
    before = state()

    with pytest.raises(exceptions.CapReached):
        ask(ela, third, block)
    with pytest.raises(exceptions.CapReached):
        ask(third, ela, block)
    with pytest.raises(exceptions.CapReached):
        services.accept_request(waiting, by=ela, slot_id=None)

    assert state() == before


def test_accept_at_a_slot_gives_the_first_free_table_and_a_calendar_entry_to_both(block, ela, marcel):
    slot = block.slots.all()[1]
    meeting_request = ask(ela, marcel, block)

    meeting = services.accept_request(meeting_request, by=marcel, slot_id=slot.pk)

    meeting.refresh_from_db()
    assert (meeting.status, meeting.slot, meeting.table.number) == (Meeting.Status.SCHEDULED, slot, 1)
    assert set(meeting.seats.values_list("profile_id", "slot_id")) == {(ela.pk, slot.pk), (marcel.pk, slot.pk)}
    meeting_request.refresh_from_db()
    assert meeting_request.status == MeetingRequest.Status.ACCEPTED
    emails = OutgoingEmail.objects.filter(kind="meetings_request_accepted")
    assert sorted(emails.values_list("to", flat=True)) == ["ela@example.eu", "marcella@example.es"]
    event = calendar_of(emails.get(to="ela@example.eu"))
    assert str(event["uid"]) == f"{meeting.guid}@meetings.conference"
    assert str(event["status"]) == "CONFIRMED"
    assert event["dtstart"].dt == slot.start
    assert "Table 1" in str(event["location"])
    assert "Marcel·la Puig" in str(event["summary"])
    assert "17:20" in emails.get(to="ela@example.eu").body_text


def test_accept_at_a_slot_where_one_is_busy_is_refused_with_the_slots_still_free(conference, block, ela, marcel):
    busy, free = block.slots.all()[0], block.slots.all()[1:]
    other = ProfileFactory(registration__conference=conference)
    services.accept_request(ask(other, marcel, block), by=marcel, slot_id=busy.pk)
    meeting_request = ask(ela, marcel, block)
    before = state()

    with pytest.raises(exceptions.SlotTaken) as refusal:
        services.accept_request(meeting_request, by=marcel, slot_id=busy.pk)

    assert state() == before
    assert refusal.value.free_slots == list(free)
    assert refusal.value.status == 409


def test_accept_at_a_slot_whose_tables_are_all_taken_is_refused(conference, block, ela, marcel):
    block.tables = 1
    block.save()
    services.set_up_block(block)
    slot = block.slots.first()
    one, two = ProfileFactory.create_batch(2, registration__conference=conference)
    services.accept_request(ask(one, two, block), by=two, slot_id=slot.pk)
    before = state()

    with pytest.raises(exceptions.SlotTaken) as refusal:
        services.accept_request(ask(ela, marcel, block), by=marcel, slot_id=slot.pk)

    assert slot not in refusal.value.free_slots
    assert state()[1:3] == before[1:3]


def test_a_request_from_someone_whose_registration_was_cancelled_cannot_be_accepted(block, ela, marcel):
    meeting_request = ask(ela, marcel, block)
    Registration.objects.filter(pk=ela.registration_id).update(status="cancelled")
    before = state()

    with pytest.raises(exceptions.NotFound):
        services.accept_request(meeting_request, by=marcel, slot_id=None)

    assert state() == before


def test_only_the_recipient_answers_and_only_once(block, ela, marcel):
    meeting_request = ask(ela, marcel, block)
    stranger = ProfileFactory(registration__conference=block.session.conference)

    with pytest.raises(exceptions.NotFound):
        services.accept_request(meeting_request, by=ela, slot_id=None)
    with pytest.raises(exceptions.NotFound):
        services.decline_request(meeting_request, by=stranger)
    services.decline_request(meeting_request, by=marcel, reason="No budget this year")
    before = state()
    with pytest.raises(exceptions.AlreadyAnswered):
        services.accept_request(meeting_request, by=marcel, slot_id=None)
    assert state() == before
    email = OutgoingEmail.objects.get(kind="meetings_request_declined")
    assert email.to == "ela@example.eu"
    assert "No budget this year" in email.body_text


def test_cancelling_a_meeting_frees_the_slot_and_cancels_the_calendar_entry(block, ela, marcel):
    slot = block.slots.first()
    meeting = services.accept_request(ask(ela, marcel, block), by=marcel, slot_id=slot.pk)

    services.cancel_request(meeting.request, by=ela)

    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED
    assert meeting.sequence == 1
    assert not MeetingSeat.objects.exists()
    email = OutgoingEmail.objects.get(kind="meetings_request_cancelled")
    assert email.to == "marcella@example.es"
    event = calendar_of(email)
    assert str(event["uid"]) == f"{meeting.guid}@meetings.conference"
    assert str(event["status"]) == "CANCELLED"
    assert event["sequence"] == 1
    # The slot is free again, for the same two or others.
    assert slot in services.free_slots(block, ela, marcel)
    with pytest.raises(exceptions.AlreadyAnswered):
        services.cancel_request(meeting.request, by=marcel)


def test_expire_requests_expires_the_overdue_once_and_tells_both(block, ela, marcel):
    overdue = ask(ela, marcel, block)
    MeetingRequest.objects.filter(pk=overdue.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    fresh = ask(marcel, ProfileFactory(registration__conference=block.session.conference), block)

    assert services.expire_requests() == 1
    assert services.expire_requests() == 0

    overdue.refresh_from_db()
    fresh.refresh_from_db()
    assert (overdue.status, fresh.status) == (MeetingRequest.Status.EXPIRED, MeetingRequest.Status.PENDING)
    assert sorted(OutgoingEmail.objects.filter(kind="meetings_request_expired").values_list("to", flat=True)) == [
        "ela@example.eu",
        "marcella@example.es",
    ]


def test_requests_in_a_block_whose_session_was_cancelled_still_expire_and_can_be_withdrawn(block, ela, marcel):
    overdue = ask(ela, marcel, block)
    waiting = ask(ProfileFactory(registration__conference=block.session.conference), ela, block)
    MeetingRequest.objects.filter(pk=overdue.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    type(block.session).objects.filter(pk=block.session_id).update(status="cancelled")

    assert services.expire_requests() == 1
    services.decline_request(waiting, by=ela)
    with pytest.raises(exceptions.BlockCancelled):
        ask(ela, marcel, block)


def test_opting_out_cancels_requests_and_meetings_and_tells_the_other_side(conference, block, ela, marcel):
    other = ProfileFactory(registration__conference=conference)
    services.accept_request(ask(ela, marcel, block), by=marcel, slot_id=block.slots.first().pk)
    ask(other, ela, block)

    services.opt_out(ela)

    ela.refresh_from_db()
    assert not ela.opted_in
    assert not MeetingRequest.objects.filter(status__in=MeetingRequest.LIVE_STATUSES).exists()
    assert not MeetingSeat.objects.exists()
    told = OutgoingEmail.objects.filter(kind="meetings_request_cancelled").values_list("to", flat=True)
    assert sorted(told) == sorted(["marcella@example.es", other.registration.user.email])
    assert ela not in list(type(ela).objects.listed(conference))


def test_save_profile_opts_in_a_confirmed_attendee_only(conference, marcel):
    registration = marcel.registration
    Registration.objects.filter(pk=registration.pk).update(status="waitlisted")

    with pytest.raises(exceptions.NotAParticipant):
        services.save_profile(registration, offer="", seek="", languages="", sectors=[], themes=[])


def test_cancel_block_cancels_everything_in_it_and_tells_everyone(block, ela, marcel):
    services.accept_request(ask(ela, marcel, block), by=marcel, slot_id=block.slots.first().pk)

    services.cancel_block(block)

    assert Meeting.objects.get().status == Meeting.Status.CANCELLED
    assert OutgoingEmail.objects.filter(kind="meetings_request_cancelled").count() == 2
    with pytest.raises(exceptions.BlockCancelled):
        ask(ela, marcel, block)


def test_scheduler_places_accepted_meetings_without_double_booking(conference, block):
    people = ProfileFactory.create_batch(6, registration__conference=conference)
    for index, person in enumerate(people):
        for other in people[index + 1 :]:
            services.accept_request(ask(person, other, block), by=other, slot_id=None)

    result = services.schedule_block(block)

    # Six people, each in five meetings, four slots: at most three meetings a slot, so
    # twelve at best. First fit alone places nine here; the improvement step gets ten.
    assert result.placed >= 10
    assert result.placed + result.unplaced == 15
    assert Meeting.objects.filter(status=Meeting.Status.SCHEDULED).count() == result.placed
    assert MeetingSeat.objects.count() == 2 * result.placed
    assert OutgoingEmail.objects.filter(kind="meetings_meeting_scheduled").count() == 2 * result.placed
    # Nothing left over fits anywhere: no slot has both people free.
    for meeting in Meeting.objects.filter(status=Meeting.Status.ACCEPTED).select_related("request"):
        assert not services.free_slots(block, meeting.request.sender, meeting.request.recipient)


def test_scheduler_moves_its_own_placements_to_make_room():
    from meetings.services import _plan

    class Fake:
        def __init__(self, pk, sender, recipient):
            self.pk = pk
            self.request = type("R", (), {"sender_id": sender, "recipient_id": recipient})

    slots = [type("S", (), {"pk": pk}) for pk in (1, 2)]
    # Person 1 meets 2 and 3; person 3 is busy in slot 2 already. First fit puts 1–2 into
    # slot 1, leaving 1–3 nowhere; moving 1–2 to slot 2 makes room.
    busy = {3: {2}}
    from collections import defaultdict

    plan, moved = _plan([Fake(10, 1, 2), Fake(11, 1, 3)], slots, 5, defaultdict(set, busy), defaultdict(int, {2: 1}))

    assert plan == {10: 2, 11: 1}
    assert moved == 1


def test_the_database_refuses_a_person_in_two_meetings_at_once(block, ela, marcel):
    slot = block.slots.first()
    first = services.accept_request(ask(ela, marcel, block), by=marcel, slot_id=slot.pk)
    other = ProfileFactory(registration__conference=block.session.conference)
    second_request = MeetingRequest.objects.create(
        block=block, sender=ela, recipient=other, created_at=timezone.now(), expires_at=timezone.now()
    )
    second = Meeting.objects.create(request=second_request, block=block)

    with pytest.raises(IntegrityError), transaction.atomic():
        MeetingSeat.objects.create(meeting=second, profile=ela, slot=slot)
    with pytest.raises(IntegrityError), transaction.atomic():
        Meeting.objects.filter(pk=second.pk).update(status="scheduled", slot=slot, table=first.table)


def test_the_database_refuses_requests_to_oneself_and_a_second_live_one_per_pair(block, ela, marcel):
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        MeetingRequest.objects.create(block=block, sender=ela, recipient=ela, created_at=now, expires_at=now)
    MeetingRequest.objects.create(block=block, sender=ela, recipient=marcel, created_at=now, expires_at=now)
    with pytest.raises(IntegrityError), transaction.atomic():
        MeetingRequest.objects.create(block=block, sender=marcel, recipient=ela, created_at=now, expires_at=now)
    with pytest.raises(IntegrityError), transaction.atomic():
        Table.objects.create(block=block, number=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Slot.objects.create(block=block, start=now, end=now)


def test_block_of_another_conference_is_not_found_for_accept(block, ela, marcel):
    meeting_request = ask(ela, marcel, block)
    outsider = ProfileFactory(registration__conference=ConferenceFactory())

    with pytest.raises(exceptions.NotFound):
        services.cancel_request(meeting_request, by=outsider)
