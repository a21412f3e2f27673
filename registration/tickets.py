"""The attendee's ticket, which the check-in app keeps, in registration's emails: those
that confirm a place carry the ticket's address and its QR code. Registration does not
import that app; it gives its tickets here in its AppConfig.ready(), as other apps add
themselves to registration.programme. Without it the emails carry no ticket.
"""

from collections.abc import Callable
from dataclasses import dataclass

from registration.models import Registration


@dataclass(frozen=True)
class Ticket:
    # The full address of the attendee's ticket page.
    url: str
    # The QR code the door scans, as a PNG made when asked for: never stored anywhere else.
    qr_png: bytes


_provider: Callable[[Registration], Ticket | None] | None = None


def provide_with(provider: Callable[[Registration], Ticket | None]) -> None:
    """Use `provider(registration) -> Ticket | None` (None: the registration has no valid ticket)."""
    global _provider
    _provider = provider


def ticket_for(registration: Registration) -> Ticket | None:
    """The ticket of a confirmed registration, if an app provides tickets; None otherwise."""
    if _provider is None or registration.status != Registration.Status.CONFIRMED:
        return None
    return _provider(registration)
