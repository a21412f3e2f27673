"""The attendee's ticket and certificate, which the check-in app keeps, on registration's
pages and in its emails, without registration importing that app: the app gives them here
in its AppConfig.ready(), as other apps add themselves to registration.programme. Without
it, nothing of a ticket is shown.

The emails that confirm a place carry the ticket's address and its QR code (`ticket_for`);
the attendee's page shows the app's section (`page_section`: the ticket's link and, after
the event, the certificate's).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest

from registration.models import Registration


@dataclass(frozen=True)
class Ticket:
    # The full address of the attendee's ticket page.
    url: str
    # The QR code the door scans, as a PNG made when asked for: never stored anywhere else.
    qr_png: bytes


@dataclass(frozen=True)
class _Provider:
    ticket: Callable[[Registration], Ticket | None]
    section: Callable[[HttpRequest, Registration], str]


_provider: _Provider | None = None


def provide_with(
    *, ticket: Callable[[Registration], Ticket | None], section: Callable[[HttpRequest, Registration], str]
) -> None:
    """Use `ticket(registration) -> Ticket | None` (None: no valid ticket) for the emails and
    `section(request, registration) -> HTML` (empty: nothing to show) for the attendee's page."""
    global _provider
    _provider = _Provider(ticket, section)


def ticket_for(registration: Registration) -> Ticket | None:
    """The ticket of a confirmed registration, if an app provides tickets; None otherwise."""
    if _provider is None or registration.status != Registration.Status.CONFIRMED:
        return None
    return _provider.ticket(registration)


def page_section(request: HttpRequest, registration: Registration) -> str:
    """The HTML of the ticket's section on the attendee's page; empty without the app."""
    return _provider.section(request, registration) if _provider is not None else ""
