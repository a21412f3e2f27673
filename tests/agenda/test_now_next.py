"""Now and next: while the conference runs the agenda opens on today, with what is on now
and what comes next at the top, in the conference's time zone."""

import datetime as dt

import pytest
from django.utils import timezone

from agenda import services
from tests.agenda.conftest import build_programme, local, main, text
from tests.factories import ConferenceFactory, SessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def day_two(conference):
    return {
        "opening": SessionFactory(
            conference=conference,
            code="opening",
            title="Opening",
            start=local(conference, 1, 9),
            end=local(conference, 1, 10),
        ),
        "panel": SessionFactory(
            conference=conference,
            code="panel",
            title="Panel",
            start=local(conference, 1, 10),
            end=local(conference, 1, 11),
        ),
        "workshop": SessionFactory(
            conference=conference,
            code="workshop",
            title="Workshop",
            start=local(conference, 1, 10),
            end=local(conference, 1, 12),
        ),
        "lunch": SessionFactory(
            conference=conference,
            code="lunch",
            title="Lunch",
            start=local(conference, 1, 13),
            end=local(conference, 1, 14),
        ),
        "first-day": SessionFactory(
            conference=conference,
            code="first-day",
            title="First day",
            start=local(conference, 0, 9),
            end=local(conference, 0, 10),
        ),
    }


def freeze(monkeypatch, moment: dt.datetime) -> None:
    monkeypatch.setattr(timezone, "now", lambda: moment)


def now_next(response) -> str:
    page = text(response)
    return page[page.index("Today") : page.index("Programme")] if "On now" in page or "Next" in page else ""


def test_during_the_conference_the_agenda_opens_on_today_with_now_and_next(client, conference, day_two, monkeypatch):
    freeze(monkeypatch, local(conference, 1, 9, 30))

    response = client.get(f"/{conference.slug}/agenda/")

    box = now_next(response)
    assert "On now Opening 09:00 – 10:00 CET" in box
    assert "Next Panel 10:00 – 11:00 CET" in box
    assert "Workshop 10:00 – 12:00 CET" in box
    assert "Lunch" not in box
    assert "Thursday 9 November 2017" in text(response)
    assert "First day" not in text(response)


def test_now_and_next_follow_the_clock_not_the_cache(client, conference, day_two, monkeypatch):
    freeze(monkeypatch, local(conference, 1, 9, 30))
    client.get(f"/{conference.slug}/agenda/")
    freeze(monkeypatch, local(conference, 1, 11, 30))

    box = now_next(client.get(f"/{conference.slug}/agenda/"))

    assert "On now Workshop" in box
    assert "Next Lunch" in box
    assert "Opening" not in box
    assert "Panel" not in box


def test_a_cancelled_session_is_neither_now_nor_next(client, conference, day_two, monkeypatch):
    day_two["opening"].status = "cancelled"
    services.save_session(day_two["opening"])
    freeze(monkeypatch, local(conference, 1, 9, 30))

    box = now_next(client.get(f"/{conference.slug}/agenda/"))

    assert "On now" not in box
    assert "Next Panel" in box


def test_another_day_or_before_the_conference_has_no_now_and_next(client, conference, day_two, monkeypatch):
    freeze(monkeypatch, local(conference, 1, 9, 30))
    assert "On now" not in text(client.get(f"/{conference.slug}/agenda/?day={conference.start_date}"))

    freeze(monkeypatch, local(conference, -10, 9))
    response = client.get(f"/{conference.slug}/agenda/")
    assert "On now" not in text(response)
    assert "Next" not in main(response)


def test_now_and_next_cost_no_query_once_cached(client, conference, monkeypatch, django_assert_num_queries):
    freeze(monkeypatch, local(conference, 0, 8, 30))
    larger = ConferenceFactory(
        start_date=conference.start_date,
        end_date=conference.end_date,
        registration_opens=conference.registration_opens,
        registration_closes=conference.registration_closes,
    )
    build_programme(conference, 2)
    build_programme(larger, 40)
    for each in (conference, larger):
        url = f"/{each.slug}/agenda/"
        client.get(url)
        with django_assert_num_queries(0):  # kept whole until what is on now or next changes
            assert "Next" in text(client.get(url))
