"""Bilateral meetings in the browser: two attendees opt in, one finds the other and asks,
the other accepts a time, and both see the table and the time in their schedule; every
meetings page passes axe and reflows at 320 px."""

import datetime as dt
import re

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from meetings import services
from meetings.models import Sector
from outbox.models import OutgoingEmail
from tests.conftest import axe_violations, log_in
from tests.factories import (
    ConferenceFactory,
    MeetingBlockFactory,
    ProfileFactory,
    RegistrationFactory,
    TeamFactory,
    VerifiedUserFactory,
)


@pytest.fixture
def event(transactional_db):
    conference = ConferenceFactory(name="GROW your REGIOn", timezone="Europe/Madrid")
    block = MeetingBlockFactory(conference=conference)
    Sector.objects.create(conference=conference, name="Advanced manufacturing")
    # Tables 1 to 6 are taken at 17:20, so the next meeting then sits at table 7.
    second_slot = block.slots.all()[1]
    for _ in range(6):
        one, other = ProfileFactory.create_batch(2, registration__conference=conference)
        services.accept_request(
            services.send_request(one, block=block, recipient=other), by=other, slot_id=second_slot.pk
        )
    ela = RegistrationFactory(
        conference=conference,
        user=VerifiedUserFactory(email="ela@example.eu"),
        given_name="Elżbieta",
        family_name="Bieńkowska",
    )
    marcel = RegistrationFactory(
        conference=conference,
        user=VerifiedUserFactory(email="marcella@example.es"),
        given_name="Marcel·la",
        family_name="Puig",
        organisation="Clúster de l'Automoció de Catalunya",
        country="ES",
    )
    return conference, block, ela, marcel


def opt_in(page, conference, registration, offer: str) -> None:
    page.goto(f"/{conference.slug}/meetings/")
    page.get_by_role("link", name="Opt in and fill in your profile").click()
    page.get_by_label("What we offer").fill(offer)
    page.get_by_label("Advanced manufacturing").check()
    page.get_by_label("List me in the meetings directory").check()
    page.get_by_role("button", name="Save and take part").click()
    expect(page.get_by_text("Your meetings profile is saved")).to_be_visible()


def test_two_attendees_opt_in_find_each_other_and_meet_at_table_7_at_1720(page, live_server, event):
    conference, _block, ela, marcel = event

    log_in(page, marcel.user, live_server.url)
    opt_in(page, conference, marcel, "Automotive supply chains in Catalonia")

    log_in(page, ela.user, live_server.url)
    opt_in(page, conference, ela, "Metal processing cluster, 80 SMEs")
    page.get_by_role("link", name="Find participants", exact=True).click()
    page.get_by_label("Search").fill("automoció")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Marcel·la Puig").click()
    page.get_by_label("Message").fill("Shall we talk about a joint Interreg project?")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_text("Your request is sent to Marcel·la Puig")).to_be_visible()

    log_in(page, marcel.user, live_server.url)
    page.goto(f"/{conference.slug}/meetings/")
    page.get_by_role("region", name="Requests to you").get_by_role("link", name="Answer").click()
    expect(page.get_by_text("Shall we talk about a joint Interreg project?")).to_be_visible()
    page.get_by_label(re.compile(r"17:20–17:40 \(Europe/Madrid\)")).check()
    page.get_by_role("button", name="Accept the meeting").click()
    expect(page.get_by_text("Meeting agreed.")).to_be_visible()

    for person, other in ((marcel, "Elżbieta Bieńkowska"), (ela, "Marcel·la Puig")):
        log_in(page, person.user, live_server.url)
        page.goto(f"/{conference.slug}/meetings/")
        row = page.get_by_role("region", name="Your meeting timetable").get_by_role("row").filter(has_text=other)
        expect(row).to_contain_text("17:20")
        expect(row).to_contain_text("(Europe/Madrid)")
        expect(row.get_by_role("cell").nth(1)).to_have_text(re.compile(r"^7 · "))

    # Both calendars get the same entry: 17:20 Madrid time, table 7.
    for address in ("ela@example.eu", "marcella@example.es"):
        email = OutgoingEmail.objects.get(kind="meetings_request_accepted", to=address)
        event_ = next(iter(Calendar.from_ical(email.attachments[0]["content"]).walk("VEVENT")))
        assert event_["dtstart"].dt.astimezone(conference.tz).time() == dt.time(17, 20)
        assert "Table 7" in str(event_["location"])


def test_every_meetings_page_passes_axe_and_reflows_at_320_px(axe_page, live_server, event):
    conference, block, ela, marcel = event
    services.save_profile(ela, offer="Metal", seek="", languages="", sectors=[], themes=[])
    marcel_profile = services.save_profile(marcel, offer="Cars", seek="", languages="", sectors=[], themes=[])
    meeting_request = services.send_request(marcel_profile, block=block, recipient=ela.meeting_profile, message="Hola")
    log_in(axe_page, ela.user, live_server.url)
    axe_page.set_viewport_size({"width": 320, "height": 800})
    base = f"/{conference.slug}/meetings"
    for path in (
        f"{base}/",
        f"{base}/profile/",
        f"{base}/people/",
        f"{base}/people/{marcel_profile.pk}/",
        f"{base}/requests/{meeting_request.pk}/",
        f"{base}/requests/{meeting_request.pk}/cancel/",
        f"{base}/profile/opt-out/",
    ):
        axe_page.goto(path)
        assert axe_violations(axe_page) == [], path
        assert axe_page.evaluate("document.documentElement.scrollWidth") <= 320, path

    # The organisers' pages, with a meeting on the plan.
    services.accept_request(meeting_request, by=ela.meeting_profile, slot_id=block.slots.first().pk)
    waiting = ProfileFactory(registration__conference=conference, status="pending")  # one waiting for approval
    organiser = VerifiedUserFactory(is_staff=True)
    TeamFactory(conferences=[conference], members=[organiser], can_run_meetings=True)
    log_in(axe_page, organiser, live_server.url)
    for path in (f"{base}/staff/", f"{base}/staff/profiles/", f"{base}/staff/blocks/{block.pk}/tables/"):
        axe_page.goto(path)
        expect(axe_page.get_by_role("heading", level=1)).to_be_visible()
        assert axe_violations(axe_page) == [], path
        assert axe_page.evaluate("document.documentElement.scrollWidth") <= 320, path

    # A reason with an approval is sent back with its error; then the profile is not approved, with it.
    axe_page.goto(f"{base}/staff/profiles/")
    reason = axe_page.get_by_label("Reason if you do not approve it (optional)")
    reason.fill("Please say what your cluster offers to SMEs.")
    axe_page.get_by_role("button", name=f"Approve {waiting.registration.full_name}", exact=True).click()
    expect(axe_page.locator(".error-summary")).to_contain_text("A reason goes with not approving a profile")
    expect(reason).to_have_attribute("aria-invalid", "true")
    assert axe_violations(axe_page) == []
    axe_page.get_by_role("button", name=f"Do not approve {waiting.registration.full_name}").click()
    expect(axe_page.locator(".messages")).to_contain_text("is not approved")

    # Its owner reads the reason on their meetings page.
    log_in(axe_page, waiting.registration.user, live_server.url)
    axe_page.goto(f"{base}/")
    expect(axe_page.locator("#profile-status")).to_contain_text("Please say what your cluster offers to SMEs.")
    assert axe_violations(axe_page) == []
    assert axe_page.evaluate("document.documentElement.scrollWidth") <= 320
