"""At the door: the staff member's phone reads the code shown on the attendee's ticket page,
gets green, then "already checked in"; scans made offline wait on the phone and go when
the connection is back. The pages pass axe."""

import re

import pytest
from playwright.sync_api import expect

from checkin.models import BadgeRun, BadgeRunPart, CheckIn, OfflineScan
from checkin.services import ensure_ticket
from registration.models import Registration
from tests.conftest import axe_violations, log_in
from tests.factories import RegistrationFactory, TeamFactory, VerifiedUserFactory


@pytest.fixture
def door_staff(demo):
    user = VerifiedUserFactory(email="door@example.org")
    TeamFactory(conferences=[demo.conference], members=[user], can_check_in=True)
    return user


def ticket_code(page, live_server, user, conference) -> str:
    log_in(page, user, live_server.url)
    page.goto(f"/{conference.slug}/my-registration/")
    page.get_by_role("link", name="Show or print your ticket (QR code)").click()
    expect(page.get_by_role("img", name="QR code of your ticket")).to_be_visible()
    return page.locator("#ticket-token").inner_text()


def test_staff_phone_checks_in_the_ticket_shown_then_says_already(page, phone_page, live_server, demo, door_staff):
    conference = demo.conference
    token = ticket_code(page, live_server, demo.confirmed, conference)
    log_in(phone_page, door_staff, live_server.url)
    phone_page.goto(f"/{conference.slug}/checkin/")
    phone_page.get_by_role("link", name=re.compile(r"^Conference day")).first.click()

    phone_page.get_by_label("Ticket code").fill(token)
    phone_page.get_by_role("button", name="Check in", exact=True).click()

    result = phone_page.locator("#outcome")
    expect(result).to_have_class(re.compile("outcome-ok"))
    expect(result).to_contain_text("Checked in: Elźbieta Bieńkowska")
    phone_page.get_by_label("Ticket code").fill(token)
    phone_page.get_by_role("button", name="Check in", exact=True).click()
    expect(result).to_have_class(re.compile("outcome-refused"))
    expect(result).to_contain_text("Already checked in at")
    expect(result).to_contain_text("door@example.org")
    assert CheckIn.objects.filter(registration__user=demo.confirmed).count() == 1


def test_scans_made_offline_are_sent_once_when_back_online(phone_page, live_server, demo, door_staff):
    conference = demo.conference
    registration = Registration.objects.get(user=demo.confirmed)
    token = ensure_ticket(registration).token
    log_in(phone_page, door_staff, live_server.url)
    phone_page.goto(f"/{conference.slug}/checkin/day-{conference.start_date.isoformat()}/")
    expect(phone_page.locator("#offline-banner")).to_be_hidden()

    phone_page.context.set_offline(True)
    phone_page.get_by_label("Ticket code").fill(token)
    phone_page.get_by_role("button", name="Check in", exact=True).click()
    phone_page.get_by_label("Ticket code").fill("forged-code")
    phone_page.get_by_role("button", name="Check in", exact=True).click()

    expect(phone_page.locator("#offline-banner")).to_be_visible()
    expect(phone_page.locator("#offline-banner")).to_contain_text("Scans waiting to be sent: 2")
    expect(phone_page.locator("#outcome")).to_contain_text("Saved on this phone")
    assert not CheckIn.objects.exists()

    phone_page.context.set_offline(False)
    phone_page.evaluate("window.dispatchEvent(new Event('online'))")

    expect(phone_page.locator("#offline-banner")).to_be_hidden()
    expect(phone_page.locator("#outcome")).to_contain_text("Not registered")
    assert CheckIn.objects.get().registration == registration
    assert OfflineScan.objects.count() == 2
    # The queue is empty: a reload sends nothing again.
    phone_page.reload()
    expect(phone_page.locator("#offline-banner")).to_be_hidden()
    assert OfflineScan.objects.count() == 2


@pytest.mark.parametrize("where", ["doors", "desk", "session_desk", "badges", "badge_run", "ticket"])
def test_check_in_pages_have_no_wcag_violations(axe_page, live_server, demo, door_staff, where):
    conference = demo.conference
    RegistrationFactory(conference=conference, user=VerifiedUserFactory(), given_name="Σταύρος", photo_opt_out=True)
    day = f"day-{conference.start_date.isoformat()}"
    log_in(axe_page, demo.confirmed if where == "ticket" else door_staff, live_server.url)
    if where == "doors":
        axe_page.goto(f"/{conference.slug}/checkin/")
    elif where == "desk":
        axe_page.goto(f"/{conference.slug}/checkin/{day}/?q=Σταύρος")
        axe_page.get_by_role("button", name=re.compile("^Check in Σταύρος")).click()
        expect(axe_page.locator("#outcome")).to_be_visible()
    elif where == "session_desk":
        axe_page.goto(f"/{conference.slug}/checkin/session-pre-interreg/")
    elif where == "badges":
        axe_page.goto(f"/{conference.slug}/checkin/badges/")
    elif where == "badge_run":
        run = BadgeRun.objects.create(conference=conference, layout="a4", registration_ids=[1, 2, 3], part_size=2)
        BadgeRunPart.objects.create(run=run, index=0, content=b"%PDF-1.4")
        axe_page.goto(f"/{conference.slug}/checkin/badges/{run.uuid}/")
    else:
        axe_page.goto(f"/{conference.slug}/my-registration/ticket/")

    found = {}
    for width in (1280, 320):
        axe_page.set_viewport_size({"width": width, "height": 800})
        found[width] = axe_violations(axe_page)
        # Reflow: nothing wider than the screen.
        assert axe_page.evaluate("document.documentElement.scrollWidth") <= width
    assert found == {1280: [], 320: []}
