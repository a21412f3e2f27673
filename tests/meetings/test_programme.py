"""A person's bilateral meetings on My programme, in its calendar feed and in the reminder before the
conference (registration.programme)."""

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import dateformat
from icalendar import Calendar

from meetings import services
from meetings.calendar import meeting_uid
from registration import programme
from registration.notifications import notify
from tests.emails import written
from tests.factories import BookingFactory, ProfileFactory

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


def reminder_of(registration):
    return written(notify(registration, "reminder"))


def test_the_reminder_lists_the_booked_pre_event_and_the_meeting_in_madrid_time(conference, block, ela, marcel):
    # 09:30 in Madrid on the first day; the meetings are at 17:00–18:30 the same day.
    tz = zoneinfo.ZoneInfo("Europe/Madrid")
    BookingFactory(
        registration=ela.registration,
        session__title="Cluster excellence workshop",
        session__room__name="Sala Mediterráneo",
        session__start=dt.datetime.combine(conference.start_date, dt.time(9, 30), tzinfo=tz).astimezone(dt.UTC),
    )
    request = services.send_request(ela, block=block, recipient=marcel)
    meeting = services.accept_request(request, by=marcel, slot_id=block.slots.all()[1].pk)
    day = dateformat.format(conference.start_date, "l j F Y")

    email = reminder_of(ela.registration)

    table = f"Table {meeting.table.number}"
    lines = [
        "- 09:30–10:30 Cluster excellence workshop, Sala Mediterráneo",
        f"- 17:20–17:40 Meeting with Marcel·la Puig (Clúster de l'Automoció), {table}, {block.session.room.name}",
    ]
    assert (
        f"Your programme (times in Europe/Madrid):\n\n{day}\n{lines[0]}\n{lines[1]}, Veles e Vents" in email.body_text
    )
    assert email.body_html.count("<li>") == 2
    assert "<li>17:20–17:40 Meeting with Marcel·la Puig (Clúster de l&#x27;Automoció)" in email.body_html


def test_the_reminder_of_someone_without_meetings_has_no_meeting_lines(conference, block, ela, marcel):
    services.accept_request(services.send_request(ela, block=block, recipient=marcel), by=marcel, slot_id=None)
    pre_event = BookingFactory(registration__conference=conference, session__title="Cluster excellence workshop")

    for registration in (pre_event.registration, ela.registration):
        text = reminder_of(registration).body_text
        assert "Meeting with" not in text
        assert "Table" not in text
    assert "Cluster excellence workshop" in reminder_of(pre_event.registration).body_text
    # A meeting with no time yet is not on the day's list.
    assert "Your programme" not in reminder_of(ela.registration).body_text


@pytest.mark.parametrize("count", [1, 4])
def test_writing_a_reminder_costs_the_same_queries_for_1_or_4_meetings(
    conference, block, ela, count, django_assert_num_queries
):
    for slot in block.slots.all()[:count]:
        other = ProfileFactory(registration__conference=conference)
        services.accept_request(services.send_request(ela, block=block, recipient=other), by=other, slot_id=slot.pk)
    email = notify(ela.registration, "reminder")

    # The registration, its bookings, the profile and its meetings.
    with django_assert_num_queries(4):
        text = written(email).body_text

    assert text.count("\n- ") == text.count("Meeting with") == count
