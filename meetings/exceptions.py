"""What the meetings services refuse, in words a participant or organiser can act on.

Each refusal carries the HTTP status its page answers with. Every service raises before
it writes, or inside the transaction it rolls back, so a refusal changes nothing.
"""

from django.utils.translation import gettext_lazy as _


class MeetingError(Exception):
    """Base of every refusal; `message` is shown to the person who asked."""

    default_message = _("This request could not be completed.")
    status = 409

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(str(self.message))


class NotAParticipant(MeetingError):
    """Only confirmed attendees who opted in take part."""

    default_message = _("Bilateral meetings are for confirmed attendees who have opted in.")
    status = 403


class ProfileNotApproved(NotAParticipant):
    """The organisers approve profiles, and this one waits for (or did not get) their approval."""

    default_message = _("The organisers approve meetings profiles; you can ask for meetings once yours is approved.")


class NotFound(MeetingError):
    """Someone or something of another conference, someone not listed, or a request not one's own."""

    default_message = _("There is nobody or nothing like that in this conference's meetings.")
    status = 404


class CannotAskYourself(MeetingError):
    default_message = _("You cannot ask yourself for a meeting.")
    status = 400


class BlockCancelled(MeetingError):
    default_message = _("These bilateral meetings are cancelled.")


class OutsideWindow(MeetingError):
    """Requests are sent between the block's opening and closing times, answers before it starts."""

    default_message = _("Meeting requests cannot be sent at this time.")
    status = 403


class TooManyOpenRequests(MeetingError):
    default_message = _("You have as many unanswered requests as allowed; wait for answers or cancel one.")


class CapReached(MeetingError):
    default_message = _("One of you already has as many meetings as allowed in this block.")


class AlreadyAsked(MeetingError):
    """A live request between the two already exists (a double submit, or they asked first)."""

    default_message = _("There is already a request between you two for this block; nothing was changed.")


class AlreadyAnswered(MeetingError):
    """The request is no longer waiting (answered, cancelled or expired)."""

    default_message = _("This request is no longer waiting for an answer; nothing was changed.")


class InvalidSlot(MeetingError):
    default_message = _("Choose one of the listed times.")
    status = 400


class SlotTaken(MeetingError):
    """Under contention: someone else took the slot or its last table a moment ago."""

    default_message = _("That time was just taken. Choose one of the times still free.")

    def __init__(self, free_slots: list, message: str | None = None) -> None:
        self.free_slots = free_slots
        super().__init__(message)
