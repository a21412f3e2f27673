import pytest

from tests.factories import SessionFactory
from tests.voting.factories import PollFactory, attendee_voter, guest_voter, option_ids
from voting import selectors, services
from voting.models import Poll

pytestmark = pytest.mark.django_db


def vote_as(poll, count: int, option: int, **registration) -> None:
    for _ in range(count):
        services.cast_vote(poll, voter=attendee_voter(poll.session.conference, **registration), options=[option])


def test_results_count_each_option_with_its_share():
    poll = services.open_poll(PollFactory())
    first, second = option_ids(poll)
    vote_as(poll, 3, first)
    vote_as(poll, 1, second)

    results = selectors.results(poll)

    assert results.voters == 4
    assert [(row.label, row.count, row.share, row.width) for row in results.rows] == [
        ("Supporting cross-sectoral collaboration", 3, 75, 100),
        ("Strategic cross-regional collaboration", 1, 25, 33),
    ]


def test_a_ranking_scores_points_first_place_highest():
    poll = services.open_poll(PollFactory(kind=Poll.Kind.RANKING, options=["A", "B", "C"]))
    a, b, c = option_ids(poll)
    conference = poll.session.conference
    services.cast_vote(poll, voter=attendee_voter(conference), options=[a, b, c])
    services.cast_vote(poll, voter=attendee_voter(conference), options=[b, a])

    points = {row.label: row.count for row in selectors.results(poll).rows}

    assert points == {"A": 3 + 2, "B": 2 + 3, "C": 1}


def test_a_rating_has_its_distribution_and_average():
    poll = services.open_poll(PollFactory(kind=Poll.Kind.RATING, scale=5))
    for value in (5, 4, 4):
        services.cast_vote(poll, voter=attendee_voter(poll.session.conference), value=value)

    results = selectors.results(poll)

    assert [row.count for row in results.rows] == [0, 0, 0, 2, 1]
    assert results.average == 4.3


def test_open_answers_are_counted_alike_whatever_their_case_and_spaces():
    poll = services.open_poll(PollFactory(kind=Poll.Kind.OPEN))
    for text in ("Value chains", "value  chains", "Skills"):
        services.cast_vote(poll, voter=attendee_voter(poll.session.conference), text=text)

    rows = selectors.results(poll).rows

    assert [(row.label, row.count) for row in rows] == [("value chains", 2), ("skills", 1)]


def test_groups_of_fewer_than_five_are_merged_into_other():
    poll = services.open_poll(PollFactory())
    first, second = option_ids(poll)
    vote_as(poll, 5, first, country="ES")
    vote_as(poll, 2, second, country="PL")
    vote_as(poll, 3, first, country="FR")

    split = selectors.breakdown(poll, "country", overall=selectors.results(poll))

    assert [(group.label, group.voters, group.cells) for group in split.groups] == [
        ("Spain", 5, [5, 0]),
        ("Other (groups of fewer than 5)", 5, [3, 2]),
    ]


def test_a_small_other_takes_in_the_smallest_group_until_it_has_five():
    poll = services.open_poll(PollFactory())
    first, second = option_ids(poll)
    vote_as(poll, 6, first, country="ES")
    vote_as(poll, 5, second, country="DE")
    vote_as(poll, 1, second, country="MT")

    split = selectors.breakdown(poll, "country", overall=selectors.results(poll))

    assert [(group.label, group.voters) for group in split.groups] == [
        ("Spain", 6),
        ("Other (groups of fewer than 5)", 6),
    ]
    assert all(group.voters >= selectors.SMALLEST_GROUP for group in split.groups)


def test_fewer_than_five_voters_in_all_give_no_breakdown_at_all():
    poll = services.open_poll(PollFactory())
    vote_as(poll, 4, option_ids(poll)[0], country="ES")

    split = selectors.breakdown(poll, "organisation_type", overall=selectors.results(poll))

    assert split.groups == []


def test_guests_count_as_not_given_in_the_breakdown():
    poll = services.open_poll(PollFactory())
    for index in range(5):
        services.cast_vote(poll, voter=guest_voter(poll.session, f"guest-{index}"), options=option_ids(poll)[:1])

    split = selectors.breakdown(poll, "organisation_type", overall=selectors.results(poll))

    assert [(group.label, group.voters) for group in split.groups] == [("Not given", 5)]


def test_open_answers_are_not_broken_down():
    poll = services.open_poll(PollFactory(kind=Poll.Kind.OPEN))
    for _ in range(6):
        services.cast_vote(poll, voter=attendee_voter(poll.session.conference), text="skills")

    assert selectors.breakdown(poll, "country", overall=selectors.results(poll)).groups == []


@pytest.mark.parametrize("voters", [1, 12])
def test_results_take_the_same_queries_for_few_and_many_votes(django_assert_num_queries, voters):
    poll = services.open_poll(PollFactory(options=["A", "B", "C", "D"]))
    vote_as(poll, voters, option_ids(poll)[0])
    poll = Poll.objects.get(pk=poll.pk)

    with django_assert_num_queries(2):
        overall = selectors.results(poll)
    with django_assert_num_queries(2):
        selectors.breakdown(poll, "country", overall=overall)


def test_live_sessions_are_those_with_an_open_poll_or_taking_questions():
    poll = services.open_poll(PollFactory())
    conference = poll.session.conference
    asking = SessionFactory(conference=conference)
    services.set_questions(asking, enabled=True)
    SessionFactory(conference=conference)

    sessions = selectors.live_sessions(conference)

    assert [(session, session.open_poll) for session in sessions] == [(poll.session, poll), (asking, None)]
