"""What other apps' pages show of the check-in, without those apps importing it: the
ticket and certificate links on the attendee's page. (The staff dashboard's figures come
through registration.dashboard: checkin.dashboard; the ticket in registration's emails
through registration.tickets: checkin.services.email_ticket.)"""

from django import template

from checkin import selectors
from registration.models import Registration

register = template.Library()


@register.inclusion_tag("checkin/includes/registration_links.html", takes_context=True)
def checkin_links(context, registration: Registration) -> dict:
    """The ticket of a confirmed registration and, after the conference, the certificate of
    one who was checked in (one query, then), with the button that emails its link."""
    conference = registration.conference
    ended = conference.has_ended
    return {
        "conference": conference,
        "has_ticket": registration.status == Registration.Status.CONFIRMED and not ended,
        "has_certificate": ended and selectors.was_checked_in(registration),
        "csrf_token": context.get("csrf_token"),
    }
