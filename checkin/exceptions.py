"""What the check-in refuses, in words the person at the door can act on.

Views and the offline sync turn these into the red result; none leaves anything recorded.
"""

from django.utils.translation import gettext_lazy as _


class CheckInRefused(Exception):
    """Base of every refusal; `message` is shown at the door, `code` tells scripts which."""

    code = "refused"
    default_message = _("This person cannot be checked in.")

    def __init__(self, message: str | None = None, *, registration=None) -> None:
        self.message = message or self.default_message
        # The registration refused, when there is one, for the red result to name.
        self.registration = registration
        super().__init__(str(self.message))


class UnknownTicket(CheckInRefused):
    code = "unknown_ticket"
    default_message = _("Not registered: this ticket is not known here.")


class OtherConference(CheckInRefused):
    code = "other_conference"
    default_message = _("This ticket is for another conference.")


class NotConfirmed(CheckInRefused):
    """The registration is not (or no longer) confirmed: waitlisted, pending, cancelled, rejected."""

    code = "not_confirmed"


class NotBooked(CheckInRefused):
    code = "not_booked"
    default_message = _("No confirmed seat on this session.")


class AlreadyCheckedIn(CheckInRefused):
    """Someone checked this person in at this door before; `check_in` is that check-in."""

    code = "already_checked_in"

    def __init__(self, message: str, *, check_in, registration) -> None:
        super().__init__(message, registration=registration)
        self.check_in = check_in


class UnknownDoor(CheckInRefused):
    code = "unknown_door"
    default_message = _("There is no such day or session to check in to.")


class UndoRefused(CheckInRefused):
    code = "undo_refused"
    default_message = _("This check-in can no longer be undone: undo works for one minute.")
