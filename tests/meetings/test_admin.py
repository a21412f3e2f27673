import datetime as dt
import zoneinfo

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import dateformat

from meetings import services
from meetings.models import Meeting, MeetingBlock
from tests.factories import ConferenceFactory, MeetingBlockFactory, ProfileFactory, TeamFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db

BLOCKS = reverse("admin:meetings_meetingblock_changelist")
MEETINGS = reverse("admin:meetings_meeting_changelist")
MADRID = zoneinfo.ZoneInfo("Europe/Madrid")


@pytest.fixture
def team_member(client, conference):
    user = VerifiedUserFactory(is_staff=True)
    TeamFactory(conferences=[conference], members=[user], can_run_meetings=True)
    client.force_login(user)
    return user


def test_a_team_member_sees_and_changes_only_their_conferences_blocks(client, team_member, block):
    elsewhere = MeetingBlockFactory(conference=ConferenceFactory(name="Another cluster conference"))

    page = client.get(BLOCKS).content.decode()

    assert str(block.session.title) in page
    assert reverse("admin:meetings_meetingblock_change", args=[block.pk]) in page
    assert reverse("admin:meetings_meetingblock_change", args=[elsewhere.pk]) not in page
    assert client.get(reverse("admin:meetings_meetingblock_change", args=[elsewhere.pk])).status_code == 302


def test_staff_without_the_permission_see_no_meetings_admin(client, block):
    user = VerifiedUserFactory(is_staff=True)
    TeamFactory(conferences=[block.session.conference], members=[user], can_run_voting=True)
    client.force_login(user)

    assert client.get(BLOCKS).status_code == 403


def test_changing_the_slot_length_in_the_admin_cuts_the_slots_again(client, team_member, block):
    session = block.session
    data = {
        "session": session.pk,
        "slot_minutes": 30,
        "tables": 12,
        "table_label": "",
        "max_meetings": 3,
        "max_open_requests": 20,
        "requests_open_0": "2020-01-01",
        "requests_open_1": "09:00:00",
        "requests_close_0": (session.start - dt.timedelta(days=1)).date().isoformat(),
        "requests_close_1": "09:00:00",
        "request_lifetime": "3 00:00:00",
        "slots-TOTAL_FORMS": "0",
        "slots-INITIAL_FORMS": "0",
    }

    response = client.post(reverse("admin:meetings_meetingblock_change", args=[block.pk]), data)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert block.slots.count() == 3
    assert block.table_set.count() == 12


def test_the_scheduler_action_places_accepted_meetings(client, team_member, block, ela, marcel):
    services.accept_request(services.send_request(ela, block=block, recipient=marcel), by=marcel, slot_id=None)

    response = client.post(BLOCKS, {"action": "schedule", ACTION_CHECKBOX_NAME: [block.pk]}, follow=True)

    assert "1 meetings placed, 0 could not be." in response.content.decode()
    meeting = Meeting.objects.get()
    assert (meeting.status, meeting.table.number) == (Meeting.Status.SCHEDULED, 1)


def test_no_show_action_marks_scheduled_meetings(client, team_member, block, ela, marcel):
    meeting = services.accept_request(
        services.send_request(ela, block=block, recipient=marcel), by=marcel, slot_id=block.slots.first().pk
    )

    client.post(MEETINGS, {"action": "mark_no_show", ACTION_CHECKBOX_NAME: [meeting.pk]})

    meeting.refresh_from_db()
    assert meeting.no_show


def test_cancel_action_cancels_the_block(client, team_member, block, ela, marcel):
    services.send_request(ela, block=block, recipient=marcel)

    client.post(BLOCKS, {"action": "cancel", ACTION_CHECKBOX_NAME: [block.pk]})

    assert MeetingBlock.objects.get(pk=block.pk).is_cancelled
    assert not ProfileFactory._meta.model.objects.get(pk=ela.pk).sent_requests.filter(status="pending").exists()


def test_meetings_list_their_slot_and_request_times_in_the_conference_zone(client, team_member, block, ela, marcel):
    slot = block.slots.first()
    meeting = services.accept_request(
        services.send_request(ela, block=block, recipient=marcel), by=marcel, slot_id=slot.pk
    )
    madrid = slot.start.astimezone(zoneinfo.ZoneInfo("Europe/Madrid"))

    listing = client.get(MEETINGS).content.decode()
    detail = client.get(reverse("admin:meetings_meetingrequest_change", args=[meeting.request.pk])).content.decode()

    assert f"{dateformat.format(madrid, 'j F Y, H:i')} (Europe/Madrid)" in listing
    assert f"{slot.start:%Y-%m-%d %H:%M}" not in listing
    assert "(Europe/Madrid)" in detail


def test_a_slot_is_named_by_its_start_in_the_conference_zone(block):
    slot = block.slots.order_by("start")[1]

    # The block's session starts at 17:00 in Madrid: the second 20-minute slot at 17:20.
    assert str(slot) == f"{dateformat.format(slot.start.astimezone(MADRID), 'j F Y')}, 17:20 (Europe/Madrid)"


def test_the_blocks_page_names_its_slots_and_their_times_in_the_conference_zone(client, team_member, block):
    slot = block.slots.order_by("start")[1]
    day = dateformat.format(slot.start.astimezone(MADRID), "j F Y")

    page = client.get(reverse("admin:meetings_meetingblock_change", args=[block.pk])).content.decode()

    # The row's name and its start (and the first slot's end), on Madrid's clock, zone named.
    assert page.count(f"{day}, 17:20 (Europe/Madrid)") == 3
    assert f"{day}, 17:40 (Europe/Madrid)" in page
    assert f"{slot.start:%Y-%m-%d %H:%M}" not in page


def test_the_blocks_page_costs_the_same_queries_for_few_and_many_slots(client, team_member, conference):
    few = MeetingBlockFactory(conference=conference, slot_minutes=30)
    many = MeetingBlockFactory(conference=conference, slot_minutes=15)
    assert (few.slots.count(), many.slots.count()) == (3, 6)
    client.get(reverse("admin:meetings_meetingblock_change", args=[few.pk]))  # warm the session
    with CaptureQueriesContext(connection) as for_few:
        client.get(reverse("admin:meetings_meetingblock_change", args=[few.pk]))

    with CaptureQueriesContext(connection) as for_many:
        client.get(reverse("admin:meetings_meetingblock_change", args=[many.pk]))

    assert len(for_many.captured_queries) == len(for_few.captured_queries)
