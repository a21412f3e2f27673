"""Registration's answers to changes made in the agenda, which does not know about registrations.

Both signals arrive inside the organiser's transaction, after the agenda's services have
locked the conference row (and the session they change): the answers lock in the same
order, conference then sessions, so they are part of the organiser's change and commit
or roll back with it.
"""

from agenda.models import Conference
from agenda.signals import capacity_raised, session_changed
from registration import services
from registration.notifications import notify_session_change

# Moved and cancelled sessions: the people booked on them are told.
session_changed.connect(notify_session_change, dispatch_uid="registration.notify_session_change")


def promote_on_capacity_raised(sender: object, *, conference_id: int, **kwargs: object) -> None:
    """More places or seats: the people waiting for them get them, in order."""
    services.promote_waitlist(Conference.objects.get(pk=conference_id))


capacity_raised.connect(promote_on_capacity_raised, dispatch_uid="registration.promote_on_capacity_raised")
