"""A person's bilateral meetings on My programme and in its calendar feed (registration.programme)."""

import pytest
from django.urls import reverse
from icalendar import Calendar

from meetings import services
from meetings.calendar import meeting_uid
from registration import programme

pytestmark = pytest.mark.django_db


def test_a_scheduled_meeting_is_on_both_peoples_programme_and_feed(client, conference, block, ela, marcel):
    request = services.send_request(ela, block=block, recipient=marcel)
    meeting = services.accept_request(request, by=marcel, slot_id=block.slots.all()[1].pk)

    for person, other in ((ela, "Marcel·la Puig"), (marcel, "Elżbieta Bieńkowska")):
        user = person.registration.user
        client.force_login(user)
        page = client.get(reverse("registration:my_programme", kwargs={"slug": conference.slug})).content.decode()
        assert f"Meeting with {other}" in page
        assert "17:20" in page
        feed = programme.programme_feed(user, conference)
        ical = client.get(feed.get_absolute_url()).content
        events = {str(event["uid"]): event for event in Calendar.from_ical(ical).walk("VEVENT")}
        assert str(events[meeting_uid(meeting)]["summary"]).startswith(f"Meeting with {other}")


def test_a_meeting_without_a_time_or_of_someone_else_is_not_there(conference, block, ela, marcel):
    request = services.send_request(ela, block=block, recipient=marcel)
    services.accept_request(request, by=marcel, slot_id=None)

    assert programme.load_programme(ela.registration.user, conference).entries == []
