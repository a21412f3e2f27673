"""Emails as the outbox's worker writes them."""

from outbox.emails import write
from outbox.models import OutgoingEmail


def written(email: OutgoingEmail | None) -> OutgoingEmail:
    """The email with its subject, bodies and attachments as they will be sent."""
    assert email is not None
    return write(email)
