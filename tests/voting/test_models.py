import pytest
from django.db import IntegrityError
from django.utils import timezone

from tests.factories import SessionFactory
from tests.voting.factories import PollFactory
from voting.models import Answer, Poll, Question, SessionVoting, Upvote, Vote

pytestmark = pytest.mark.django_db


def test_a_poll_state_outside_the_known_ones_is_refused():
    poll = PollFactory()

    with pytest.raises(IntegrityError, match="poll_state_known"):
        Poll.objects.filter(pk=poll.pk).update(state="paused", opened_at=timezone.now())


def test_two_open_polls_in_one_session_are_refused():
    first = PollFactory()
    second = PollFactory(session=first.session)
    Poll.objects.filter(pk=first.pk).update(state=Poll.State.OPEN, opened_at=timezone.now())

    with pytest.raises(IntegrityError, match="one_open_poll_per_session"):
        Poll.objects.filter(pk=second.pk).update(state=Poll.State.OPEN, opened_at=timezone.now())


def test_open_polls_in_two_sessions_are_fine():
    first, second = PollFactory(), PollFactory()

    Poll.objects.filter(pk__in=[first.pk, second.pk]).update(state=Poll.State.OPEN, opened_at=timezone.now())

    assert Poll.objects.filter(state=Poll.State.OPEN).count() == 2


def test_a_poll_is_not_open_without_the_time_it_opened():
    poll = PollFactory()

    with pytest.raises(IntegrityError, match="poll_opened_when_not_draft"):
        Poll.objects.filter(pk=poll.pk).update(state=Poll.State.OPEN)


def test_a_second_vote_of_one_person_in_one_poll_is_refused():
    poll = PollFactory()
    Vote.objects.create(poll=poll, voter_key="k" * 64)

    with pytest.raises(IntegrityError, match="one_vote_per_person_and_poll"):
        Vote.objects.create(poll=poll, voter_key="k" * 64)


def test_an_answer_is_an_option_a_rating_or_a_text_and_only_one_of_them():
    poll = PollFactory()
    vote = Vote.objects.create(poll=poll, voter_key="k" * 64)

    with pytest.raises(IntegrityError, match="answer_is_an_option_a_rating_or_a_text"):
        Answer.objects.create(vote=vote, option=poll.options.first(), text="and a text")


def test_an_empty_answer_is_refused():
    vote = Vote.objects.create(poll=PollFactory(), voter_key="k" * 64)

    with pytest.raises(IntegrityError, match="answer_is_an_option_a_rating_or_a_text"):
        Answer.objects.create(vote=vote)


def test_one_option_twice_in_a_vote_is_refused():
    poll = PollFactory()
    vote = Vote.objects.create(poll=poll, voter_key="k" * 64)
    Answer.objects.create(vote=vote, option=poll.options.first())

    with pytest.raises(IntegrityError, match="option_once_per_vote"):
        Answer.objects.create(vote=vote, option=poll.options.first())


def test_a_rating_beyond_10_is_refused():
    vote = Vote.objects.create(poll=PollFactory(kind=Poll.Kind.RATING), voter_key="k" * 64)

    with pytest.raises(IntegrityError, match="rating_1_to_10"):
        Answer.objects.create(vote=vote, value=11)


def test_a_second_upvote_of_one_person_is_refused():
    question = Question.objects.create(session=SessionFactory(), text="Why?", author_key="a" * 64)
    Upvote.objects.create(question=question, voter_key="k" * 64)

    with pytest.raises(IntegrityError, match="one_upvote_per_person"):
        Upvote.objects.create(question=question, voter_key="k" * 64)


def test_only_approved_questions_are_pinned():
    with pytest.raises(IntegrityError, match="only_approved_questions_are_pinned"):
        Question.objects.create(session=SessionFactory(), text="Why?", author_key="a" * 64, is_pinned=True)


def test_two_sessions_cannot_share_a_join_code_but_may_both_have_none():
    SessionVoting.objects.create(session=SessionFactory(), join_code="")
    SessionVoting.objects.create(session=SessionFactory(), join_code="")
    SessionVoting.objects.create(session=SessionFactory(), join_code="ABC234")

    with pytest.raises(IntegrityError, match="join_code_unique_when_set"):
        SessionVoting.objects.create(session=SessionFactory(), join_code="ABC234")


def test_a_join_code_with_confusable_characters_is_refused():
    with pytest.raises(IntegrityError, match="join_code_letters_and_digits"):
        SessionVoting.objects.create(session=SessionFactory(), join_code="ABC10O")
