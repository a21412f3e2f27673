"""What the registration services refuse, in words an attendee or organiser can act on.

Views turn these into form errors or messages; none of them leaves anything half-saved,
because every service raises before it writes or inside the transaction it rolls back.
"""

from django.utils.translation import gettext_lazy as _


class RegistrationError(Exception):
    """Base of every refusal; `message` is shown to the person who asked."""

    default_message = _("This request could not be completed.")

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(str(self.message))


class RegistrationUnavailable(RegistrationError):
    """The conference is unpublished or cancelled: as far as attendees know, it does not exist."""

    default_message = _("This conference does not take registrations.")


class RegistrationClosed(RegistrationError):
    """Outside the registration window."""

    default_message = _("Registration is closed.")


class ChangesClosed(RegistrationError):
    """The conference has begun: attendees can no longer change or cancel by themselves."""

    default_message = _("The conference has begun, so the registration can no longer be changed here.")


class AlreadyRegistered(RegistrationError):
    """The user already holds a live registration (a double submit, a second tab)."""

    default_message = _("You are already registered for this conference; nothing was changed.")

    def __init__(self, registration, message: str | None = None) -> None:
        self.registration = registration
        super().__init__(message)


class InvalidSessionChoice(RegistrationError):
    """A chosen session is not a bookable session of this conference."""

    default_message = _("One of the chosen pre-events cannot be booked for this conference.")


class OverlappingSessions(RegistrationError):
    """Two chosen sessions run at the same time."""

    default_message = _("Two of the chosen pre-events run at the same time; choose one of them.")


class PrivacyStatementChanged(RegistrationError):
    """The statement the attendee agreed to is not the conference's current one."""

    default_message = _("The privacy statement has changed since the form was opened; read it and agree again.")


class InvalidTransition(RegistrationError):
    """The registration's status does not allow this step (e.g. approving a cancelled one)."""

    default_message = _("This registration's status does not allow that.")
