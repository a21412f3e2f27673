"""Votes under real concurrency: hundreds of voters in the same seconds, each thread with
its own database connection, nothing serialised by the test."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from tests.voting.factories import PollFactory, attendee_voter, option_ids
from voting import selectors, services
from voting.exceptions import PollNotOpen
from voting.models import Answer, Vote

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

VOTERS = 350
# Threads voting at once: below PostgreSQL's connection limit, with room for other test runs.
THREADS = 40


def in_threads(tasks: list, act) -> list:
    """Run `act` on every task from THREADS threads, all released at once; each vote on a fresh connection."""
    start = threading.Barrier(THREADS)

    def run(task):
        try:
            return act(task)
        except Exception as error:  # the test asserts on what each voter got
            return error
        finally:
            connection.close()

    def first(task):
        start.wait()
        return run(task)

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(first if index < THREADS else run, task) for index, task in enumerate(tasks)]
        return [future.result() for future in futures]


def test_350_voters_at_once_are_each_counted_once_with_their_last_choice():
    poll = services.open_poll(PollFactory())
    first, second = option_ids(poll)
    voters = [attendee_voter(poll.session.conference) for _ in range(VOTERS)]
    # Every voter submits twice at the same time (a double tap), and the even ones change their mind.
    tasks = [(voter, first) for voter in voters] + [
        (voter, second if index % 2 == 0 else first) for index, voter in enumerate(voters)
    ]

    outcomes = in_threads(tasks, lambda task: services.cast_vote(poll, voter=task[0], options=[task[1]]))

    assert [outcome for outcome in outcomes if isinstance(outcome, Exception)] == []
    assert Vote.objects.filter(poll=poll).count() == VOTERS
    assert Answer.objects.filter(vote__poll=poll).count() == VOTERS
    results = selectors.results(poll)
    assert results.voters == VOTERS
    assert sum(row.count for row in results.rows) == VOTERS


def test_a_close_in_the_middle_of_the_votes_counts_exactly_those_accepted():
    poll = services.open_poll(PollFactory())
    voters = [attendee_voter(poll.session.conference) for _ in range(VOTERS)]
    choice = option_ids(poll)[:1]
    closer = VOTERS // 2

    def act(index):
        if index == closer:
            return services.close_poll(poll)
        return services.cast_vote(poll, voter=voters[index], options=choice)

    outcomes = in_threads(list(range(VOTERS)), act)

    accepted = [outcome for outcome in outcomes if isinstance(outcome, Vote)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, PollNotOpen)]
    assert len(accepted) + len(refused) == VOTERS - 1
    assert Vote.objects.filter(poll=poll).count() == len(accepted)
    assert set(Vote.objects.filter(poll=poll).values_list("pk", flat=True)) == {vote.pk for vote in accepted}
