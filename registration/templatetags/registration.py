from django import template

from agenda.models import Conference
from registration import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def live_registration(context, conference: Conference) -> selectors.LiveRegistration | None:
    """The visitor's live registration for the conference, for the header and the register
    button: none on an anonymous page, which CachedPageMiddleware may keep for everyone."""
    request = context.get("request")
    return selectors.live_registration(request.user, conference) if request is not None else None
