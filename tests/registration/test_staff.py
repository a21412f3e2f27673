import datetime as dt
import re
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import dateformat

from registration.models import Booking, ExportRecord, Registration
from tests.factories import (
    BookingFactory,
    ConferenceFactory,
    OrganiserFactory,
    RegistrationFactory,
    RoomFactory,
    SessionFactory,
    StaffFactory,
    TeamFactory,
    UserFactory,
    VerifiedUserFactory,
)

pytestmark = pytest.mark.django_db

UTC = dt.UTC


@pytest.fixture
def conference():
    return ConferenceFactory(slug="valencia", name="Grow your Region 2026", capacity=10, timezone="Europe/Madrid")


def dashboard_url(conference) -> str:
    return reverse("registration:staff_dashboard", args=[conference.slug])


def section(content: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}".*?</section>', content, re.S)
    assert match, f"No section #{section_id}"
    return match.group(0)


def table_rows(html: str) -> list[list[str]]:
    """Each body row of the tables in html as its cells' text."""
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([re.sub(r"<[^>]+>", "", cell).strip() for cell in cells])
    return rows


def test_dashboard_shows_places_and_registrations_by_status(client, conference):
    RegistrationFactory.create_batch(3, conference=conference)
    RegistrationFactory(conference=conference, status=Registration.Status.WAITLISTED)
    RegistrationFactory(conference=conference, status=Registration.Status.CANCELLED)
    RegistrationFactory(status=Registration.Status.CONFIRMED)  # another conference
    client.force_login(StaffFactory())

    content = client.get(dashboard_url(conference)).content.decode()

    assert "<h1>Who is coming to Grow your Region 2026</h1>" in content
    assert table_rows(section(content, "places")) == [["Places", "10"], ["Confirmed", "3"], ["Places left", "7"]]
    statuses = section(content, "statuses")
    assert "5 registrations in all" in statuses
    assert table_rows(statuses)[1:] == [
        ["Pending approval", "0"],
        ["Confirmed", "3"],
        ["On the waiting list", "1"],
        ["Cancelled", "1"],
        ["Rejected", "0"],
    ]
    assert '<rect class="bar-fill" width="100" height="10"/>' in statuses
    assert '<rect class="bar-fill" width="33" height="10"/>' in statuses


def test_dashboard_states_the_time_of_its_figures_in_the_conference_zone(client, conference):
    client.force_login(StaffFactory())
    madrid = zoneinfo.ZoneInfo("Europe/Madrid")

    before = dt.datetime.now(madrid)
    content = client.get(dashboard_url(conference)).content.decode()
    after = dt.datetime.now(madrid)

    (lead,) = re.findall(r'<p class="lead">(.*?)</p>', content)
    # The request may cross a minute: either wall time is right, UTC (an hour off in December) never.
    assert lead in {
        f"Figures as of {dateformat.format(moment, 'j F Y, H:i')} (Europe/Madrid)." for moment in (before, after)
    }


def test_dashboard_shows_seats_taken_left_and_waiting_per_pre_event(client, conference):
    small = SessionFactory(conference=conference, kind="pre_event", title="Smart specialisation", capacity=2)
    roomy = SessionFactory(
        conference=conference,
        kind="workshop",
        title="Bilateral meetings training",
        capacity=None,
        room=RoomFactory(conference=conference, capacity=30),
        start=small.end,
    )
    SessionFactory(conference=conference, kind="plenary", title="Opening")
    BookingFactory.create_batch(2, registration__conference=conference, session=small)
    BookingFactory.create_batch(3, registration__conference=conference, session=small, status=Booking.Status.WAITLISTED)
    BookingFactory(registration__conference=conference, session=roomy)
    client.force_login(StaffFactory())

    content = client.get(dashboard_url(conference)).content.decode()

    assert table_rows(section(content, "pre-events"))[1:] == [
        ["Smart specialisation", "2", "2", "0", "3"],
        ["Bilateral meetings training", "30", "1", "29", "0"],
    ]
    assert "Opening" not in section(content, "pre-events")
    assert table_rows(section(content, "waiting-lists"))[1:] == [
        ["The conference", "0"],
        ["Smart specialisation", "3"],
        ["Bilateral meetings training", "0"],
    ]


def test_dashboard_counts_confirmed_attendees_by_country_and_organisation_type(client, conference):
    RegistrationFactory.create_batch(3, conference=conference, country="PL")
    RegistrationFactory.create_batch(2, conference=conference, country="ES", organisation_type="sme")
    RegistrationFactory(conference=conference, country="RO", organisation_type="research")
    RegistrationFactory(conference=conference, country="IT", status=Registration.Status.WAITLISTED)
    client.force_login(StaffFactory())

    content = client.get(dashboard_url(conference)).content.decode()

    countries = section(content, "countries")
    assert "From 3 countries" in countries
    assert table_rows(countries)[1:] == [["Poland", "3"], ["Spain", "2"], ["Romania", "1"]]
    types = dict(row for row in table_rows(section(content, "organisation-types"))[1:])
    assert types["Cluster organisation"] == "3"
    assert types["SME"] == "2"
    assert types["Research or university"] == "1"
    assert types["Public authority"] == "0"


def test_dashboard_charts_registrations_per_day_in_the_conference_zone(client, conference):
    # 23:30 UTC on 1 March is already 2 March in Madrid.
    RegistrationFactory(conference=conference, created_at=dt.datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    RegistrationFactory.create_batch(3, conference=conference, created_at=dt.datetime(2026, 3, 4, 10, tzinfo=UTC))
    client.force_login(StaffFactory())

    over_time = section(client.get(dashboard_url(conference)).content.decode(), "over-time")

    assert table_rows(over_time)[1:] == [
        ["2 March 2026", "1", "1"],
        ["3 March 2026", "0", "1"],
        ["4 March 2026", "3", "4"],
    ]
    assert 'viewBox="0 0 140 100"' in over_time  # two weeks' columns, the three days at the left
    assert axis(over_time) == ["2 March – 4 March"]
    first_day = '<rect class="bar-fill" x="1" y="67" width="8" height="33"><title>2 March 2026: 1</title></rect>'
    assert first_day in over_time
    assert '<rect class="bar-fill" x="21" y="0" width="8" height="100">' in over_time
    assert "from 2 March 2026 to 4 March 2026; the busiest day was 4 March 2026 with 3." in over_time


def axis(html: str) -> list[str]:
    """The labels under the day chart."""
    caption = re.search(r'<figcaption class="axis"[^>]*>(.*?)</figcaption>', html).group(1)
    return re.findall(r"<span>(.*?)</span>", caption)


def test_dashboard_charts_one_day_as_one_bar_of_a_days_width_and_one_label(client, conference):
    RegistrationFactory.create_batch(3, conference=conference, created_at=dt.datetime(2026, 12, 5, 10, tzinfo=UTC))
    client.force_login(StaffFactory())

    over_time = section(client.get(dashboard_url(conference)).content.decode(), "over-time")

    chart = re.search(r'<svg class="day-chart" viewBox="0 0 (\d+) 100".*?</svg>', over_time, re.S)
    bars = re.findall(r'<rect class="bar-fill" x="(\d+)" y="0" width="(\d+)"', chart.group(0))
    assert bars == [("1", "8")]
    assert int(chart.group(1)) == 140  # the bar takes 8 of 140: a day among two weeks, not the page
    assert axis(over_time) == ["5 December"]
    assert "3 new registrations on 5 December 2026, the first day with any." in chart.group(0)
    assert "5 December 2026 to 5 December 2026" not in over_time


def test_dashboard_charts_many_days_across_the_page_named_at_both_ends(client, conference):
    for offset in range(20):
        RegistrationFactory(conference=conference, created_at=dt.datetime(2026, 11, 1 + offset, 10, tzinfo=UTC))
    client.force_login(StaffFactory())

    over_time = section(client.get(dashboard_url(conference)).content.decode(), "over-time")

    assert 'viewBox="0 0 200 100"' in over_time
    assert axis(over_time) == ["1 November", "20 November"]


def test_dashboard_of_a_conference_without_registrations_says_so(client, conference):
    client.force_login(StaffFactory())

    content = client.get(dashboard_url(conference)).content.decode()

    assert "No registrations yet." in content
    assert "No confirmed attendees yet." in content
    assert "This conference has no sessions that need sign-up." in content


def test_dashboard_has_no_inline_style_or_script(client, conference):
    SessionFactory(conference=conference, kind="pre_event")
    RegistrationFactory(conference=conference)
    client.force_login(StaffFactory(can_export=True))

    content = client.get(dashboard_url(conference)).content.decode()

    assert "style=" not in content
    assert "<script" not in content
    assert re.search(r"\son[a-z]+=", content) is None
    assert content.count("<h1>") == 1


def test_dashboard_keeps_svg_numbers_unlocalised_in_german(client, conference):
    RegistrationFactory.create_batch(2, conference=conference)
    RegistrationFactory(conference=conference, status=Registration.Status.WAITLISTED)
    client.force_login(StaffFactory())

    content = client.get(dashboard_url(conference), headers={"accept-language": "de"}).content.decode()

    assert re.search(r'width="\d+,\d+"', content) is None
    assert '<rect class="bar-fill" width="50" height="10"/>' in content


@pytest.mark.parametrize("count", [1, 50])
def test_dashboard_takes_the_same_queries_for_1_and_50_attendees(client, conference, django_assert_num_queries, count):
    pre_events = SessionFactory.create_batch(2, conference=conference, kind="pre_event")
    for index, registration in enumerate(RegistrationFactory.create_batch(count, conference=conference)):
        BookingFactory(registration=registration, session=pre_events[index % 2])
    client.force_login(StaffFactory(can_export=True))

    # user, conference, may see, may export, by status, pre-events, countries, types, days,
    # the pre-event choices of the export form, whether the header links the admin, the
    # check-in figures (4), the closed polls (1; their answers, when there are some:
    # tests/voting/test_dashboard.py) and whether the conference offers meetings (for its
    # navigation; then kept a minute: agenda.navigation)
    with django_assert_num_queries(17):
        response = client.get(dashboard_url(conference))

    assert f"{count} registration" in section(response.content.decode(), "statuses")


def test_dashboard_offers_the_lists_to_those_who_may_export(client, conference):
    SessionFactory(conference=conference, kind="pre_event", code="smart", title="Smart specialisation")
    client.force_login(StaffFactory(can_export=True))

    content = client.get(dashboard_url(conference)).content.decode()

    lists = section(content, "lists")
    assert 'action="/valencia/staff/attendees.csv"' in lists
    assert 'action="/valencia/staff/check-in.csv"' in lists
    assert 'formaction="/valencia/staff/sessions/smart.csv"' in lists
    assert "Door list: Smart specialisation" in lists
    assert '<option value="smart">Smart specialisation</option>' in lists
    assert "<legend>Leave out:</legend>" in lists
    # The two forms on the page do not share field ids.
    assert lists.count('id="id_format_0"') == 1
    assert lists.count('id="lists_format_0"') == 1


def test_dashboard_for_staff_without_the_export_permission_shows_figures_only(client, conference):
    RegistrationFactory(conference=conference, family_name="Bieńkowska")
    client.force_login(StaffFactory())

    content = client.get(dashboard_url(conference)).content.decode()

    assert "Lists with attendees’ details need the permission to export attendee lists." in content
    assert "attendees.csv" not in content
    assert "Bieńkowska" not in content


def test_dashboard_is_open_to_a_non_staff_user_with_the_export_permission(client, conference):
    client.force_login(StaffFactory(is_staff=False, can_export=True))

    response = client.get(dashboard_url(conference))

    assert response.status_code == 200
    assert "attendees.csv" in response.content.decode()


def test_dashboard_sends_anonymous_visitors_to_log_in(client, conference):
    response = client.get(dashboard_url(conference))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next=/valencia/staff/"


def test_dashboard_is_forbidden_to_attendees(client, conference):
    RegistrationFactory(conference=conference, user=UserFactory(email="attendee@example.eu"))
    client.force_login(UserFactory(email="attendee@example.eu"))

    response = client.get(dashboard_url(conference))

    assert response.status_code == 403
    assert "You are not allowed to see this page" in response.content.decode()


def test_dashboard_of_an_unknown_conference_is_404(client):
    client.force_login(StaffFactory())

    response = client.get("/nowhere/staff/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_dashboard_shows_an_unpublished_conference_to_staff(client):
    draft = ConferenceFactory(slug="draft", is_published=False, name="Draft edition")
    client.force_login(StaffFactory())

    response = client.get(dashboard_url(draft))

    assert "Who is coming to Draft edition" in response.content.decode()


# Teams: per conference and per action -------------------------------------------------
def team_member(conference, **permissions):
    user = VerifiedUserFactory(is_staff=True)
    TeamFactory(conferences=[conference], members=[user], **permissions)
    return user


@pytest.fixture
def other_conference():
    return ConferenceFactory(slug="other", name="Another conference", is_published=False)


def staff_urls(conference) -> list[str]:
    session = SessionFactory(conference=conference, kind="pre_event", code=f"pre-{conference.slug}")
    return [
        reverse("registration:staff_dashboard", args=[conference.slug]),
        reverse("registration:attendees_csv", args=[conference.slug]),
        reverse("registration:check_in_csv", args=[conference.slug]),
        reverse("registration:session_csv", args=[conference.slug, session.code]),
    ]


def test_a_member_of_one_conference_gets_nothing_of_another(client, conference, other_conference):
    RegistrationFactory(conference=other_conference, family_name="Secret")
    client.force_login(
        team_member(conference, can_view_registrations=True, can_change_registrations=True, can_export_attendees=True)
    )

    responses = [client.get(url) for url in staff_urls(other_conference)]

    assert [response.status_code for response in responses] == [403, 403, 403, 403]
    assert not any("Secret" in response.content.decode() for response in responses)
    assert not ExportRecord.objects.exists()


@pytest.mark.parametrize(
    ("permissions", "expected"),
    [
        ({"can_view_registrations": True}, [200, 403, 403, 403]),
        ({"can_export_attendees": True}, [200, 200, 200, 200]),
        ({"can_edit_programme": True, "can_change_registrations": True, "can_check_in": True}, [403, 403, 403, 403]),
    ],
)
def test_each_staff_page_needs_its_team_permission(client, conference, permissions, expected):
    client.force_login(team_member(conference, **permissions))

    assert [client.get(url).status_code for url in staff_urls(conference)] == expected


def test_the_dashboard_offers_the_lists_only_to_exporters(client, conference):
    client.force_login(team_member(conference, can_view_registrations=True))
    seeing = client.get(dashboard_url(conference)).content.decode()
    client.force_login(team_member(conference, can_export_attendees=True))
    exporting = client.get(dashboard_url(conference)).content.decode()

    assert "Download the attendee list" not in seeing
    assert "Download the attendee list" in exporting


def test_a_superuser_may_everything_without_a_team(client, conference):
    client.force_login(OrganiserFactory())

    assert [client.get(url).status_code for url in staff_urls(conference)] == [200, 200, 200, 200]


def test_the_header_links_the_admin_only_for_who_can_do_something_there(client, conference):
    link = 'href="/admin/"'
    client.force_login(team_member(conference, can_export_attendees=True))
    member = client.get(reverse("agenda:conference_list")).content.decode()
    client.force_login(UserFactory(is_staff=True))  # staff status left over, in no team
    leftover = client.get(reverse("agenda:conference_list")).content.decode()
    client.force_login(team_member(conference))  # a team that may do nothing
    idle = client.get(reverse("agenda:conference_list")).content.decode()

    assert link in member
    assert link not in leftover
    assert link not in idle
