import re

import pytest
from django.urls import reverse

from registration.dashboard import panels, register_panel
from tests.factories import SessionFactory, StaffFactory
from tests.voting.factories import PollFactory, attendee_voter, option_ids
from voting import services
from voting.dashboard import results
from voting.models import Poll

pytestmark = pytest.mark.django_db

WINNER = "Supporting cross-sectoral collaboration"


def dashboard(client, conference) -> str:
    client.force_login(StaffFactory())
    return client.get(reverse("registration:staff_dashboard", args=[conference.slug])).content.decode()


def voting_section(content: str) -> str:
    return re.search(r'<section id="voting".*?</section>', content, re.S).group(0)


def closed_poll(session, *, votes: int, question: str = "Which action matters most?") -> Poll:
    poll = services.open_poll(PollFactory(session=session, question=question))
    for _ in range(votes):
        services.cast_vote(poll, voter=attendee_voter(session.conference), options=option_ids(poll)[:1])
    return services.close_poll(poll)


def test_the_dashboard_charts_closed_polls_and_keeps_an_open_one_to_the_room(client):
    session = SessionFactory()
    closed_poll(session, votes=3, question="Which action matters most?")
    services.open_poll(PollFactory(session=session, question="Still open?"))
    PollFactory(session=session, question="Not opened yet?")

    content = dashboard(client, session.conference)
    section = voting_section(content)

    assert '<a href="#voting">Voting results</a>' in content
    assert "Which action matters most?" in section
    assert re.search(rf"{WINNER}<svg[^>]*>.*?</svg></th>\s*<td class=\"result-count\">3</td>", section, re.S)
    assert "3 people voted." in section
    assert "Still open?" not in section
    assert "Not opened yet?" not in section
    # Check-in's panel comes first, from the same registry.
    assert content.index('<section id="check-in"') < content.index('<section id="voting"')


def test_a_conference_without_a_closed_poll_says_so(client):
    session = SessionFactory()

    assert "No poll yet." in voting_section(dashboard(client, session.conference))


@pytest.mark.parametrize("polls", [1, 3])
def test_the_voting_panel_takes_the_same_queries_however_many_polls_and_votes(client, django_assert_num_queries, polls):
    session = SessionFactory()
    for n in range(polls):
        closed_poll(session, votes=n + 1, question=f"Question {n}?")
    staff = StaffFactory()
    client.force_login(staff)
    url = reverse("registration:staff_dashboard", args=[session.conference.slug])
    client.get(url)

    # The dashboard's own 16 (tests/registration/test_staff.py) less the export form's, which
    # staff without the permission do not get; then, for polls of one kind with options, the
    # voters and the options with their answers.
    with django_assert_num_queries(17):
        response = client.get(url)

    assert voting_section(response.content.decode()).count('class="results-table"') == polls


def test_a_panel_anchor_is_registered_once():
    existing = next(panel for panel, _html in panels(SessionFactory().conference) if panel.anchor == "voting")
    register_panel("voting", title=existing.title, render=results)  # the same again: harmless

    with pytest.raises(ValueError, match="registered already"):
        register_panel("voting", title="Other", render=results)
    assert [panel.anchor for panel, _html in panels(SessionFactory().conference)] == ["check-in", "voting"]
