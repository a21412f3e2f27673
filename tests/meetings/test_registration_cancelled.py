"""A registration cancelled, by the attendee or an organiser, ends the person's bilateral
meetings once the cancellation commits; the other side of each is told."""

import pytest
from icalendar import Calendar

from meetings import services
from meetings.models import Meeting, MeetingRequest, MeetingSeat
from outbox.models import OutgoingEmail
from registration import services as registration_services
from tests.factories import OrganiserFactory, ProfileFactory

pytestmark = pytest.mark.django_db


def ask(sender, recipient, block) -> MeetingRequest:
    return services.send_request(sender, block=block, recipient=recipient, message="Shall we meet?")


@pytest.mark.parametrize("by_staff", [False, True])
def test_a_cancelled_registration_cancels_meetings_and_requests_and_tells_the_other_side(
    conference, block, ela, marcel, by_staff, django_capture_on_commit_callbacks
):
    other = ProfileFactory(registration__conference=conference)
    meeting = services.accept_request(ask(ela, marcel, block), by=marcel, slot_id=block.slots.first().pk)
    waiting = ask(other, ela, block)
    actor = OrganiserFactory() if by_staff else ela.registration.user

    with django_capture_on_commit_callbacks(execute=True):
        registration_services.cancel_registration(ela.registration, actor=actor)

    meeting.refresh_from_db()
    waiting.refresh_from_db()
    ela.refresh_from_db()
    assert (meeting.status, waiting.status) == (Meeting.Status.CANCELLED, MeetingRequest.Status.CANCELLED)
    assert not MeetingSeat.objects.exists()
    assert not ela.opted_in
    told = OutgoingEmail.objects.filter(kind="meetings_request_cancelled")
    assert sorted(told.values_list("to", flat=True)) == sorted(["marcella@example.es", other.registration.user.email])
    (attachment,) = told.get(to="marcella@example.es").attachments
    event = next(iter(Calendar.from_ical(attachment["content"]).walk("VEVENT")))
    assert (str(event["status"]), str(event["uid"])) == ("CANCELLED", f"{meeting.guid}@meetings.conference")
    # The slot is free for the others again.
    assert block.slots.first() in services.free_slots(block, marcel, other)


def test_nothing_happens_to_meetings_until_the_cancellation_commits(
    block, ela, marcel, django_capture_on_commit_callbacks
):
    meeting = services.accept_request(ask(ela, marcel, block), by=marcel, slot_id=block.slots.first().pk)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        registration_services.cancel_registration(ela.registration, actor=ela.registration.user)

    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED
    assert not OutgoingEmail.objects.filter(kind="meetings_request_cancelled").exists()
    for callback in callbacks:  # the commit
        callback()
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED


def test_cancelling_the_registration_of_someone_without_a_profile_is_harmless(
    conference, block, ela, django_capture_on_commit_callbacks
):
    registration = ProfileFactory(registration__conference=conference).registration
    registration.meeting_profile.delete()

    with django_capture_on_commit_callbacks(execute=True):
        registration_services.cancel_registration(registration, actor=registration.user)

    assert not OutgoingEmail.objects.filter(kind__startswith="meetings_").exists()
