"""Registration's answers to changes made in the agenda, which does not know about registrations.

When an organiser raises a conference's places, or a session's seats (its own or its
room's), the people waiting get them. The conference edit is answered inside the
organiser's transaction: it already holds the conference row, so locking the sessions
after it keeps the fixed order. A session or room edit has locked that row before the
conference, so it is answered just after it commits, in a transaction of its own that
takes the locks in the usual order.
"""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from agenda.models import Conference, Room, Session
from agenda.signals import session_changed
from registration import services
from registration.notifications import notify_session_change

# Moved and cancelled sessions: the people booked on them are told.
session_changed.connect(notify_session_change, dispatch_uid="registration.notify_session_change")


@receiver(post_save, sender=Conference, dispatch_uid="registration.conference_saved")
def conference_saved(sender, instance: Conference, created: bool, raw: bool, **kwargs) -> None:
    if not (created or raw):
        services.promote_waitlist(instance)


@receiver(post_save, sender=Session, dispatch_uid="registration.session_saved")
def session_saved(sender, instance: Session, created: bool, raw: bool, **kwargs) -> None:
    if not (created or raw) and instance.kind in Session.BOOKABLE_KINDS:
        _promote_after_commit(instance.conference_id)


@receiver(post_save, sender=Room, dispatch_uid="registration.room_saved")
def room_saved(sender, instance: Room, created: bool, raw: bool, **kwargs) -> None:
    if not (created or raw) and instance.sessions.filter(kind__in=Session.BOOKABLE_KINDS).exists():
        _promote_after_commit(instance.conference_id)


def _promote_after_commit(conference_id: int) -> None:
    def promote() -> None:
        conference = Conference.objects.filter(pk=conference_id).first()
        if conference is not None:
            services.promote_waitlist(conference)

    transaction.on_commit(promote, robust=True)
