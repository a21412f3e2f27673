"""Every organiser's write to the programme goes through here, so each one raises the
conference's content version (which makes the cached pages and exports stale at once),
and each change that reaches attendees is announced (agenda/events.py lists who acts on
it): a moved, re-roomed or cancelled session as SESSION_CHANGED (registration emails the
people booked on it), more places or seats as CAPACITY_RAISED (registration gives them to
those waiting, in order, and emails them).

Lock order, the same as registration's (registration/services.py): the conference row
first, then sessions by primary key. Each function here starts with
`bump_content_version`, whose UPDATE takes the conference row's lock, before it touches a
session or room; so an organiser's edit and an attendee's registration for the same
conference queue one behind the other instead of deadlocking.
"""

from django.db import transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Now
from django.utils.translation import gettext as _
from modeltranslation.utils import get_translation_fields

from agenda import caching, events
from agenda.exceptions import NotABreak, SpansAllRooms
from agenda.models import Conference, Room, Session, SessionSpeaker
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
    content version (and the cached conference, which says which version is current, is
    forgotten). Also moves `updated_at`, their Last-Modified. A single UPDATE with F(), so
    concurrent edits never lose a bump.

    The UPDATE locks the conference row (FOR NO KEY UPDATE, the mode registration's
    `select_for_update(no_key=True)` takes) until the transaction ends: callers that go
    on to lock sessions or rooms call this first."""
    Conference.objects.filter(pk=conference_id).update(content_version=F("content_version") + 1, updated_at=Now())
    caching.forget_conference(conference_id)


@transaction.atomic
def save_conference(conference: Conference) -> Conference:
    """Save an organiser's new or changed conference.

    Locks the stored row first and reads its places, cancellation and content version
    under the lock (the version an edit form loaded may be stale; it is never written
    back). Announces CAPACITY_RAISED when the places rose or a cancellation was called off
    (registration then promotes those waiting and emails them).
    """
    previous = (
        Conference.objects.select_for_update(no_key=True)
        .filter(pk=conference.pk)
        .values("capacity", "is_cancelled", "content_version", "slug")
        .first()
        if conference.pk
        else None
    )
    if previous is not None:
        conference.content_version = previous["content_version"]
    conference.save()
    bump_content_version(conference.pk)
    if previous is not None and previous["slug"] != conference.slug:
        # The old address must stop answering at once.
        caching.forget_conference(conference.pk, previous["slug"])
    if (
        previous is not None
        and not conference.is_cancelled
        and (previous["is_cancelled"] or _rose(previous["capacity"], conference.capacity))
    ):
        events.announce(events.CAPACITY_RAISED, conference_id=conference.pk)
    return conference


@transaction.atomic
def save_room(room: Room) -> Room:
    """Save an organiser's new or changed room.

    Locks the conference row, then the stored room to compare against it; announces
    CAPACITY_RAISED when the room's capacity rose (sessions without seats of their own
    take the room's; registration then seats those waiting and emails them).
    """
    bump_content_version(room.conference_id)
    previous = (
        Room.objects.select_for_update().filter(pk=room.pk).values_list("capacity", flat=True).first()
        if room.pk
        else None
    )
    room.save()
    if _rose(previous, room.capacity):
        events.announce(events.CAPACITY_RAISED, conference_id=room.conference_id)
    return room


@transaction.atomic
def save_session(session: Session) -> Session:
    """Save an organiser's new or changed session.

    Locks the conference row, then the stored session to compare against it: a change to
    what calendars show raises `sequence`; a change of start, end, room or status is
    announced as SESSION_CHANGED (registration emails the people booked on it) with
    `changes={field: (old, new)}`; more seats on a session with sign-up (its own number,
    or a roomier room) as CAPACITY_RAISED (registration seats those waiting). Clashes are not refused here;
    `selectors.find_clashes` reports them.
    """
    bump_content_version(session.conference_id)
    previous = (
        Session.objects.select_for_update(of=("self",)).select_related("room").filter(pk=session.pk).first()
        if session.pk
        else None
    )
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
    if changes:
        events.announce(events.SESSION_CHANGED, session=session, changes=changes)
    if previous is not None and session.kind in Session.BOOKABLE_KINDS and _rose(previous.seats, session.seats):
        events.announce(events.CAPACITY_RAISED, conference_id=session.conference_id)
    return session


@transaction.atomic
def delete_session(session: Session) -> None:
    """Delete a session nobody has booked (bookings protect it: ProtectedError). Locks the
    conference row first."""
    bump_content_version(session.conference_id)
    session.delete()


@transaction.atomic
def cancel_sessions(sessions: QuerySet[Session]) -> list[Session]:
    """Cancel the given sessions that are not cancelled yet; returns them. They stay in
    the programme, struck through. Locks their conference rows, then the sessions, each in
    primary-key order."""
    cancelled = []
    # A fresh query: the caller's may join rooms, and a row lock cannot cross an outer join.
    chosen = Session.objects.filter(pk__in=list(sessions.values_list("pk", flat=True)))
    for conference_id in sorted(set(chosen.values_list("conference_id", flat=True))):
        bump_content_version(conference_id)
    for session in chosen.exclude(status=Session.Status.CANCELLED).select_for_update().order_by("pk"):
        session.status = Session.Status.CANCELLED
        cancelled.append(save_session(session))
    return cancelled


@transaction.atomic
def duplicate_session(session: Session) -> Session:
    """A copy of the session with its speakers, under a new code and guid, confirmed and
    at the same time and place: the organiser then moves it (the clash says so). Locks
    the conference row first."""
    bump_content_version(session.conference_id)
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
    return copy


@transaction.atomic
def copy_break_to_all_rooms(session: Session) -> list[Session]:
    """Copies of a break into every other room of its conference that has no session at
    that very time and title yet, so the break shows in each room's column. Returns the
    copies. Raises NotABreak or SpansAllRooms (a break without a room is in all already).
    Locks the conference row first."""
    if session.kind != Session.Kind.BREAK:
        raise NotABreak(_("“%(title)s” is not a break.") % {"title": session.title})
    if session.room_id is None:
        raise SpansAllRooms(_("“%(title)s” already spans all rooms.") % {"title": session.title})
    bump_content_version(session.conference_id)
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
    return copies


def _rose(old: int | None, new: int | None) -> bool:
    # None is no limit: a number raised, or a limit lifted.
    return old is not None and (new is None or new > old)


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
