"""Reads that several callers share: the public programme, seats left and clashes.

Each runs a fixed number of queries, whatever the number of sessions.
"""

import datetime
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from agenda.models import Conference, Room, Session, SessionSpeaker, Speaker, Track


def conferences_for_listing() -> tuple[QuerySet[Conference], QuerySet[Conference]]:
    """Published conferences: (upcoming soonest first, past most recent first)."""
    today = timezone.localdate()
    published = Conference.objects.published()
    return (
        published.filter(end_date__gte=today).order_by("start_date"),
        published.filter(end_date__lt=today).order_by("-start_date"),
    )


def local_date(moment: datetime.datetime, tz: datetime.tzinfo) -> datetime.date:
    return moment.astimezone(tz).date()


@dataclass
class SpeakerEntry:
    """A speaker with the sessions they take part in, in time order."""

    speaker: Speaker
    appearances: list[SessionSpeaker] = field(default_factory=list)


class Programme:
    """A conference's whole programme, loaded in two queries and sliced in memory by the
    pages and exports: sessions in time order with room, track and speakers in order."""

    def __init__(self, conference: Conference, sessions: list[Session]) -> None:
        self.conference = conference
        self.sessions = sessions
        self.tz = conference.tz

    @cached_property
    def _by_code(self) -> dict[str, Session]:
        return {session.code: session for session in self.sessions}

    def session(self, code: str) -> Session | None:
        return self._by_code.get(code)

    def day_of(self, session: Session) -> datetime.date:
        return local_date(session.start, self.tz)

    @cached_property
    def days(self) -> list[datetime.date]:
        """The conference's days, and any day a session falls on outside them (pre-events)."""
        conference = self.conference
        span = (conference.end_date - conference.start_date).days + 1
        days = {conference.start_date + datetime.timedelta(days=offset) for offset in range(span)}
        days.update(self.day_of(session) for session in self.sessions)
        return sorted(days)

    @cached_property
    def _sessions_by_day(self) -> dict[datetime.date, list[Session]]:
        by_day = defaultdict(list)
        for session in self.sessions:
            by_day[self.day_of(session)].append(session)
        return by_day

    def sessions_on(self, day: datetime.date) -> list[Session]:
        return self._sessions_by_day.get(day, [])

    @cached_property
    def rooms(self) -> list[Room]:
        """The rooms sessions take place in, in the organisers' order."""
        rooms = {session.room_id: session.room for session in self.sessions if session.room_id}
        return sorted(rooms.values(), key=lambda room: (room.position, room.name))

    @cached_property
    def kinds(self) -> set[str]:
        return {session.kind for session in self.sessions}

    @cached_property
    def tracks(self) -> list[Track]:
        tracks = {session.track_id: session.track for session in self.sessions if session.track_id}
        return sorted(tracks.values(), key=lambda track: track.name)

    def parallel_to(self, session: Session) -> list[Session]:
        """Sessions that overlap this one in time, in other rooms or the same."""
        return [
            other
            for other in self.sessions_on(self.day_of(session))
            if other.pk != session.pk and other.start < session.end and session.start < other.end
        ]

    @cached_property
    def speakers(self) -> list[SpeakerEntry]:
        """Everyone who appears in the programme, by name."""
        entries: dict[int, SpeakerEntry] = {}
        for session in self.sessions:
            for appearance in session.session_speakers.all():
                entry = entries.setdefault(appearance.speaker_id, SpeakerEntry(appearance.speaker))
                entry.appearances.append(appearance)
        return sorted(entries.values(), key=lambda entry: entry.speaker.name.casefold())

    def search(self, query: str) -> list[Session]:
        """Sessions whose title, abstract or speakers' names hold every word of `query`, as
        the reader sees them (their language, else the original), ignoring case and accents."""
        words = _folded(query).split()
        found = []
        for session in self.sessions:
            names = " ".join(appearance.speaker.name for appearance in session.session_speakers.all())
            text = _folded(f"{session.title} {session.abstract} {names}")
            if words and all(word in text for word in words):
                found.append(session)
        return found

    def speaker(self, code: str) -> SpeakerEntry | None:
        return next((entry for entry in self.speakers if entry.speaker.code == code), None)

    @cached_property
    def keynote_speakers(self) -> list[SpeakerEntry]:
        """Those who give a keynote that takes place; its moderator or chair does not."""
        return [
            entry
            for entry in self.speakers
            if any(
                appearance.session.kind == Session.Kind.KEYNOTE
                and appearance.role == SessionSpeaker.Role.SPEAKER
                and not appearance.session.is_cancelled
                for appearance in entry.appearances
            )
        ]


def _folded(text: str) -> str:
    """Text as a search compares it: lowercase, without accents (Bieńkowska, bienkowska)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def load_programme(conference: Conference) -> Programme:
    """The conference's programme in two queries: sessions (with room and track) and
    their speakers in order."""
    speakers = SessionSpeaker.objects.select_related("speaker").order_by("position", "id")
    sessions = list(
        conference.sessions.select_related("room", "track")
        .prefetch_related(Prefetch("session_speakers", queryset=speakers))
        .order_by("start", "room__position", "room__name", "title")
    )
    return Programme(conference, sessions)


@dataclass(frozen=True)
class Clash:
    """Something an organiser should look at in a session; a warning, never a refusal."""

    ROOM = "room"
    SPEAKER = "speaker"
    OUTSIDE_DAYS = "outside_days"
    OVER_CAPACITY = "over_capacity"

    kind: str
    message: str


def find_clashes(conference_ids: Iterable[int]) -> dict[int, list[Clash]]:
    """Clashes in the confirmed sessions of the given conferences, by session id, in two
    queries: two sessions in one room at once (a session without a room takes them all),
    a speaker in two places at once, a session outside the conference days, and seats
    above the room's capacity."""
    confirmed = Session.objects.filter(conference_id__in=list(conference_ids), status=Session.Status.CONFIRMED)
    sessions = list(
        confirmed.select_related("room", "conference")
        .only(
            "title",
            "kind",
            "start",
            "end",
            "capacity",
            "room__name",
            "room__capacity",
            "conference__timezone",
            "conference__start_date",
            "conference__end_date",
        )
        .order_by("start", "pk")
    )
    appearances = SessionSpeaker.objects.filter(session__in=confirmed).values_list(
        "session_id", "speaker_id", "speaker__name"
    )
    clashes: dict[int, list[Clash]] = defaultdict(list)

    by_conference = defaultdict(list)
    for session in sessions:
        by_conference[session.conference_id].append(session)
        _check_days_and_capacity(session, clashes)
    for conference_sessions in by_conference.values():
        for first, second in _overlapping_pairs(conference_sessions):
            if first.room_id == second.room_id or first.room_id is None or second.room_id is None:
                _add_pair(clashes, Clash.ROOM, first, second, _room_clash_message)

    by_id = {session.pk: session for session in sessions}
    by_speaker = defaultdict(list)
    for session_id, speaker_id, speaker_name in appearances:
        by_speaker[speaker_id, speaker_name].append(by_id[session_id])
    for (_speaker_id, speaker_name), speaker_sessions in by_speaker.items():
        speaker_sessions.sort(key=lambda session: (session.start, session.pk))
        for first, second in _overlapping_pairs(speaker_sessions):
            _add_pair(
                clashes,
                Clash.SPEAKER,
                first,
                second,
                lambda other, _session, name=speaker_name: (
                    _("%(speaker)s is also in “%(title)s” at %(when)s.")
                    % {"speaker": name, "title": other.title, "when": _when(other)}
                ),
            )
    return dict(clashes)


def _overlapping_pairs(sessions: list[Session]) -> Iterable[tuple[Session, Session]]:
    """Pairs of sessions (given sorted by start) that overlap in time: a sweep that keeps
    only the sessions still running, so it costs the number of overlaps, not n²."""
    running: list[Session] = []
    for session in sessions:
        running = [other for other in running if other.end > session.start]
        for other in running:
            yield other, session
        running.append(session)


def _add_pair(clashes, kind: str, first: Session, second: Session, message) -> None:
    clashes[first.pk].append(Clash(kind, message(second, first)))
    clashes[second.pk].append(Clash(kind, message(first, second)))


def _room_clash_message(other: Session, session: Session) -> str:
    if session.room_id is None:
        return _("Spans all rooms while “%(title)s” runs at %(when)s.") % {"title": other.title, "when": _when(other)}
    if other.room_id is None:
        return _("“%(title)s” spans all rooms at %(when)s.") % {"title": other.title, "when": _when(other)}
    return _("%(room)s is also taken by “%(title)s” at %(when)s.") % {
        "room": session.room.name,
        "title": other.title,
        "when": _when(other),
    }


def _when(session: Session) -> str:
    tz = session.conference.tz
    start, end = session.start.astimezone(tz), session.end.astimezone(tz)
    return f"{date_format(start, 'D j M H:i')}–{date_format(end, 'H:i')} {end.tzname()}"


def _check_days_and_capacity(session: Session, clashes: dict[int, list[Clash]]) -> None:
    conference = session.conference
    tz = conference.tz
    # A session that ends at midnight ends on the day before.
    first_day = local_date(session.start, tz)
    last_day = local_date(session.end - datetime.timedelta(microseconds=1), tz)
    # Parallel pre-events belong to the eve of the conference, the day before it opens.
    earliest = conference.start_date - datetime.timedelta(days=1 if session.kind == Session.Kind.PRE_EVENT else 0)
    if first_day < earliest or last_day > conference.end_date:
        clashes[session.pk].append(
            Clash(
                Clash.OUTSIDE_DAYS,
                _("Takes place outside the conference days (%(first)s to %(last)s).")
                % {
                    "first": date_format(conference.start_date, "j M Y"),
                    "last": date_format(conference.end_date, "j M Y"),
                },
            )
        )
    room = session.room if session.room_id else None
    if session.capacity is not None and room and room.capacity is not None and session.capacity > room.capacity:
        clashes[session.pk].append(
            Clash(
                Clash.OVER_CAPACITY,
                _("%(seats)d seats, but %(room)s holds %(capacity)d.")
                % {"seats": session.capacity, "room": room.name, "capacity": room.capacity},
            )
        )
