import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from tests.factories import RegistrationFactory, SessionFactory, VerifiedUserFactory
from tests.voting.factories import PollFactory, option_ids
from voting import services
from voting.models import Answer, Question

pytestmark = pytest.mark.django_db


def attendee_client(conference) -> Client:
    client = Client(REMOTE_ADDR="192.0.2.40")
    client.force_login(RegistrationFactory(conference=conference, user=VerifiedUserFactory()).user)
    return client


@override_settings(ACCOUNT_RATE_LIMITS={**settings.ACCOUNT_RATE_LIMITS, "voting_question": "2/m/key"})
def test_questions_are_limited_per_person_not_per_address():
    session = SessionFactory()
    services.set_questions(session, enabled=True)
    ask = reverse("voting:ask", kwargs={"slug": session.conference.slug, "code": session.code})
    eager, neighbour = attendee_client(session.conference), attendee_client(session.conference)

    statuses = [eager.post(ask, {f"{session.code}-text": f"Question {n}?"}).status_code for n in range(3)]
    other = neighbour.post(ask, {f"{session.code}-text": "Mine?"})

    assert statuses == [302, 302, 429]
    assert "Too many attempts" in eager.post(ask, {f"{session.code}-text": "Again?"}).content.decode()
    assert other.status_code == 302
    assert sorted(Question.objects.values_list("text", flat=True)) == ["Mine?", "Question 0?", "Question 1?"]


@override_settings(ACCOUNT_RATE_LIMITS={**settings.ACCOUNT_RATE_LIMITS, "voting_vote": "2/m/key"})
def test_votes_of_guests_behind_one_address_are_limited_each_on_their_own():
    poll = services.open_poll(PollFactory())
    code = services.set_join_code(poll.session, enabled=True).join_code
    slug = poll.session.conference.slug
    cast = reverse("voting:cast", kwargs={"slug": slug, "poll_id": poll.pk})
    first, second = option_ids(poll)
    guests = [Client(REMOTE_ADDR="192.0.2.41"), Client(REMOTE_ADDR="192.0.2.41")]
    for guest in guests:
        guest.post(reverse("voting:join", kwargs={"slug": slug}), {"code": code})

    changes = [
        guests[0].post(cast, {f"poll{poll.pk}-options": option}).status_code for option in (first, second, first)
    ]
    other = guests[1].post(cast, {f"poll{poll.pk}-options": first})

    assert changes == [302, 302, 429]
    assert other.status_code == 302
    # The refused change changed nothing: the first guest's vote is still their second.
    assert sorted(Answer.objects.values_list("option_id", flat=True)) == sorted([second, first])


@override_settings(ACCOUNT_RATE_LIMITS={**settings.ACCOUNT_RATE_LIMITS, "voting_vote": "1/m/key"})
def test_upvotes_count_as_votes():
    session = SessionFactory()
    services.set_questions(session, enabled=True)
    client = attendee_client(session.conference)
    questions = [
        services.moderate_question(
            Question.objects.create(session=session, text=f"Why {n}?", author_key=f"key-{n}"), action="approve"
        )
        for n in range(2)
    ]

    statuses = [
        client.post(
            reverse("voting:upvote", kwargs={"slug": session.conference.slug, "question_id": question.pk})
        ).status_code
        for question in questions
    ]

    assert statuses == [302, 429]


def test_votes_and_questions_are_limited_per_person_by_default():
    assert settings.ACCOUNT_RATE_LIMITS["voting_vote"].startswith("30/m/key")
    assert "/m/key" in settings.ACCOUNT_RATE_LIMITS["voting_question"]
