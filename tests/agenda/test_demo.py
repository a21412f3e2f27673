import datetime as dt

import pytest

from agenda.demo import upcoming_first_day


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
