"""Every organiser's write to the programme goes through here, so each one raises the
conference's content version (which makes the cached pages and exports stale at once)
and each move or cancellation of a session is announced with `session_changed`."""

from django.db import transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Now
from django.utils.translation import gettext as _
from modeltranslation.utils import get_translation_fields

from agenda.exceptions import NotABreak, SpansAllRooms
from agenda.models import Conference, Session, SessionSpeaker
from agenda.signals import session_changed
from agenda.translation import original

# What people booked on a session are told about.
ANNOUNCED_FIELDS = ("start", "end", "room", "status")
# What a calendar entry shows (calendar.build_calendar), in any language: a change raises its SEQUENCE.
CALENDAR_FIELDS = (*get_translation_fields("title", "abstract"), "code", "kind", "start", "end", "room", "status")
EMPTY = (None, "")
# Programme content in every language, which copies of a session carry.
CONTENT_FIELDS = get_translation_fields("title", "abstract", "description")


def bump_content_version(conference_id: int) -> None:
    """Make every cached page and export of the conference stale: they are keyed by its
    content version. Also moves `updated_at`, their Last-Modified. A single UPDATE with
    F(), so concurrent edits never lose a bump."""
    Conference.objects.filter(pk=conference_id).update(content_version=F("content_version") + 1, updated_at=Now())


@transaction.atomic
def save_session(session: Session) -> Session:
    """Save an organiser's new or changed session.

    Locks the stored row to compare against it: a change to what calendars show raises
    `sequence`; a change of start, end, room or status sends `session_changed` (inside
    this transaction, so listeners write in it) with `changes={field: (old, new)}`.
    Clashes are not refused here; `selectors.find_clashes` reports them.
    """
    previous = Session.objects.select_for_update().filter(pk=session.pk).order_by("pk").first() if session.pk else None
    changes = {}
    if previous is not None:
        if any(_differs(previous, session, name) for name in CALENDAR_FIELDS):
            session.sequence = previous.sequence + 1
        changes = {
            name: (getattr(previous, name), getattr(session, name))
            for name in ANNOUNCED_FIELDS
            if _differs(previous, session, name)
        }
    session.save()
    bump_content_version(session.conference_id)
    if changes:
        session_changed.send(sender=Session, session=session, changes=changes)
    return session


@transaction.atomic
def delete_session(session: Session) -> None:
    """Delete a session nobody has booked (bookings protect it: ProtectedError)."""
    session.delete()
    bump_content_version(session.conference_id)


@transaction.atomic
def cancel_sessions(sessions: QuerySet[Session]) -> list[Session]:
    """Cancel the given sessions that are not cancelled yet; returns them. They stay in
    the programme, struck through. Locks them in primary-key order."""
    cancelled = []
    # A fresh query: the caller's may join rooms, and a row lock cannot cross an outer join.
    chosen = Session.objects.filter(pk__in=list(sessions.values_list("pk", flat=True)))
    for session in chosen.exclude(status=Session.Status.CANCELLED).select_for_update().order_by("pk"):
        session.status = Session.Status.CANCELLED
        cancelled.append(save_session(session))
    return cancelled


@transaction.atomic
def duplicate_session(session: Session) -> Session:
    """A copy of the session with its speakers, under a new code and guid, confirmed and
    at the same time and place: the organiser then moves it (the clash says so)."""
    speakers = list(session.session_speakers.all())
    copy = Session.objects.get(pk=session.pk)
    copy.pk = None
    copy.guid = Session._meta.get_field("guid").get_default()
    copy.code = _free_code(session.conference_id, session.code)
    copy.status = Session.Status.CONFIRMED
    copy.sequence = 0
    copy.save()
    SessionSpeaker.objects.bulk_create(
        SessionSpeaker(session=copy, speaker_id=link.speaker_id, role=link.role, position=link.position)
        for link in speakers
    )
    bump_content_version(session.conference_id)
    return copy


@transaction.atomic
def copy_break_to_all_rooms(session: Session) -> list[Session]:
    """Copies of a break into every other room of its conference that has no session at
    that very time and title yet, so the break shows in each room's column. Returns the
    copies. Raises NotABreak or SpansAllRooms (a break without a room is in all already)."""
    if session.kind != Session.Kind.BREAK:
        raise NotABreak(_("“%(title)s” is not a break.") % {"title": session.title})
    if session.room_id is None:
        raise SpansAllRooms(_("“%(title)s” already spans all rooms.") % {"title": session.title})
    same_title = {original("title"): getattr(session, original("title"))}
    taken = Session.objects.filter(
        conference_id=session.conference_id, start=session.start, end=session.end, **same_title
    ).values_list("room_id", flat=True)
    rooms = session.conference.rooms.exclude(pk__in=taken).order_by("position", "name")
    copies = []
    for room in rooms:
        copy = Session(
            conference_id=session.conference_id,
            code=_free_code(session.conference_id, session.code),
            kind=session.kind,
            start=session.start,
            end=session.end,
            room=room,
            track_id=session.track_id,
            language=session.language,
            **{name: getattr(session, name) for name in CONTENT_FIELDS},
        )
        copy.save()
        copies.append(copy)
    if copies:
        bump_content_version(session.conference_id)
    return copies


def _differs(previous: Session, session: Session, name: str) -> bool:
    # Compares ids, not related objects, so an unchanged room costs no query. A translation
    # never given is NULL, one cleared in a form is "": both are none.
    attname = Session._meta.get_field(name).attname
    old, new = getattr(previous, attname), getattr(session, attname)
    return old != new and not (old in EMPTY and new in EMPTY)


def _free_code(conference_id: int, code: str) -> str:
    """The first of code-2, code-3 ... that the conference has not used, within 20 characters."""
    base = code[:15]
    used = set(
        Session.objects.filter(conference_id=conference_id, code__startswith=f"{base}-").values_list("code", flat=True)
    )
    number = 2
    while f"{base}-{number}" in used:
        number += 1
    return f"{base}-{number}"
