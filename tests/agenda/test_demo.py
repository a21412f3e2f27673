import datetime as dt

import pytest

from agenda.demo import seed_growyourregion, upcoming_first_day
from tests.agenda.conftest import text


@pytest.mark.parametrize(
    ("today", "first_day"),
    [
        (dt.date(2026, 1, 5), dt.date(2026, 11, 11)),
        (dt.date(2026, 11, 9), dt.date(2026, 11, 11)),
        (dt.date(2026, 11, 10), dt.date(2027, 11, 10)),
        (dt.date(2026, 11, 21), dt.date(2027, 11, 10)),
        (dt.date(2017, 1, 1), dt.date(2017, 11, 8)),
    ],
)
def test_upcoming_first_day_is_the_second_wednesday_of_november_still_ahead(today, first_day):
    assert upcoming_first_day(today) == first_day
    assert first_day.weekday() == 2


@pytest.mark.django_db
def test_demo_speakers_page_names_each_country_once(client):
    conference = seed_growyourregion(today=dt.date(2026, 12, 5))[0]

    page = text(client.get(f"/{conference.slug}/speakers/"))

    assert "Ministry of Economy, Industry and Competitiveness, Spain" in page
    assert "Spain, Spain" not in page
    for speaker in conference.speakers.exclude(country=""):
        assert not speaker.organisation.endswith(str(speaker.country.name)), speaker.organisation
