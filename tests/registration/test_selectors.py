import datetime as dt

from agenda.models import Session
from registration import selectors

TWO = dt.datetime(2027, 11, 9, 14, tzinfo=dt.UTC)


def session(pk: int, start_hour: float, hours: float) -> Session:
    start = TWO + dt.timedelta(hours=start_hour - 14)
    return Session(pk=pk, title=f"S{pk}", start=start, end=start + dt.timedelta(hours=hours))


def test_sessions_that_all_run_at_once_leave_one_choice():
    sessions = [session(pk, 14, 3.5) for pk in range(1, 6)]

    overlaps = selectors.overlapping(sessions)

    assert {pk: [other.pk for other in others] for pk, others in overlaps.items()}[3] == [1, 2, 4, 5]
    assert selectors.only_one_possible(overlaps)


def test_sessions_of_which_some_overlap_name_those_they_run_alongside():
    morning, lab, after, touching = session(1, 10, 2), session(2, 11, 2), session(3, 15, 1), session(4, 13, 1)

    overlaps = selectors.overlapping([morning, lab, after, touching])

    assert {pk: [other.pk for other in others] for pk, others in overlaps.items()} == {1: [2], 2: [1], 3: [], 4: []}
    assert not selectors.only_one_possible(overlaps)


def test_one_session_alone_is_no_choice_of_one():
    assert not selectors.only_one_possible(selectors.overlapping([session(1, 14, 1)]))
    assert not selectors.only_one_possible(selectors.overlapping([]))
