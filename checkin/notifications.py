"""The email of the check-in: a certificate of attendance, on the attendee's request.

The one place this app writes to the outbox (outbox.emails), rendered in the
attendee's language inside the caller's transaction."""

import datetime as dt

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from outbox.emails import compose, queue_email
from outbox.models import OutgoingEmail
from registration.models import Registration


def send_certificate_link(registration: Registration, *, today: dt.date) -> OutgoingEmail | None:
    """Queue the email with the link to the certificate; once a day at most per registration
    (the outbox's dedup key decides), so pressing the button again sends nothing more.
    Returns None when nothing was queued (already sent today, or the account is gone)."""
    user = registration.user
    if user is None:
        return None
    conference = registration.conference
    context = {
        "registration": registration,
        "conference": conference,
        "certificate_url": settings.SITE_URL + reverse("checkin:certificate", kwargs={"slug": conference.slug}),
    }
    with translation.override(registration.language), timezone.override(conference.tz):
        heading = " ".join(render_to_string("emails/checkin/certificate_subject.txt", context).split())
        subject = gettext("%(conference)s: %(subject)s") % {"conference": conference.name, "subject": heading}
        body_text, body_html = compose(
            heading=heading,
            content=render_to_string("emails/checkin/certificate_message.txt", context),
            conference=conference,
            my_registration_url=settings.SITE_URL + registration.get_absolute_url(),
        )
    return queue_email(
        to=user.email,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        kind="certificate",
        language=registration.language,
        conference=conference,
        reply_to=conference.contact_email,
        dedup_key=f"certificate:{registration.pk}:{today.isoformat()}",
    )
