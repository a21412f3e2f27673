import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from checkin import services
from checkin.exports import CHECK_INS, check_ins_cell
from checkin.selectors import Door
from registration.exports import Column, register_column
from tests.factories import BookingFactory, RegistrationFactory, SessionFactory, StaffFactory

pytestmark = pytest.mark.django_db


def attendee_rows(client, conference) -> list[dict[str, str]]:
    response = client.get(reverse("registration:attendees_csv", args=[conference.slug]))
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    header, *rows = csv.reader(io.StringIO(content, newline=""))
    assert header[-1] == "Checked in", "the check-in column comes after the list's own"
    return [dict(zip(header, row, strict=True)) for row in rows]


@pytest.fixture
def exporter(client):
    user = StaffFactory(can_export=True)
    client.force_login(user)
    return user


def test_the_attendee_list_says_which_days_and_pre_events_each_person_was_let_in(
    client, conference, door_staff, exporter
):
    first_day, second_day = conference.start_date, conference.start_date + dt.timedelta(days=1)
    eve = conference.start_date - dt.timedelta(days=1)
    start = dt.datetime.combine(eve, dt.time(10), tzinfo=conference.tz)
    pre_event = SessionFactory(
        conference=conference,
        kind="pre_event",
        title="Smart specialisation",
        start=start,
        end=start + dt.timedelta(hours=2),
    )
    present, _absent, undone = (RegistrationFactory(conference=conference, number=n) for n in (1, 2, 3))
    BookingFactory(registration=present, session=pre_event)
    services.check_in(present, door=Door(second_day), actor=door_staff)
    services.check_in(present, door=Door(first_day), actor=door_staff)
    services.check_in(present, door=Door(eve, pre_event), actor=door_staff)
    services.undo_check_in(services.check_in(undone, door=Door(first_day), actor=door_staff), actor=door_staff)

    cells = {row["Registration number"]: row["Checked in"] for row in attendee_rows(client, conference)}

    assert cells == {
        "1": f"Smart specialisation; {first_day.isoformat()}; {second_day.isoformat()}",
        "2": "",
        "3": "",
    }


def test_a_title_a_spreadsheet_would_evaluate_is_neutralised(client, conference, door_staff, exporter):
    start = dt.datetime.combine(conference.start_date, dt.time(8), tzinfo=conference.tz)
    session = SessionFactory(conference=conference, kind="pre_event", title='=HYPERLINK("x")', start=start)
    registration = RegistrationFactory(conference=conference)
    BookingFactory(registration=registration, session=session)
    services.check_in(registration, door=Door(conference.start_date, session), actor=door_staff)

    assert attendee_rows(client, conference)[0]["Checked in"] == '\'=HYPERLINK("x")'


@pytest.mark.parametrize("count", [1, 30])
def test_the_column_costs_no_query_per_attendee(
    client, conference, door_staff, exporter, django_assert_num_queries, count
):
    for registration in RegistrationFactory.create_batch(count, conference=conference):
        services.check_in(registration, door=Door(conference.start_date), actor=door_staff)

    # user, permissions (2), conference, record, savepoint, the zone, the rows, the zone back,
    # release, record update
    with django_assert_num_queries(10):
        assert len(attendee_rows(client, conference)) == count


def test_a_column_key_is_registered_once():
    register_column(CHECK_INS, value=check_ins_cell)  # the same again: harmless

    with pytest.raises(ValueError, match="registered already"):
        register_column(Column("checked_in_doors", "Another"), value=check_ins_cell)
    with pytest.raises(ValueError, match="attendee list already"):
        register_column(Column("email", "Email"), value=check_ins_cell)
