"""The check-in's panel on the staff dashboard (registration.dashboard)."""

from django.template.loader import render_to_string

from agenda.models import Conference
from checkin import selectors


def figures(conference: Conference) -> str:
    """Checked in and not (yet) checked in at each door, in a fixed number of queries."""
    return render_to_string(
        "checkin/includes/dashboard_figures.html",
        {"conference": conference, "figures": selectors.door_figures(conference)},
    )
