"""What the voting services refuse, in words a voter or moderator can act on.

Every one is raised before anything is written, or inside the transaction it rolls back:
a refused vote counts for nothing.
"""

from django.utils.translation import gettext_lazy as _


class VotingError(Exception):
    """Base of every refusal; `message` is shown to the person who asked."""

    default_message = _("This request could not be completed.")

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(str(self.message))


class NotAllowed(VotingError):
    """The person may not vote or ask in this session."""

    default_message = _("Only confirmed attendees, or people with the session's join code, can take part here.")


class PollNotOpen(VotingError):
    default_message = _("This poll is not open for votes; nothing was counted.")


class AlreadyVoted(VotingError):
    default_message = _("You have already voted in this poll, and its votes cannot be changed.")


class InvalidAnswer(VotingError):
    """The answer does not fit the poll: an option of another poll, too many choices, bad text."""

    default_message = _("This answer does not fit the poll; nothing was counted.")


class InvalidTransition(VotingError):
    """The poll's or question's state does not allow this step."""

    default_message = _("This poll's state does not allow that.")


class QuestionsClosed(VotingError):
    default_message = _("This session does not take questions now.")
