import pytest
from django.conf import settings

from outbox.models import OutgoingEmail
from registration import services as registration_services
from registration.models import Registration
from registration.selectors import privacy_statement
from tests.emails import written
from tests.factories import ConferenceFactory, VerifiedUserFactory, attendee_details

pytestmark = pytest.mark.django_db


def register(conference):
    return registration_services.register(
        VerifiedUserFactory(),
        conference,
        details=attendee_details(),
        session_ids=[],
        privacy_statement=privacy_statement(conference),
    )


def test_the_confirmation_email_links_to_the_ticket():
    conference = ConferenceFactory(capacity=1)

    confirmed = register(conference)
    waiting = register(conference)

    ticket_url = f"{settings.SITE_URL}/{conference.slug}/my-registration/ticket/"
    assert waiting.status == Registration.Status.WAITLISTED
    confirmation = written(OutgoingEmail.objects.get(to=confirmed.user.email))
    assert f"Your ticket, with the QR code to show at the entrance: {ticket_url}" in confirmation.body_text
    assert f'href="{ticket_url}"' in confirmation.body_html
    assert ticket_url not in written(OutgoingEmail.objects.get(to=waiting.user.email)).body_text
