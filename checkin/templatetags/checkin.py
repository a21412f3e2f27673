"""What other apps' pages show of the check-in, without those apps importing it: the
ticket and certificate links on the attendee's page and the ticket's address in their
emails. (The staff dashboard's figures come through registration.dashboard: checkin.dashboard.)"""

from django import template
from django.conf import settings
from django.urls import reverse

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


@register.simple_tag
def ticket_url(registration: Registration) -> str:
    """The full address of the attendee's ticket page, for their emails."""
    return settings.SITE_URL + reverse("checkin:ticket", kwargs={"slug": registration.conference.slug})
