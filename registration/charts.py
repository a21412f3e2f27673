"""The geometry of the staff dashboard's charts: bars and day columns as shares of the
largest, in the charts' own units (the SVG scales to the page)."""

import datetime
from dataclasses import dataclass

# Width of one day's column in the chart's own units; the chart scales to the page.
DAY_WIDTH = 10
# The day chart spans at least two weeks of columns: a few days keep a day's width at the
# left instead of one bar stretched across the page.
MIN_DAYS = 14


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    # 0–100: the bar's length as a share of the longest one (at least 1 when count > 0).
    width: int


def width(count: int, top: int) -> int:
    return max(1, round(100 * count / top)) if count and top else 0


def bars(items: list[tuple[str, int]]) -> list[Bar]:
    top = max((count for _label, count in items), default=0)
    return [Bar(str(label), count, width(count, top)) for label, count in items]


@dataclass(frozen=True)
class Day:
    date: datetime.date
    count: int
    total: int
    # The column's place and size in the chart's own units (DAY_WIDTH wide, 100 high).
    x: int
    y: int
    height: int


def days(per_day: list[tuple[datetime.date, int]]) -> list[Day]:
    top = max((count for _day, count in per_day), default=0)
    days, total = [], 0
    for index, (date, count) in enumerate(per_day):
        total += count
        height = width(count, top)
        days.append(Day(date, count, total, index * DAY_WIDTH + 1, 100 - height, height))
    return days


def days_span(days: list[Day]) -> int:
    """The width of the day chart in its own units: a column per day, at least MIN_DAYS."""
    return max(len(days), MIN_DAYS) * DAY_WIDTH
