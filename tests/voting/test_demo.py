from io import StringIO

import pytest
from django.core.management import call_command

from agenda.models import Conference
from voting import services
from voting.models import Option, Poll, SessionVoting

pytestmark = pytest.mark.django_db


def seed() -> None:
    call_command("seed_demo", stdout=StringIO())


def snapshot() -> dict:
    models = [Poll, Option, SessionVoting, Conference]
    return {
        model.__name__: sorted(
            repr([(field.attname, getattr(obj, field.attname)) for field in model._meta.concrete_fields])
            for obj in model.objects.all()
        )
        for model in models
    }


def test_the_2017_smart_voting_has_its_real_question_and_result_on_the_session_page(client):
    seed()

    poll = Poll.objects.get(session__conference__slug="growyourregion-2017", session__code="smart-voting")
    content = client.get("/growyourregion-2017/agenda/smart-voting/").content.decode()

    assert poll.question == "Which action is most needed to accelerate industrial modernisation?"
    assert poll.state == Poll.State.REVEALED
    assert "Supporting cross-sectoral collaboration" in poll.options.values_list("label", flat=True)
    assert "Voting results" in content
    assert "Participants picked ‘Supporting cross-sectoral collaboration’" in content


def test_the_upcoming_smart_voting_is_ready_to_run():
    seed()

    polls = Poll.objects.filter(session__conference__slug="growyourregion", session__code="smart-voting")
    first = services.open_poll(polls.first())

    assert [poll.kind for poll in polls] == ["single", "ranking", "rating", "open"]
    assert first.state == Poll.State.OPEN
    assert first.options.count() == 5
    assert SessionVoting.objects.get(session=first.session).takes_questions


def test_seeding_twice_changes_nothing_and_leaves_a_poll_that_was_run_as_it_is():
    seed()
    poll = services.open_poll(Poll.objects.filter(session__conference__slug="growyourregion").first())
    first = snapshot()

    seed()

    assert snapshot() == first
    poll.refresh_from_db()
    assert poll.state == Poll.State.OPEN
