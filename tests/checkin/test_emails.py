import io
import json

import pytest
import segno
from django.conf import settings
from PIL import Image

from checkin.models import Ticket
from checkin.tickets import qr_png
from outbox.emails import send_email
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


def qr_modules(png: bytes, *, scale: int = 8, border: int = 4) -> list[list[bool]]:
    """The dark and light modules read back from a QR code's picture, one sample per module."""
    image = Image.open(io.BytesIO(png)).convert("L")
    size = image.width // scale - 2 * border
    return [
        [
            image.getpixel(((border + col) * scale + scale // 2, (border + row) * scale + scale // 2)) < 128
            for col in range(size)
        ]
        for row in range(size)
    ]


def test_the_delivered_confirmation_shows_the_tickets_qr_code_inline(smtp_backend):
    conference = ConferenceFactory(capacity=1)
    confirmed = register(conference)
    email = OutgoingEmail.objects.get(to=confirmed.user.email)

    send_email(email.pk)

    message = smtp_backend.to(confirmed.user.email)
    ticket = Ticket.objects.get(registration=confirmed)
    # Text and HTML are alternatives; the HTML and its picture are one multipart/related.
    html_part = message.get_body(preferencelist=("html",))
    related = next(part for part in message.walk() if part.get_content_type() == "multipart/related")
    (image,) = [part for part in related.iter_parts() if part.get_content_type() == "image/png"]
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html_part.get_content()
    assert 'alt="QR code of your ticket"' in html_part.get_content()
    assert image.get_content_disposition() == "inline"
    png = image.get_content()
    assert png == qr_png(ticket.token)
    expected = [[bool(module) for module in row] for row in segno.make(ticket.token, error="m", micro=False).matrix]
    assert qr_modules(png) == expected
    # The calendar file is still an attachment that mail clients list.
    assert [part.get_filename() for part in message.iter_attachments()] == [f"{conference.slug}.ics"]
    # Nothing of the ticket's token is kept in the outbox.
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT
    stored = json.dumps([email.subject, email.body_text, email.body_html, email.attachments, email.context])
    assert ticket.token not in stored
    assert cid in email.body_html  # the sent HTML, as kept, refers to the picture it came with


def test_a_waitlisted_registrations_email_has_no_ticket_picture(smtp_backend):
    conference = ConferenceFactory(capacity=1)
    register(conference)
    waiting = register(conference)

    send_email(OutgoingEmail.objects.get(to=waiting.user.email).pk)

    message = smtp_backend.to(waiting.user.email)
    assert not [part for part in message.walk() if part.get_content_maintype() == "image"]
    assert "cid:" not in message.get_body(preferencelist=("html",)).get_content()
    assert not Ticket.objects.filter(registration=waiting).exists()
