"""Reading the programme in a real browser, on a phone and on a desktop screen."""

import datetime as dt
import re
import zoneinfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agenda.demo import seed_growyourregion
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


def test_phone_reads_the_agenda_as_a_list_filters_it_and_opens_a_session(phone_page, conference, monkeypatch):
    # A month before the edition, whose workshops still show their seats (none once it is over).
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2017, 10, 2, 10, tzinfo=MADRID))
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


def read_aloud(page, list_name: str) -> list[tuple[str, str, str]]:
    """A day of the programme as the accessibility tree gives it to a screen reader: for
    each item of the list named `list_name`, in order, the time heading it comes under, the
    session's title and the line that says when and where."""
    items: list[list[str]] = []
    slot, when_indent = "", None
    for line in page.get_by_role("list", name=list_name).aria_snapshot().splitlines():
        indent = len(line) - len(line.lstrip())
        node = line.strip().removeprefix("- ").removesuffix(":")
        if node.startswith("'"):  # YAML quoting of a title with a colon in it
            node = node[1:-1].replace("''", "'")
        if when_indent is not None and indent <= when_indent:
            when_indent = None
        if heading := re.fullmatch(r'heading "(.+)" \[level=(\d)\]', node):
            if heading[2] == "3":
                slot = heading[1]
            else:
                items.append([slot, heading[1], ""])
        elif node == "paragraph" and items and not items[-1][2]:
            when_indent = indent  # the first paragraph with parts after a title: time and room
        elif when_indent is not None:
            items[-1][2] += node.split(": ", 1)[1] if ": " in node else ""
    return [tuple(item) for item in items]


def test_screen_reader_reads_each_day_as_a_list_in_time_order_with_time_and_room(page, transactional_db):
    _past, conference = seed_growyourregion(today=timezone.localdate())
    eve = conference.start_date - dt.timedelta(days=1)

    # On a wide screen, where the pre-events stand side by side under their rooms' names.
    page.goto(f"/{conference.slug}/agenda/?day={eve}")
    heading = page.get_by_role("heading", level=2).first.inner_text()
    expect(page.locator(".room-heads")).to_be_visible()
    assert read_aloud(page, heading) == [
        (
            "14:00",
            "Cross-sectoral value chains: connecting specialised ecosystems",
            "14:00–17:30CET · Sala Mediterrània",
        ),
        (
            "14:00",
            "European Strategic Cluster Partnerships: going international together",
            "14:00–17:30CET · Sala Albufera",
        ),
        (
            "14:00",
            "Smart specialisation in practice: the industrial modernisation partnerships",
            "14:00–17:30CET · Sala Túria",
        ),
        ("14:00", "Scaling up SMEs through clusters and intermediaries", "14:00–17:30CET · Sala Malva-rosa"),
        ("14:00", "Interreg Europe: learning from cluster policy across regions", "14:00–17:30CET · Sala del Port"),
    ]

    page.goto(f"/{conference.slug}/agenda/?day={conference.start_date}")
    day = read_aloud(page, page.get_by_role("heading", level=2).first.inner_text())
    expected = Session.objects.filter(conference=conference, start__date=conference.start_date).order_by(
        "start", "room__position"
    )
    assert [title for _slot, title, _when in day] == [session.title for session in expected]
    starts = [slot for slot, _title, _when in day]
    assert starts == sorted(starts)
    for slot, _title, when in day:
        assert re.fullmatch(rf"{slot}–\d\d:\d\dCET · (Auditorium|Sala Mediterrània|All rooms)", when), when


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("width", [390, 320])
def test_phone_shows_the_days_as_one_compact_row_above_the_programme(phone_page, live_server, language, width):
    _past, conference = seed_growyourregion(today=timezone.localdate())
    page = phone_page
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(f"/{conference.slug}/agenda/?day={conference.start_date}")

    days = [link.bounding_box() for link in page.locator(".day-nav a").all()]

    assert len(days) == 3
    assert len({round(day["y"]) for day in days}) == 1  # side by side, in one row
    assert all(day["x"] >= 0 and day["x"] + day["width"] <= width for day in days)
    assert all(day["height"] >= 24 for day in days)  # still easy to tap (WCAG 2.5.8)
    assert page.locator(".day-nav").bounding_box()["height"] < 100  # not ~170 px of one day a row
    # The demo's first day is a Wednesday in November.
    day = conference.start_date.day
    expect(page.locator(".day-nav a[aria-current=date]")).to_have_accessible_name(
        {"en": f"Wed {day} Nov", "de": f"Mi, {day}. Nov"}[language]
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= width


# The colours a card is drawn in (borders, backgrounds, shapes), not those of its text.
CARD_COLOURS = """card => {
    const colours = new Set();
    for (const element of [card, ...card.querySelectorAll('*')]) {
        const style = getComputedStyle(element);
        if (element instanceof SVGElement) {
            if (element instanceof SVGGeometryElement) colours.add(style.fill);
            continue;
        }
        for (const side of ['Top', 'Right', 'Bottom', 'Left']) {
            if (parseFloat(style[`border${side}Width`]) > 0 && style[`border${side}Style`] !== 'none') {
                colours.add(style[`border${side}Color`]);
            }
        }
        if (style.backgroundColor !== 'rgba(0, 0, 0, 0)') colours.add(style.backgroundColor);
    }
    return [...colours].sort();
}"""


def test_the_colours_of_a_session_card_tell_its_track_and_nothing_else(page, transactional_db):
    _past, conference = seed_growyourregion(today=timezone.localdate())
    page.goto(f"/{conference.slug}/agenda/?day={conference.start_date}")

    colours_by_track = {}
    for card in page.locator("li.session:not(.is-cancelled)").all():
        track = card.locator(".track").inner_text() if card.locator(".track").count() else None
        colours_by_track.setdefault(track, set()).add(tuple(card.evaluate(CARD_COLOURS)))

    # Keynotes, a panel and a plenary of one track; breaks, a plenary and a discussion of none.
    assert set(colours_by_track) == {"Policy", "Co-creation", "Partnering", None}
    assert all(len(colours) == 1 for colours in colours_by_track.values()), colours_by_track
    assert len({colours for (colours,) in colours_by_track.values()}) == 4  # one look per track
    legend = page.locator(".legend li")
    expect(legend).to_have_text(["Co-creation", "Partnering", "Policy"])


def test_visitor_switches_the_language_and_stays_on_the_same_day(page, conference):
    page.goto(f"/{conference.slug}/agenda/?day=2017-11-08")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.locator("#language-select").select_option("es")
    with page.expect_navigation():
        page.locator(".language-switcher button").click()

    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page).to_have_url(re.compile(rf"/{conference.slug}/agenda/\?day=2017-11-08$"))
    expect(page.locator("main")).to_contain_text("miércoles")
    # A visitor without cookies still reads it in English: each language is kept apart.
    page.context.clear_cookies()
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")
