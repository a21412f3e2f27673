"""My programme in a real browser: star three sessions without an account, log in and find
them on the account, subscribe to the private feed as a calendar app does, and see the
change when the organiser moves one of them."""

import datetime as dt
import urllib.error
import urllib.request
import zoneinfo

import pytest
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import expect

from agenda import services
from agenda.models import Session, Star
from tests.factories import PASSWORD, ConferenceFactory, RoomFactory, SessionFactory, VerifiedUserFactory

MADRID = zoneinfo.ZoneInfo("Europe/Madrid")


@pytest.fixture
def conference(transactional_db):
    conference = ConferenceFactory(
        slug="growyourregion", start_date=dt.date(2030, 11, 8), end_date=dt.date(2030, 11, 9)
    )
    at = lambda hour: dt.datetime(2030, 11, 8, hour, tzinfo=MADRID)  # noqa: E731
    rooms = [RoomFactory(conference=conference, name=name, position=index) for index, name in enumerate("ABC")]
    SessionFactory(conference=conference, code="opening", title="Opening keynote", room=None, start=at(9), end=at(10))
    for room, code, title in zip(
        rooms,
        ["policy", "smart", "digital"],
        ["Cluster policy panel", "Smart specialisation workshop", "Digital clusters workshop"],
        strict=True,
    ):
        SessionFactory(conference=conference, code=code, title=title, room=room, start=at(11), end=at(12))
    return conference


def fetch(url: str, etag: str | None = None) -> tuple[int, bytes, dict]:
    """As a calendar app polls: no cookies, the validator it was given last time."""
    # Only ever the test server's own http:// address.
    request = urllib.request.Request(url, headers={"User-Agent": "Calendar/1.0"})  # noqa: S310  # nosec B310
    if etag:
        request.add_header("If-None-Match", etag)
    try:
        with urllib.request.urlopen(request) as response:  # noqa: S310  # nosec B310
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, b"", dict(error.headers)


def item(page, title: str):
    return page.locator(".my-item", has=page.get_by_role("heading", name=title))


def test_star_three_subscribe_and_see_the_organisers_move(page, conference, live_server):
    user = VerifiedUserFactory(email="ela.bienkowska@example.eu")

    # Without an account: the stars stay in the browser.
    page.goto(f"/{conference.slug}/agenda/")
    for title in ("Opening keynote", "Cluster policy panel", "Digital clusters workshop"):
        button = page.locator("li.session", has_text=title).get_by_role("button", name="Add to my programme")
        button.click()
        expect(page.locator("li.session", has_text=title).locator("button.star")).to_have_attribute(
            "aria-pressed", "true"
        )
    page.reload()
    expect(page.locator('button.star[aria-pressed="true"]')).to_have_count(3)
    assert not Star.objects.exists()

    # Logging in hands them to the account, once.
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="On my programme: remove")).to_have_count(3)
    assert set(Star.objects.filter(user=user).values_list("session__code", flat=True)) == {
        "opening",
        "policy",
        "digital",
    }
    assert page.evaluate("window.localStorage.getItem('stars:growyourregion')") is None

    # My programme, with its clash, and the address to subscribe to.
    page.get_by_role("link", name="My programme").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My programme")
    expect(item(page, "Cluster policy panel")).to_contain_text("Clash: at the same time as Digital clusters workshop")
    webcal = page.get_by_role("link", name="Subscribe in your calendar app").get_attribute("href")
    address = page.get_by_label("Or copy the address into your calendar app").input_value()
    assert webcal == "webcal://" + address.split("://", 1)[1]
    feed = live_server.url + "/" + address.split("/", 3)[3]

    status, body, headers = fetch(feed)
    assert status == 200
    events = {str(event["summary"]): event for event in Calendar.from_ical(body).walk("VEVENT")}
    assert set(events) == {"Opening keynote", "Cluster policy panel", "Digital clusters workshop"}
    assert fetch(feed, headers["ETag"])[0] == 304  # nothing changed

    # The organiser moves the panel to the afternoon.
    panel = Session.objects.get(conference=conference, code="policy")
    panel.start, panel.end = dt.datetime(2030, 11, 8, 15, tzinfo=MADRID), dt.datetime(2030, 11, 8, 16, tzinfo=MADRID)
    services.save_session(panel)

    status, body, _headers = fetch(feed, headers["ETag"])
    assert status == 200
    moved = {str(event["summary"]): event for event in Calendar.from_ical(body).walk("VEVENT")}["Cluster policy panel"]
    assert moved.decoded("dtstart") == dt.datetime(2030, 11, 8, 15, tzinfo=MADRID)
    assert moved["uid"] == events["Cluster policy panel"]["uid"]
    assert moved["sequence"] > events["Cluster policy panel"]["sequence"]
    page.reload()
    expect(item(page, "Cluster policy panel")).not_to_contain_text("Clash")


def test_on_a_phone_during_the_conference_now_and_next_come_first(phone_page, conference, monkeypatch):
    # The live server runs in this process: its clock is the one frozen here.
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2030, 11, 8, 9, 30, tzinfo=MADRID))
    page = phone_page

    page.goto(f"/{conference.slug}/agenda/")

    box = page.locator(".now-next")
    expect(box).to_contain_text("On now Opening keynote 09:00–10:00 CET")
    expect(box.locator("li")).to_have_count(4)  # the keynote, then the three sessions at 11:00
    expect(box).to_contain_text("Next")
    assert box.bounding_box()["y"] < page.locator("h1").bounding_box()["y"]  # before the rest of the day
    assert box.bounding_box()["y"] < 844  # on the first screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
