"""The voting's panel on the staff dashboard (registration.dashboard): the results of every
poll of the conference once it has closed. An open poll's figures stay with its moderator
and the room's screen until the vote is over."""

from django.db.models import F
from django.template.loader import render_to_string

from agenda.models import Conference
from voting import selectors
from voting.models import Poll


def results(conference: Conference) -> str:
    """One query for the polls and one per kind of answer among them (selectors.results_of),
    however many polls and votes."""
    polls = list(
        Poll.objects.filter(session__conference=conference, state__in=[Poll.State.CLOSED, Poll.State.REVEALED])
        .select_related("session")
        .order_by(F("session__start"), "session__id", "position", "id")
    )
    return render_to_string(
        "voting/includes/dashboard_results.html",
        {"reports": list(selectors.results_of(polls).values())},
    )
