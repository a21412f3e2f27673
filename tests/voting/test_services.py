import pytest

from agenda.models import Conference
from registration.models import Registration
from tests.factories import ConferenceFactory, SessionFactory
from tests.voting.factories import PollFactory, attendee_voter, guest_voter, option_ids
from voting import services
from voting.exceptions import AlreadyVoted, InvalidAnswer, InvalidTransition, NotAllowed, PollNotOpen, QuestionsClosed
from voting.models import Answer, Poll, Question, Vote

pytestmark = pytest.mark.django_db


@pytest.fixture
def poll():
    return services.open_poll(PollFactory())


def counted(poll: Poll) -> list[str]:
    return sorted(Answer.objects.filter(vote__poll=poll).values_list("option__label", flat=True))


def test_an_attendee_votes_once_and_the_vote_is_counted(poll):
    voter = attendee_voter(poll.session.conference)

    services.cast_vote(poll, voter=voter, options=option_ids(poll)[:1])

    assert counted(poll) == ["Supporting cross-sectoral collaboration"]


def test_a_second_vote_replaces_the_first_while_the_poll_is_open(poll):
    voter = attendee_voter(poll.session.conference)
    first, second = option_ids(poll)

    services.cast_vote(poll, voter=voter, options=[first])
    services.cast_vote(poll, voter=voter, options=[second])

    assert Vote.objects.filter(poll=poll).count() == 1
    assert counted(poll) == ["Strategic cross-regional collaboration"]


def test_a_first_vote_is_one_insert_for_the_vote_and_one_for_its_answers(poll, django_assert_num_queries):
    voter = attendee_voter(poll.session.conference)
    choice = option_ids(poll)[:1]

    # Savepoint, the poll's share lock, the options checked, the vote, its answers, release.
    with django_assert_num_queries(6) as captured:
        vote = services.cast_vote(poll, voter=voter, options=choice)

    statements = [query["sql"].split()[0] for query in captured.captured_queries]
    assert statements.count("INSERT") == 2
    assert Vote.objects.get(pk=vote.pk).voter_key == voter.poll_key(poll)


def test_a_final_vote_cannot_be_changed():
    poll = services.open_poll(PollFactory(votes_can_change=False))
    voter = attendee_voter(poll.session.conference)
    first, second = option_ids(poll)
    services.cast_vote(poll, voter=voter, options=[first])

    with pytest.raises(AlreadyVoted):
        services.cast_vote(poll, voter=voter, options=[second])

    assert counted(poll) == ["Supporting cross-sectoral collaboration"]


@pytest.mark.parametrize("state", ["draft", "closed", "revealed"])
def test_a_vote_in_a_poll_that_is_not_open_counts_nothing(state):
    poll = PollFactory()
    if state != "draft":
        services.close_poll(services.open_poll(poll))
    if state == "revealed":
        services.reveal_poll(poll)

    with pytest.raises(PollNotOpen):
        services.cast_vote(poll, voter=attendee_voter(poll.session.conference), options=option_ids(poll)[:1])

    assert not Vote.objects.exists()


def test_an_option_of_another_poll_counts_nothing(poll):
    other = PollFactory()

    with pytest.raises(InvalidAnswer, match="this poll"):
        services.cast_vote(poll, voter=attendee_voter(poll.session.conference), options=option_ids(other)[:1])

    assert not Vote.objects.exists()


@pytest.mark.parametrize("crafted", ["none", "zero", "negative", "unknown", "beyond 64 bits", "twice", "both"])
def test_crafted_choices_count_nothing(poll, crafted):
    first, second = option_ids(poll)
    options = {
        "none": [],
        "zero": [0],
        "negative": [-1],
        "unknown": [second + 1000],
        "beyond 64 bits": [2**64],
        "twice": [first, first],
        "both": [first, second],
    }[crafted]

    with pytest.raises(InvalidAnswer):
        services.cast_vote(poll, voter=attendee_voter(poll.session.conference), options=options)

    assert not Vote.objects.exists()


def test_a_rating_or_text_in_a_choice_poll_counts_nothing(poll):
    voter = attendee_voter(poll.session.conference)

    with pytest.raises(InvalidAnswer):
        services.cast_vote(poll, voter=voter, options=option_ids(poll)[:1], text="and this")
    with pytest.raises(InvalidAnswer):
        services.cast_vote(poll, voter=voter, options=option_ids(poll)[:1], value=3)

    assert not Vote.objects.exists()


def test_multiple_choice_allows_up_to_its_limit():
    poll = services.open_poll(PollFactory(kind=Poll.Kind.MULTIPLE, max_choices=2, options=["A", "B", "C"]))
    conference = poll.session.conference

    services.cast_vote(poll, voter=attendee_voter(conference), options=option_ids(poll)[:2])
    with pytest.raises(InvalidAnswer, match="at most 2"):
        services.cast_vote(poll, voter=attendee_voter(conference), options=option_ids(poll))

    assert counted(poll) == ["A", "B"]


def test_a_ranking_keeps_the_voters_order():
    poll = services.open_poll(PollFactory(kind=Poll.Kind.RANKING, options=["A", "B", "C"]))
    a, _b, c = option_ids(poll)

    services.cast_vote(poll, voter=attendee_voter(poll.session.conference), options=[c, a])

    ranks = dict(Answer.objects.values_list("option__label", "rank"))
    assert ranks == {"C": 1, "A": 2}


@pytest.mark.parametrize("value", [None, 0, 6, -1])
def test_a_rating_outside_the_scale_counts_nothing(value):
    poll = services.open_poll(PollFactory(kind=Poll.Kind.RATING, scale=5))

    with pytest.raises(InvalidAnswer, match="from 1 to 5"):
        services.cast_vote(poll, voter=attendee_voter(poll.session.conference), value=value)

    assert not Vote.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Write an answer"),
        ("   ", "Write an answer"),
        ("x" * 61, "60 characters"),
        ("clusters\x00", "invisible"),
        ("clus\u200bters", "invisible"),
        ("\x1b[31mred", "invisible"),
    ],
)
def test_an_empty_oversized_or_hidden_character_answer_counts_nothing(text, message):
    poll = services.open_poll(PollFactory(kind=Poll.Kind.OPEN))

    with pytest.raises(InvalidAnswer, match=message):
        services.cast_vote(poll, voter=attendee_voter(poll.session.conference), text=text)

    assert not Vote.objects.exists()


@pytest.mark.parametrize("text", ["Marcel·la", '=HYPERLINK("http://x")', "<b>Współpraca</b>", "Zusammenarbeit 🤝"])
def test_an_open_answer_is_kept_as_typed(text):
    poll = services.open_poll(PollFactory(kind=Poll.Kind.OPEN))

    services.cast_vote(poll, voter=attendee_voter(poll.session.conference), text=f"  {text} ")

    assert Answer.objects.get().text == text


def test_an_attendee_of_another_conference_may_not_vote(poll):
    with pytest.raises(NotAllowed):
        services.cast_vote(poll, voter=attendee_voter(ConferenceFactory()), options=option_ids(poll)[:1])

    assert not Vote.objects.exists()


def test_a_guest_votes_only_in_the_session_they_joined(poll):
    services.cast_vote(poll, voter=guest_voter(poll.session), options=option_ids(poll)[:1])
    other = services.open_poll(PollFactory(session=SessionFactory(conference=poll.session.conference)))

    with pytest.raises(NotAllowed):
        services.cast_vote(other, voter=guest_voter(poll.session), options=option_ids(other)[:1])

    assert Vote.objects.get().poll == poll


def test_an_anonymous_vote_does_not_name_its_voter(poll, settings):
    voter = attendee_voter(poll.session.conference)

    vote = services.cast_vote(poll, voter=voter, options=option_ids(poll)[:1])

    stored = Vote.objects.filter(pk=vote.pk).values().get()
    assert stored["user_id"] is None
    assert voter.user.email not in str(stored)
    # The key is keyed with the site's secret: without it, nobody can compute whose it is.
    assert stored["voter_key"] == voter.poll_key(poll)
    settings.SECRET_KEY = "another secret key of the required length, for this test only"
    assert stored["voter_key"] != voter.poll_key(poll)


def test_one_person_has_a_different_key_in_every_poll(poll):
    voter = attendee_voter(poll.session.conference)
    other = services.open_poll(PollFactory(session=SessionFactory(conference=poll.session.conference)))

    first = services.cast_vote(poll, voter=voter, options=option_ids(poll)[:1])
    second = services.cast_vote(other, voter=voter, options=option_ids(other)[:1])

    assert first.voter_key != second.voter_key


def test_a_poll_that_says_so_before_it_opens_names_its_voters():
    poll = services.open_poll(PollFactory(is_anonymous=False))
    voter = attendee_voter(poll.session.conference)

    vote = services.cast_vote(poll, voter=voter, options=option_ids(poll)[:1])

    assert vote.user == voter.user


def test_a_vote_carries_the_voters_country_and_organisation_type_for_the_breakdown(poll):
    voter = attendee_voter(poll.session.conference, country="ES", organisation_type=Registration.OrganisationType.SME)

    vote = services.cast_vote(poll, voter=voter, options=option_ids(poll)[:1])

    assert (vote.country, vote.organisation_type) == ("ES", "sme")


def test_only_one_poll_of_a_session_is_open_at_a_time(poll):
    second = PollFactory(session=poll.session)

    with pytest.raises(InvalidTransition, match="Close"):
        services.open_poll(second)

    second.refresh_from_db()
    assert second.state == Poll.State.DRAFT


def test_a_poll_without_two_options_does_not_open():
    poll = PollFactory(options=["Only one"])

    with pytest.raises(InvalidTransition, match="two options"):
        services.open_poll(poll)


def test_a_poll_goes_draft_open_closed_revealed_and_no_other_way(poll):
    with pytest.raises(InvalidTransition):
        services.reveal_poll(poll)
    services.close_poll(poll)
    with pytest.raises(InvalidTransition):
        services.open_poll(poll)
    version = Conference.objects.get(pk=poll.session.conference_id).content_version

    services.reveal_poll(poll)

    poll.refresh_from_db()
    assert poll.state == Poll.State.REVEALED
    # The session page, cached, shows the results from now on.
    assert Conference.objects.get(pk=poll.session.conference_id).content_version == version + 1


def test_questions_are_taken_only_while_the_session_takes_them():
    session = SessionFactory()
    voter = attendee_voter(session.conference)

    with pytest.raises(QuestionsClosed):
        services.ask_question(session, voter=voter, text="Why clusters?")
    services.set_questions(session, enabled=True)
    question = services.ask_question(session, voter=voter, text="Why\nclusters?")

    assert (question.text, question.status) == ("Why clusters?", Question.Status.PENDING)


@pytest.mark.parametrize("text", ["", "x" * 281, "Why\x07?"])
def test_a_bad_question_is_refused(text):
    session = SessionFactory()
    services.set_questions(session, enabled=True)

    with pytest.raises(InvalidAnswer):
        services.ask_question(session, voter=attendee_voter(session.conference), text=text)

    assert not Question.objects.exists()


def test_an_upvote_counts_once_per_person_and_only_on_approved_questions():
    session = SessionFactory()
    services.set_questions(session, enabled=True)
    voter = attendee_voter(session.conference)
    question = services.ask_question(session, voter=voter, text="Why clusters?")

    with pytest.raises(InvalidTransition):
        services.upvote_question(question, voter=voter)
    question = services.moderate_question(question, action="approve")

    assert services.upvote_question(question, voter=voter) is True
    assert services.upvote_question(question, voter=voter) is False
    assert question.upvotes.count() == 1


def test_the_moderator_pins_answers_and_hides_questions():
    session = SessionFactory()
    services.set_questions(session, enabled=True)
    question = services.ask_question(session, voter=attendee_voter(session.conference), text="Why?")

    question = services.moderate_question(question, action="pin")
    assert (question.status, question.is_pinned) == ("approved", True)
    question = services.moderate_question(question, action="answered")
    assert (question.status, question.is_pinned) == ("answered", False)
    with pytest.raises(InvalidTransition):
        services.moderate_question(question, action="pin")
    question = services.moderate_question(question, action="hide")
    assert question.status == "hidden"
    with pytest.raises(InvalidTransition):
        services.moderate_question(question, action="delete")


def test_a_join_code_is_drawn_fresh_and_can_be_taken_away():
    session = SessionFactory()

    first = services.set_join_code(session, enabled=True).join_code
    second = services.set_join_code(session, enabled=True).join_code
    gone = services.set_join_code(session, enabled=False).join_code

    assert len(first) == len(second) == 6
    assert set(first) <= set(services.JOIN_CODE_ALPHABET)
    assert gone == ""
