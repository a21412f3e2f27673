from django import template
from django.template.loader import render_to_string

from agenda.models import Session
from voting import selectors
from voting.models import Poll

register = template.Library()


@register.simple_tag
def revealed_results(session: Session) -> str:
    """The results the moderator has shown, for the session's page (which is cached until
    the next reveal or programme edit raises the conference's content version)."""
    polls = list(Poll.objects.filter(session=session, state=Poll.State.REVEALED))
    reports = list(selectors.results_of(polls).values())
    return render_to_string("voting/includes/session_results.html", {"reports": reports}) if reports else ""
