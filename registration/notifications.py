"""The emails that tell attendees what happened to their registration.

Each is rendered in the attendee's language inside the transaction of the change and
saved to the outbox (registration.emails), so it is sent if and only if the change commits.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from registration.emails import queue_email
from registration.models import OutgoingEmail, Registration

KINDS = ("received", "confirmed", "waitlisted", "promoted", "changed", "cancelled", "approved", "rejected")


def notify(registration: Registration, kind: str, *, extra_context: dict | None = None) -> OutgoingEmail | None:
    """Queue the `kind` email for a registration; None when its account is gone."""
    if registration.user is None:
        return None
    context = {
        "registration": registration,
        "conference": registration.conference,
        "my_registration_url": settings.SITE_URL + registration.get_absolute_url(),
        **(extra_context or {}),
    }
    prefix = f"emails/registration/{kind}"
    with translation.override(registration.language):
        subject = " ".join(render_to_string(f"{prefix}_subject.txt", context).split())
        body_text = render_to_string(f"{prefix}_message.txt", context)
    return queue_email(
        to=registration.user.email,
        subject=subject,
        body_text=body_text,
        kind=kind,
        language=registration.language,
        registration=registration,
    )
