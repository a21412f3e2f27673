"""Reading the programme in a real browser, on a phone and on a desktop screen."""

import datetime as dt
import re
import zoneinfo

import pytest
from playwright.sync_api import expect

from agenda.models import Session
from tests.factories import ConferenceFactory, RoomFactory, SessionFactory, SessionSpeakerFactory

MADRID = zoneinfo.ZoneInfo("Europe/Madrid")


@pytest.fixture
def conference(transactional_db):
    conference = ConferenceFactory(
        slug="growyourregion-2017",
        start_date=dt.date(2017, 11, 8),
        end_date=dt.date(2017, 11, 9),
        registration_opens=None,
        registration_closes=None,
    )
    rooms = [RoomFactory(conference=conference, name=name, position=index) for index, name in enumerate("ABC")]
    at = lambda hour: dt.datetime(2017, 11, 8, hour, tzinfo=MADRID)  # noqa: E731
    keynote = SessionFactory(
        conference=conference, title="Opening keynote", kind=Session.Kind.KEYNOTE, room=None, start=at(9), end=at(10)
    )
    SessionSpeakerFactory(session=keynote, speaker__name="Ximo Puig", speaker__conference=conference)
    for room, title, kind in zip(
        rooms,
        ["Cluster policy panel", "Smart specialisation workshop", "Digital clusters workshop"],
        [Session.Kind.PANEL, Session.Kind.WORKSHOP, Session.Kind.WORKSHOP],
        strict=True,
    ):
        SessionFactory(conference=conference, title=title, kind=kind, room=room, start=at(11), end=at(12), capacity=30)
    return conference


def box(page, title: str) -> dict:
    return page.locator("li.session", has_text=title).bounding_box()


def test_phone_reads_the_agenda_as_a_list_filters_it_and_opens_a_session(phone_page, conference):
    page = phone_page
    page.goto(f"/{conference.slug}/agenda/?day=2017-11-08")

    expect(page.get_by_role("heading", level=1)).to_have_text("Programme")
    expect(page.locator(".room-heads")).to_be_hidden()
    panel, workshop = box(page, "Cluster policy panel"), box(page, "Smart specialisation workshop")
    assert workshop["y"] >= panel["y"] + panel["height"]  # one under the other
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sideways
    expect(page.locator("li.session", has_text="Smart specialisation workshop")).to_contain_text("11:00–12:00 CET · B")
    expect(page.locator("li.session", has_text="Smart specialisation workshop")).to_contain_text("30 seats left")

    page.get_by_text("Filter by kind and track").click()
    page.get_by_label("Workshop").check()
    page.get_by_role("button", name="Show").click()

    expect(page.locator("li.session")).to_have_count(2)
    expect(page.get_by_text("Cluster policy panel")).to_have_count(0)
    expect(page.get_by_role("link", name="Download these sessions as a calendar file (.ics)")).to_have_attribute(
        "href", f"/{conference.slug}/agenda.ics?kind=workshop"
    )

    page.get_by_role("link", name="Digital clusters workshop").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Digital clusters workshop")
    expect(page.get_by_role("link", name="Add to calendar")).to_have_attribute(
        "href", re.compile(r"/agenda/[\w-]+\.ics$")
    )
    expect(page.locator("main")).to_contain_text("At the same time")
    expect(page.locator("main")).to_contain_text("Cluster policy panel")


def test_desktop_shows_parallel_sessions_side_by_side_by_room(page, conference):
    page.goto(f"/{conference.slug}/agenda/?day=2017-11-08")

    expect(page.locator(".room-heads")).to_be_visible()
    expect(page.locator(".room-heads li")).to_have_text(["A", "B", "C"])
    panel, workshop, digital = (
        box(page, "Cluster policy panel"),
        box(page, "Smart specialisation workshop"),
        box(page, "Digital clusters workshop"),
    )
    assert panel["y"] == workshop["y"] == digital["y"]
    assert panel["x"] < workshop["x"] < digital["x"]
    heads = page.locator(".room-heads li")
    assert abs(heads.nth(1).bounding_box()["x"] - workshop["x"]) < 2  # under its room's heading
    keynote = box(page, "Opening keynote")
    assert keynote["width"] >= digital["x"] + digital["width"] - panel["x"] - 1  # spans every room

    page.get_by_role("link", name="Thursday").click()
    expect(page.get_by_role("heading", level=2, name=re.compile("Thursday"))).to_be_visible()
    expect(page.locator("main")).to_contain_text("Nothing is planned on this day yet.")
