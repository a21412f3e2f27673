import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import ConferenceFactory, RegistrationFactory, SessionFactory, TeamFactory, VerifiedUserFactory
from tests.voting.factories import PollFactory, attendee_voter, option_ids
from voting import services
from voting.models import Answer, Poll, Question, Vote

pytestmark = pytest.mark.django_db


@pytest.fixture
def poll():
    return services.open_poll(PollFactory())


def attendee(client, conference, **registration):
    registration = RegistrationFactory(conference=conference, user=VerifiedUserFactory(), **registration)
    client.force_login(registration.user)
    return registration.user


def vote_url(poll: Poll) -> str:
    return reverse("voting:cast", kwargs={"slug": poll.session.conference.slug, "poll_id": poll.pk})


def page(poll: Poll) -> str:
    return reverse("voting:vote", kwargs={"slug": poll.session.conference.slug})


def moderator(client, conference, **permissions):
    user = VerifiedUserFactory()
    TeamFactory(conferences=[conference], members=[user], **{"can_run_voting": True, **permissions})
    client.force_login(user)
    return user


def test_an_attendee_votes_with_a_plain_post(client, poll):
    attendee(client, poll.session.conference)
    first = option_ids(poll)[0]

    response = client.post(vote_url(poll), {f"poll{poll.pk}-options": first}, follow=True)

    assert response.redirect_chain == [(page(poll), 302)]
    assert "Your vote was counted." in response.content.decode()
    assert Answer.objects.get().option_id == first


def test_the_voter_page_marks_the_current_vote_for_changing(client, poll):
    user = attendee(client, poll.session.conference)
    second = option_ids(poll)[1]
    client.post(vote_url(poll), {f"poll{poll.pk}-options": second})

    content = client.get(page(poll)).content.decode()

    assert re.search(rf'<input type="radio" [^>]*value="{second}"[^>]*checked', content)
    assert "you can still change it" in content
    assert "Change my vote" in content
    assert user.email not in Vote.objects.values_list("voter_key", flat=True)


def test_the_voter_page_shows_the_open_poll_and_says_whether_it_is_anonymous(client, poll):
    attendee(client, poll.session.conference)

    content = client.get(page(poll)).content.decode()

    assert poll.question in content
    assert "Supporting cross-sectoral collaboration" in content
    assert "nobody, organisers included, can see what you chose" in content


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose an answer before you vote."),
        ({"options": "999999999"}, "is not one of the options; choose one from the list."),
        ({"options": "1 OR 1=1"}, "is not one of the options; choose one from the list."),
        ({"options": "99999999999999999999999"}, "is not one of the options; choose one from the list."),
    ],
)
def test_a_crafted_vote_gets_a_400_and_counts_nothing(client, poll, data, message):
    attendee(client, poll.session.conference)

    response = client.post(vote_url(poll), {f"poll{poll.pk}-{key}": value for key, value in data.items()})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Vote.objects.exists()


def test_an_option_of_another_poll_gets_a_400_and_counts_nothing(client, poll):
    attendee(client, poll.session.conference)
    other = services.open_poll(PollFactory())

    response = client.post(vote_url(poll), {f"poll{poll.pk}-options": option_ids(other)[0]})

    assert response.status_code == 400
    assert not Vote.objects.exists()


def test_a_vote_in_a_closed_poll_gets_a_409_and_counts_nothing(client, poll):
    attendee(client, poll.session.conference)
    services.close_poll(poll)

    response = client.post(vote_url(poll), {f"poll{poll.pk}-options": option_ids(poll)[0]})

    assert response.status_code == 409
    assert "This poll is not open for votes; nothing was counted." in response.content.decode()
    assert not Vote.objects.exists()


def test_a_second_vote_in_a_final_poll_gets_a_409_and_keeps_the_first(client):
    poll = services.open_poll(PollFactory(votes_can_change=False))
    attendee(client, poll.session.conference)
    first, second = option_ids(poll)
    client.post(vote_url(poll), {f"poll{poll.pk}-options": first})

    response = client.post(vote_url(poll), {f"poll{poll.pk}-options": second})

    assert response.status_code == 409
    assert Answer.objects.get().option_id == first


def test_a_poll_of_another_conference_is_not_found(client, poll):
    attendee(client, poll.session.conference)
    other = services.open_poll(PollFactory())
    url = reverse("voting:cast", kwargs={"slug": poll.session.conference.slug, "poll_id": other.pk})

    response = client.post(url, {f"poll{other.pk}-options": option_ids(other)[0]})

    assert response.status_code == 404
    assert not Vote.objects.exists()


@pytest.mark.parametrize("who", ["anonymous", "not registered", "waitlisted", "of another conference"])
def test_someone_not_allowed_gets_a_403_and_counts_nothing(client, poll, who):
    if who == "not registered":
        client.force_login(VerifiedUserFactory())
    elif who == "waitlisted":
        attendee(client, poll.session.conference, status="waitlisted")
    elif who == "of another conference":
        attendee(client, ConferenceFactory())

    response = client.post(vote_url(poll), {f"poll{poll.pk}-options": option_ids(poll)[0]})

    assert response.status_code == 403
    assert "Only confirmed attendees" in response.content.decode()
    assert not Vote.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x" * 61, "Shorten this to at most 60 characters (it has 61)."),
        ("clusters\x00", "Leave out invisible characters such as null characters."),
        ("clusters\x1b[2J", "invisible characters"),
        ("clus\u202eters", "invisible characters"),
        ("  ", "Choose an answer"),
    ],
)
def test_an_oversized_or_control_character_answer_gets_a_400(client, text, message):
    poll = services.open_poll(PollFactory(kind=Poll.Kind.OPEN))
    attendee(client, poll.session.conference)

    response = client.post(vote_url(poll), {f"poll{poll.pk}-text": text})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Vote.objects.exists()


def test_a_ranking_is_voted_with_one_select_per_place(client):
    poll = services.open_poll(PollFactory(kind=Poll.Kind.RANKING, options=["A", "B", "C"]))
    attendee(client, poll.session.conference)
    a, b, c = option_ids(poll)

    client.post(vote_url(poll), {f"poll{poll.pk}-rank_1": c, f"poll{poll.pk}-rank_2": a, f"poll{poll.pk}-rank_3": ""})
    response = client.post(vote_url(poll), {f"poll{poll.pk}-rank_1": b, f"poll{poll.pk}-rank_2": b})

    assert response.status_code == 400
    assert "Give each option one place only." in response.content.decode()
    assert dict(Answer.objects.values_list("option__label", "rank")) == {"C": 1, "A": 2}


def test_a_guest_joins_with_the_code_and_votes(client, poll):
    code = services.set_join_code(poll.session, enabled=True).join_code
    join = reverse("voting:join", kwargs={"slug": poll.session.conference.slug})

    wrong = client.post(join, {"code": "NOTONE"})
    client.post(join, {"code": code.lower()})
    response = client.post(vote_url(poll), {f"poll{poll.pk}-options": option_ids(poll)[0]})

    assert wrong.status_code == 400
    assert "No session of this conference has that join code" in wrong.content.decode()
    assert response.status_code == 302
    assert Vote.objects.get().country == ""


def test_questions_are_asked_and_upvoted_once(client):
    session = SessionFactory()
    services.set_questions(session, enabled=True)
    attendee(client, session.conference)
    slug = session.conference.slug

    client.post(
        reverse("voting:ask", kwargs={"slug": slug, "code": session.code}), {f"{session.code}-text": "<b>Why?</b>"}
    )
    waiting = client.get(reverse("voting:vote", kwargs={"slug": slug})).content.decode()
    other = Client()
    attendee(other, session.conference)
    unseen = other.get(reverse("voting:vote", kwargs={"slug": slug})).content.decode()
    question = services.moderate_question(Question.objects.get(), action="approve")
    upvote = reverse("voting:upvote", kwargs={"slug": slug, "question_id": question.pk})
    client.post(upvote)
    again = client.post(upvote, follow=True)
    content = client.get(reverse("voting:vote", kwargs={"slug": slug})).content.decode()

    assert "Yours, waiting for the moderator" in waiting
    assert "Why?" not in unseen
    assert "You had already upvoted this question." in again.content.decode()
    assert question.upvotes.count() == 1
    assert "&lt;b&gt;Why?&lt;/b&gt;" in content
    assert "<b>Why?</b>" not in content


def test_a_question_of_another_conference_cannot_be_upvoted(client):
    session = SessionFactory()
    attendee(client, session.conference)
    foreign = Question.objects.create(session=SessionFactory(), text="Why?", author_key="0" * 64, status="approved")

    response = client.post(
        reverse("voting:upvote", kwargs={"slug": session.conference.slug, "question_id": foreign.pk})
    )

    assert response.status_code == 404
    assert not foreign.upvotes.exists()


def moderate_url(poll: Poll) -> str:
    return reverse("voting:moderate", kwargs={"slug": poll.session.conference.slug, "code": poll.session.code})


def test_the_moderator_opens_closes_and_shows_a_poll(client):
    poll = PollFactory()
    moderator(client, poll.session.conference)

    for action in ("open", "close", "reveal"):
        response = client.post(moderate_url(poll), {"action": action, "poll": poll.pk})
        assert response.status_code == 302

    poll.refresh_from_db()
    assert poll.state == Poll.State.REVEALED


def test_the_moderator_is_told_why_a_step_is_refused(client, poll):
    moderator(client, poll.session.conference)

    response = client.post(moderate_url(poll), {"action": "reveal", "poll": poll.pk})

    assert response.status_code == 409
    assert "Only a closed poll&#x27;s results can be shown." in response.content.decode()


@pytest.mark.parametrize("crafted", ["another session's", "not a number", "a superscript digit", "missing"])
def test_a_crafted_poll_id_changes_nothing(client, poll, crafted):
    moderator(client, poll.session.conference)
    other = PollFactory(session=SessionFactory(conference=poll.session.conference))
    value = {
        "another session's": other.pk,
        "not a number": "1; DROP TABLE voting_poll",
        "a superscript digit": "²",
        "missing": "",
    }[crafted]

    response = client.post(moderate_url(poll), {"action": "open", "poll": value})

    assert response.status_code == 400
    other.refresh_from_db()
    assert other.state == Poll.State.DRAFT


@pytest.mark.parametrize("team", ["without the permission", "of another conference"])
def test_a_team_member_without_run_voting_here_is_refused(client, poll, team):
    user = VerifiedUserFactory()
    if team == "without the permission":
        TeamFactory(conferences=[poll.session.conference], members=[user], can_check_in=True)
    else:
        TeamFactory(conferences=[ConferenceFactory()], members=[user], can_run_voting=True)
    client.force_login(user)

    response = client.post(moderate_url(poll), {"action": "close", "poll": poll.pk})

    assert response.status_code == 403
    poll.refresh_from_db()
    assert poll.state == Poll.State.OPEN


def test_the_moderator_sees_the_breakdown_with_small_groups_merged(client, poll):
    for country in ["ES"] * 5 + ["MT"]:
        services.cast_vote(
            poll,
            voter=attendee_voter(poll.session.conference, country=country),
            options=option_ids(poll)[:1],
        )
    moderator(client, poll.session.conference)

    content = client.get(moderate_url(poll)).content.decode()

    assert "By country" in content
    assert "Malta" not in content
    assert "Other (groups of fewer than 5)" in content


def screen_events(poll: Poll) -> str:
    return reverse("voting:screen_events", kwargs={"slug": poll.session.conference.slug, "code": poll.session.code})


def events(chunks) -> list[dict[str, str]]:
    """Server-sent events as their fields ("" for a comment)."""
    text = "".join(chunk.decode() for chunk in chunks)
    return [
        {name: value.removeprefix(" ") for name, _colon, value in (line.partition(":") for line in block.split("\n"))}
        for block in text.split("\n\n")
        if block
    ]


def screen_state(client, poll: Poll, *, last: str = "") -> list[dict[str, str]]:
    """What a sync worker answers the screen: the answer ends at once."""
    headers = {"Last-Event-ID": last} if last else {}
    return events(client.get(screen_events(poll), headers=headers).streaming_content)


def test_the_screen_shows_the_qr_code_and_the_live_results(client, poll):
    moderator(client, poll.session.conference)

    content = client.get(
        reverse("voting:screen", kwargs={"slug": poll.session.conference.slug, "code": poll.session.code})
    ).content.decode()

    assert '<svg role="img"' in content
    assert "/vote/" in content
    assert poll.question in content
    assert 'aria-live="polite"' in content


def test_the_screen_events_move_with_a_changed_vote_and_with_moderation(client, poll):
    moderator(client, poll.session.conference)
    voter = attendee_voter(poll.session.conference)
    first, second = option_ids(poll)
    services.cast_vote(poll, voter=voter, options=[first])
    services.set_questions(poll.session, enabled=True)
    question = services.ask_question(poll.session, voter=voter, text="Why clusters?")
    ids = [screen_state(client, poll)[1]["id"]]

    services.cast_vote(poll, voter=voter, options=[second])
    ids.append(screen_state(client, poll, last=ids[-1])[1]["id"])
    question = services.moderate_question(question, action="approve")
    ids.append(screen_state(client, poll, last=ids[-1])[1]["id"])
    services.upvote_question(question, voter=voter)
    ids.append(screen_state(client, poll, last=ids[-1])[1]["id"])
    services.close_poll(poll)
    event = screen_state(client, poll, last=ids[-1])[1]
    ids.append(event["id"])
    content = json.loads(event["data"])["html"]

    assert len(set(ids)) == len(ids)
    assert "Why clusters?" in content
    assert "Voting is closed" in content


def test_on_a_sync_worker_the_screen_events_end_at_once_and_are_empty_until_a_vote(client, poll):
    moderator(client, poll.session.conference)
    first = screen_state(client, poll)
    last = first[1]["id"]

    unchanged = screen_state(client, poll, last=last)
    services.cast_vote(poll, voter=attendee_voter(poll.session.conference), options=option_ids(poll)[:1])
    moved = screen_state(client, poll, last=last)

    assert first[0] == {"retry": "1000"}
    assert json.loads(first[1]["data"])["status"] == "0 votes"
    assert unchanged == [{"retry": "1000"}]
    assert moved[1]["id"] != last
    assert json.loads(moved[1]["data"])["status"] == "1 vote"


def test_on_a_threaded_server_the_screen_stream_stays_open_and_brings_the_next_vote(client, poll):
    moderator(client, poll.session.conference)
    response = client.get(screen_events(poll), **{"wsgi.multithread": True})
    stream = iter(response.streaming_content)
    opening = events([next(stream), next(stream)])

    services.cast_vote(poll, voter=attendee_voter(poll.session.conference), options=option_ids(poll)[:1])
    pushed = events([next(stream)])
    response.close()

    assert response["Content-Type"] == "text/event-stream"
    assert response["X-Accel-Buffering"] == "no"
    assert json.loads(opening[1]["data"])["status"] == "0 votes"
    assert json.loads(pushed[0]["data"])["status"] == "1 vote"


@pytest.mark.parametrize("questions", [1, 8])
def test_the_screen_events_take_the_same_queries_however_many_questions(
    client, poll, django_assert_num_queries, questions
):
    moderator(client, poll.session.conference)
    for _ in range(questions):
        Question.objects.create(session=poll.session, text="Why?", author_key="0" * 64, status="approved")
    screen_state(client, poll)

    last = screen_state(client, poll)[1]["id"]

    # User, conference, team permission, session, poll, version (2), results (2), questions.
    with django_assert_num_queries(10):
        screen_state(client, poll)
    # Unchanged: the version alone.
    with django_assert_num_queries(7):
        screen_state(client, poll, last=last)


@pytest.mark.parametrize("questions", [1, 8])
def test_the_voter_page_takes_the_same_queries_however_many_questions(
    client, poll, django_assert_num_queries, questions
):
    services.set_questions(poll.session, enabled=True)
    attendee(client, poll.session.conference)
    for _ in range(questions):
        Question.objects.create(session=poll.session, text="Why?", author_key="0" * 64, status="approved")
    client.get(page(poll))

    # Conference, user, registration, sessions, polls, options, own answers, questions.
    with django_assert_num_queries(8):
        client.get(page(poll))


def test_the_results_export_neutralises_formulas(client):
    poll = services.open_poll(PollFactory(kind=Poll.Kind.OPEN))
    services.cast_vote(
        poll,
        voter=attendee_voter(poll.session.conference),
        text='=HYPERLINK("http://x")',
    )
    moderator(client, poll.session.conference)

    response = client.get(
        reverse("voting:results_csv", kwargs={"slug": poll.session.conference.slug, "code": poll.session.code})
    )

    content = response.content.decode()
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "'=hyperlink" in content
    assert "\n=" not in content


def test_the_session_page_shows_results_once_revealed(client, poll):
    services.cast_vote(
        poll,
        voter=attendee_voter(poll.session.conference),
        options=option_ids(poll)[:1],
    )
    url = poll.session.get_absolute_url()
    before = client.get(url).content.decode()

    services.reveal_poll(services.close_poll(poll))
    after = client.get(url).content.decode()

    assert "Voting results" not in before
    assert "Voting results" in after
    assert "1 person voted." in after


@pytest.mark.parametrize("polls", [1, 4])
def test_the_moderator_page_and_export_take_the_same_queries_however_many_polls(
    client, django_assert_num_queries, polls
):
    session = SessionFactory()
    kinds = [Poll.Kind.SINGLE, Poll.Kind.RANKING, Poll.Kind.RATING, Poll.Kind.OPEN]
    for kind in kinds[:polls]:
        poll = services.open_poll(PollFactory(session=session, kind=kind))
        voter = attendee_voter(session.conference)
        ballot = {"options": option_ids(poll)[:1]} if poll.has_options else {}
        ballot |= {"value": 3} if kind == Poll.Kind.RATING else {"text": "skills"} if kind == Poll.Kind.OPEN else {}
        services.cast_vote(poll, voter=voter, **ballot)
        services.close_poll(poll)
    moderator(client, session.conference)
    slug, code = session.conference.slug, session.code
    client.get(reverse("voting:moderate", kwargs={"slug": slug, "code": code}))

    # User, conference, permission, session, polls, voters, options, ratings, open answers,
    # two per breakdown, the settings and the questions; with one poll, its one kind of answer.
    with django_assert_num_queries(15 if polls == 4 else 13):
        client.get(reverse("voting:moderate", kwargs={"slug": slug, "code": code}))
    with django_assert_num_queries(13 if polls == 4 else 11):
        client.get(reverse("voting:results_csv", kwargs={"slug": slug, "code": code}))


def test_the_moderator_lists_alone_answer_304_until_a_question_moves_them(client, poll):
    moderator(client, poll.session.conference)
    services.set_questions(poll.session, enabled=True)
    lists = moderate_url(poll) + "?part=lists"
    page = client.get(moderate_url(poll))
    first = client.get(lists)

    unchanged = client.get(lists, HTTP_IF_NONE_MATCH=first["ETag"])
    services.ask_question(poll.session, voter=attendee_voter(poll.session.conference), text="Who funds the pilots?")
    moved = client.get(lists, HTTP_IF_NONE_MATCH=first["ETag"])

    assert f'data-version="{first["ETag"]}"' in page.content.decode().replace("&quot;", '"')
    assert "<html" not in first.content.decode()
    assert poll.question in first.content.decode()
    assert unchanged.status_code == 304
    assert moved.status_code == 200
    assert "Who funds the pilots?" in moved.content.decode()
    assert moved["ETag"] != first["ETag"]


def test_fetching_the_lists_leaves_a_pending_message_for_the_page(client, poll):
    moderator(client, poll.session.conference)
    client.post(moderate_url(poll), {"action": "close", "poll": poll.pk})

    client.get(moderate_url(poll) + "?part=lists")

    assert "Done." in client.get(moderate_url(poll)).content.decode()


def test_the_moderator_lists_are_refused_to_anyone_else(client, poll):
    client.force_login(VerifiedUserFactory())

    assert client.get(moderate_url(poll) + "?part=lists").status_code == 403
