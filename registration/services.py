"""Every write to registrations, bookings and their history.

The locking contract, the same in every function here: one transaction; the conference
row is locked first (`select_for_update(no_key=True)`: the agenda's services lock it in
that mode too, before they touch a session, so an organiser's edit and a registration
run one after the other instead of deadlocking), then the sessions whose seats are
counted, in one query ordered by primary key; then places and seats are checked and the
change is written. Because every writer takes the conference lock first, the writes to one
conference's registrations happen one at a time and no count can race, while other
conferences are untouched. The conference's registration numbers and places come with the
locked row itself: counters that PostgreSQL keeps from the registrations in the same
statement that changes one (triggers; see agenda.Conference), so nothing is recounted and
nothing is counted in Python or Redis. Seats are recounted from the bookings. The unique
constraints on the tables stand behind the locks. The locks
are of the no-key kind, which an UPDATE takes: they exclude each other, but not the
inserts that merely refer to the rows (a staff member's export record, an organiser's new
session), which would otherwise queue behind every registration waiting for the conference.

Waiting lists, for the conference and for each session with sign-up, are served in order
(by the time the registration or booking took its status, then by id) inside the
transaction that frees a place. Bookings of a registration that is not confirmed wait
and hold no seat; they join their sessions' queues the moment the registration is confirmed.

Every outcome is written to the history (RegistrationChange) and, through
`registration.notifications.notify`, to the outbox in the same transaction.

Deleting an account erases its registrations through `erase_registrations`, which
accounts.personal_data calls with every other app's part; the end of a conference's
retention period erases them through `erase_registration_data` (registration.privacy).
Consents are given and withdrawn here too: the flags on the registration that the
badges and the messages read change only with a Consent row that records it.
"""

import datetime as dt
import itertools
from collections.abc import Collection, Iterable
from typing import Any, NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.personal_data import erase_admin_log
from agenda import events
from agenda.models import Conference, Session
from registration import selectors
from registration.exceptions import (
    AlreadyRegistered,
    ChangesClosed,
    InvalidSessionChoice,
    InvalidTransition,
    OverlappingSessions,
    PrivacyStatementChanged,
    RegistrationClosed,
    RegistrationUnavailable,
)
from registration.models import (
    CONSENT_TEXTS,
    Booking,
    Consent,
    ProgrammeFeed,
    Registration,
    RegistrationChange,
    User,
)
from registration.notifications import notify

# Erased when an account is deleted; what is left (status, country, organisation type,
# bookings, dates) still counts in the figures without naming anyone.
PERSONAL_FIELDS = (
    "given_name",
    "family_name",
    "organisation",
    "job_title",
    "dietary_requirements",
    "accessibility_needs",
)

# The constraint that keeps a user to one live registration per conference.
ONE_LIVE = "one_live_registration_per_user_and_conference"

Action = RegistrationChange.Action
Status = Registration.Status


def register(
    user: User,
    conference: Conference,
    *,
    details: dict[str, Any],
    session_ids: Iterable[int],
    privacy_statement: str,
    consents: Collection[str] = (),
) -> Registration:
    """Register `user` for `conference` with the attendee's `details` and chosen sessions.

    `privacy_statement` is the text the attendee saw and agreed to (selectors.privacy_statement);
    it is stored with the time, as their consent for that purpose; `consents` are the optional
    purposes they ticked (Consent.Purpose.PHOTOS, MESSAGES), recorded in the words the form
    showed. The registration is confirmed while places are left and nobody waits, else put
    on the waiting list; where the conference requires approval it is pending. Each
    chosen session gets a seat if one is free and the registration is confirmed, else
    a place in that session's queue.

    Locks the conference row, then the chosen sessions by primary key. Raises
    RegistrationUnavailable, RegistrationClosed, PrivacyStatementChanged,
    InvalidSessionChoice or OverlappingSessions before writing, and AlreadyRegistered
    (carrying the existing registration: a double submit never makes a second one) when
    the registration's row is refused; nothing is kept in any case.
    """
    chosen = set(session_ids)
    _check_optional(consents)
    try:
        with transaction.atomic():
            conference = _lock_conference(conference.pk)
            if not conference.is_published or conference.is_cancelled:
                raise RegistrationUnavailable
            state = conference.registration_state
            if not state.is_open:
                raise RegistrationClosed(state.message)
            if privacy_statement != selectors.privacy_statement(conference):
                raise PrivacyStatementChanged
            sessions = _lock_sessions(conference, chosen)
            _check_not_past(sessions)
            check_session_choice(sessions, chosen=chosen, already_booked=set())

            now = timezone.now()
            tally = _tally_as_locked(conference)
            registration = Registration.objects.create(
                conference=conference,
                user=user,
                number=tally.last_number + 1,
                status=_status_for_newcomer(conference, tally),
                privacy_statement_agreed=privacy_statement,
                privacy_agreed_at=now,
                created_at=now,
                status_changed_at=now,
                **{_CONSENT_FLAGS[purpose]: purpose not in consents for purpose in _CONSENT_FLAGS},
                **_only_details(details),
            )
            Consent.objects.bulk_create(
                [
                    Consent(registration=registration, purpose=purpose, text=text, given_at=now)
                    for purpose, text in [
                        (Consent.Purpose.PRIVACY, privacy_statement),
                        *((purpose, str(CONSENT_TEXTS[purpose])) for purpose in sorted(consents)),
                    ]
                ]
            )
            bookings = _queue_bookings(registration, sessions, now=now)
            seated = _fill_seats(sessions, now=now)
            seated_ids = {booking.pk for booking in seated}
            pre_events = {
                booking.session.code: (
                    Booking.Status.CONFIRMED if booking.pk in seated_ids else Booking.Status.WAITLISTED
                )
                for booking in bookings
            }
            _record(
                registration,
                Action.REGISTERED,
                actor=user,
                details={"status": registration.status, "pre_events": pre_events},
            )
            # Everyone waiting is ahead of a newcomer.
            _announce_outcome(registration, position=tally.waiting + 1)
            _announce_seats(seated, skip={registration.pk})
    except IntegrityError as error:
        # A second live registration is refused by its constraint when inserted: no query looks
        # for one first on every registration of a burst. Nothing of it is kept.
        if getattr(error.__cause__, "diag", None) is None or error.__cause__.diag.constraint_name != ONE_LIVE:
            raise
        raise AlreadyRegistered(Registration.objects.live().get(conference=conference, user=user)) from error
    return registration


def update_details(registration: Registration, *, details: dict[str, Any], actor: User) -> Registration:
    """Change the attendee's details (not status, not bookings); a no-op if nothing differs.

    The attendee may do so until the conference begins, organisers at any time. Locks the
    conference row. Raises ChangesClosed or InvalidTransition (not a live registration).
    """
    changes = _only_details(details)
    with transaction.atomic():
        _lock_conference(registration.conference_id)
        registration = _fresh(registration)
        _check_may_change(registration, actor)
        diff = {
            field: [selectors.json_value(getattr(registration, field)), selectors.json_value(value)]
            for field, value in changes.items()
            if getattr(registration, field) != value
        }
        if not diff:
            return registration
        for field, value in changes.items():
            setattr(registration, field, value)
        registration.save(update_fields=[*diff, "updated_at"])
        _record(registration, Action.DETAILS_CHANGED, actor=actor, details=diff)
        # The values before and after; the email names the fields in the attendee's language.
        notify(registration, "changed", extra_context={"changes": diff})
    return registration


def change_bookings(registration: Registration, *, session_ids: Iterable[int], actor: User) -> Registration:
    """Replace the registration's session choices with `session_ids`; a no-op if they are the same.

    Kept choices keep their seat or queue place; new ones get a free seat or join the
    queue; seats given up go at once to the next in those sessions' queues. The attendee
    may do so until the conference begins, organisers at any time; a session that has begun
    the attendee can no longer book, and their booking of it stays.

    Locks the conference row, then the old and new sessions by primary key. Raises
    ChangesClosed, InvalidTransition, InvalidSessionChoice or OverlappingSessions.
    """
    chosen = set(session_ids)
    with transaction.atomic():
        conference = _lock_conference(registration.conference_id)
        registration = _fresh(registration)
        _check_may_change(registration, actor)
        booked = dict(registration.bookings.values_list("session_id", "pk"))
        if chosen == set(booked):
            return registration
        sessions = _lock_sessions(conference, chosen | set(booked))
        by_id = {session.pk: session for session in sessions}
        if actor is not None and actor.pk == registration.user_id:
            # What took place stays as it was: the attendee keeps a past booking and books no past session.
            chosen |= {pk for pk in booked if by_id[pk].start <= timezone.now()}
            _check_not_past([by_id[pk] for pk in chosen - set(booked) if pk in by_id])
            if chosen == set(booked):
                return registration
        check_session_choice([s for s in sessions if s.pk in chosen], chosen=chosen, already_booked=set(booked))
        removed = [by_id[pk] for pk in sorted(set(booked) - chosen)]
        added = [by_id[pk] for pk in sorted(chosen - set(booked))]

        now = timezone.now()
        Booking.objects.filter(registration=registration, session__in=removed).delete()
        _queue_bookings(registration, added, now=now)
        seated = _fill_seats(sessions, now=now)
        registration.save(update_fields=["updated_at"])
        _record(
            registration,
            Action.BOOKINGS_CHANGED,
            actor=actor,
            details={
                "added": [session.code for session in added],
                "removed": [session.code for session in removed],
                "pre_events": _booking_summary(registration),
            },
        )
        notify(
            registration,
            "changed",
            extra_context={"added_sessions": added, "removed_sessions": removed},
        )
        _announce_seats(seated, skip={registration.pk})
    return registration


def cancel_registration(registration: Registration, *, actor: User | None) -> Registration:
    """Cancel a live registration and free its place and seats for the waiting lists.

    The next people waiting are promoted and told in the same transaction. The attendee
    may cancel until the conference begins, organisers at any time. Locks the conference
    row, then the sessions whose seats are freed or taken, by primary key. Raises
    ChangesClosed or InvalidTransition (already cancelled or rejected).
    """
    with transaction.atomic():
        conference = _lock_conference(registration.conference_id)
        registration = _fresh(registration)
        _check_may_change(registration, actor)
        _cancel(registration, conference, actor=actor)
        notify(registration, "cancelled")
    return registration


def promote_waitlist(*, conference_id: int, actor: User | None = None) -> list[Registration]:
    """Give every free place and seat of the conference to those waiting, in order; returns who got a place.

    Called wherever places may have appeared from outside this module: the agenda announces
    CAPACITY_RAISED when an organiser adds places or seats (agenda/events.py). Harmless when
    nothing is free. Locks the conference row, then the sessions with a queue, by primary key.
    """
    with transaction.atomic():
        conference = _lock_conference(conference_id)
        waiting_sessions = set(
            Booking.objects.filter(session__conference=conference, status=Booking.Status.WAITLISTED)
            .order_by()
            .values_list("session_id", flat=True)
            .distinct()
        )
        return _rebalance(conference, session_ids=waiting_sessions, actor=actor)


def approve_registration(registration: Registration, *, actor: User) -> Registration:
    """Approve a pending registration: confirmed if a place is free, else first in line behind those waiting.

    Its sessions then get seats or queue places as for a new confirmation. Locks the
    conference row, then its sessions by primary key. Raises InvalidTransition unless pending.
    """
    with transaction.atomic():
        conference = _lock_conference(registration.conference_id)
        registration = _fresh(registration)
        if registration.status != Status.PENDING:
            raise InvalidTransition(_("Only a registration pending approval can be approved."))
        now = timezone.now()
        _set_status(
            registration, _status_for_newcomer(conference, _tally_as_locked(conference), approved=True), now=now
        )
        seated = _seat_if_confirmed(registration, conference, now=now)
        _record(registration, Action.APPROVED, actor=actor, details={"status": registration.status})
        if registration.status == Status.CONFIRMED:
            notify(registration, "approved")
        else:
            notify(registration, "waitlisted", extra_context={"position": selectors.waitlist_position(registration)})
        _announce_seats(seated, skip={registration.pk})
    return registration


def reject_registration(registration: Registration, *, actor: User, reason: str) -> Registration:
    """Turn down a registration that holds no place (pending or waiting), with a reason the attendee is told.

    Its session choices are dropped; they held no seat. Locks the conference row. Raises
    InvalidTransition for a confirmed registration (cancel it instead) or a closed one.
    """
    with transaction.atomic():
        _lock_conference(registration.conference_id)
        registration = _fresh(registration)
        if registration.status not in (Status.PENDING, Status.WAITLISTED):
            raise InvalidTransition(_("Only a pending or waiting registration can be rejected; cancel confirmed ones."))
        registration.bookings.all().delete()
        _set_status(registration, Status.REJECTED, now=timezone.now())
        _record(registration, Action.REJECTED, actor=actor, details={"reason": reason})
        notify(registration, "rejected", extra_context={"reason": reason})
    return registration


def move_up(registration: Registration, *, actor: User) -> Registration:
    """An organiser's priority: a waiting registration is confirmed if a place is free, else put first in line.

    Capacity is never exceeded; to let the person in now, raise the capacity after
    moving them up. Locks the conference row (and the sessions, if confirmed). Raises
    InvalidTransition unless the registration is on the waiting list.
    """
    with transaction.atomic():
        conference = _lock_conference(registration.conference_id)
        registration = _fresh(registration)
        if registration.status != Status.WAITLISTED:
            raise InvalidTransition(_("Only a registration on the waiting list can be moved up."))
        now = timezone.now()
        if _tally_as_locked(conference).confirmed < conference.capacity:
            _set_status(registration, Status.CONFIRMED, now=now)
            seated = _seat_if_confirmed(registration, conference, now=now)
            _record(registration, Action.PROMOTED, actor=actor, details={"moved_up": True})
            notify(registration, "promoted")
            _announce_seats(seated, skip={registration.pk})
            return registration
        head = _waiting(conference).values_list("status_changed_at", flat=True).first()
        # Waiting order is by this time: just before the current head is first in line.
        registration.status_changed_at = min(head, registration.status_changed_at) - dt.timedelta(microseconds=1)
        registration.save(update_fields=["status_changed_at", "updated_at"])
        _record(registration, Action.MOVED_UP, actor=actor, details={"position": 1})
        notify(registration, "waitlisted", extra_context={"position": 1})
    return registration


# The registration's flag that each optional consent sets: True while it is not given.
_CONSENT_FLAGS = {Consent.Purpose.PHOTOS: "photo_opt_out", Consent.Purpose.MESSAGES: "essential_messages_only"}


def give_consent(registration: Registration, purpose: str) -> Registration:
    """Record the attendee's agreement to an optional `purpose` (photos, messages) in the words
    the pages show now, and act on it; a no-op while one is in force. Locks the registration row.
    Raises InvalidTransition once its personal data is erased."""
    _check_optional([purpose])
    with transaction.atomic():
        registration = _lock_registration(registration)
        if not registration.consents.filter(purpose=purpose, withdrawn_at=None).exists():
            Consent.objects.create(registration=registration, purpose=purpose, text=str(CONSENT_TEXTS[purpose]))
            _set_consent_flag(registration, purpose, given=True)
    return registration


def withdraw_consent(registration: Registration, purpose: str) -> Registration:
    """Withdraw the attendee's agreement to an optional `purpose` at once, recording the time;
    a no-op when none is in force. Locks the registration row. (Withdrawing the agreement to the
    privacy statement erases the registration: registration.privacy.withdraw_privacy_consent.)"""
    _check_optional([purpose])
    with transaction.atomic():
        registration = _lock_registration(registration)
        if Consent.objects.filter(registration=registration, purpose=purpose, withdrawn_at=None).update(
            withdrawn_at=timezone.now()
        ):
            _set_consent_flag(registration, purpose, given=False)
    return registration


def _check_optional(purposes: Iterable[str]) -> None:
    unknown = set(purposes) - set(_CONSENT_FLAGS)
    if unknown:
        raise ValueError(f"Not an optional consent: {sorted(unknown)}")


def _lock_registration(registration: Registration) -> Registration:
    locked = Registration.objects.select_for_update(no_key=True).select_related("conference").get(pk=registration.pk)
    if locked.personal_data_erased_at is not None:
        raise InvalidTransition(_("This registration's personal data has been erased."))
    return locked


def _set_consent_flag(registration: Registration, purpose: str, *, given: bool) -> None:
    setattr(registration, _CONSENT_FLAGS[purpose], not given)
    registration.save(update_fields=[_CONSENT_FLAGS[purpose], "updated_at"])


def erase_registrations(user: User) -> None:
    """Erase the personal data of `user`'s registrations, keeping the numbers: their part of
    deleting an account (accounts.personal_data, inside its transaction).

    Live registrations of conferences that have not ended are cancelled first (their
    places go to those waiting); all of the user's registrations then lose their names,
    organisation and free-text answers, and their history its details; the admin's log
    names them by id only. Status, country, organisation type and bookings stay for the
    figures. Locks each conference row in primary-key order, then sessions as
    `cancel_registration` does.
    """
    with transaction.atomic():
        registrations = list(user.registrations.order_by("conference_id", "pk"))
        for stale in registrations:
            conference = _lock_conference(stale.conference_id)
            registration = _fresh(stale)
            if registration.status in Registration.LIVE_STATUSES and not conference.has_ended:
                _cancel(registration, conference, actor=user)
        _erase([r.pk for r in registrations], action=Action.ANONYMISED)


def erase_registration_data(registration_ids: list[int]) -> None:
    """Erase the personal data of these registrations, keeping the numbers: registration's part
    of erasing a conference's registrations when its retention period ends or an attendee
    withdraws their agreement (accounts.personal_data.erase_registrations, inside its
    transaction). As `erase_registrations`, and their programme feeds go; the accounts stay,
    no longer linked to them. Takes no lock: these registrations are over or being erased
    by their owner."""
    ProgrammeFeed.objects.filter(
        user__registrations__in=registration_ids, conference__registrations__in=registration_ids
    ).delete()
    _erase(registration_ids, action=Action.ERASED)


def _erase(registration_ids: list[int], *, action: str) -> None:
    """Names, organisation and answers blank, the account unlinked, the history without its
    details (which quote old values), the admin's log naming them by id."""
    now = timezone.now()
    Registration.objects.filter(pk__in=registration_ids).update(
        user=None, updated_at=now, personal_data_erased_at=now, **dict.fromkeys(PERSONAL_FIELDS, "")
    )
    RegistrationChange.objects.filter(registration__in=registration_ids).update(details={})
    RegistrationChange.objects.bulk_create(
        RegistrationChange(registration_id=pk, action=action, created_at=now) for pk in registration_ids
    )
    erase_admin_log(Registration, registration_ids)


def check_session_choice(sessions: list[Session], *, chosen: set[int], already_booked: set[int]) -> None:
    """Refuse a choice of sessions unless all exist in the conference, take sign-ups (choices kept
    from before excepted) and do not overlap. Reads nothing: the services call it under lock,
    forms may call it first to show the error beside the field."""
    found = {session.pk for session in sessions}
    if found != chosen or any(not s.is_bookable for s in sessions if s.pk not in already_booked):
        raise InvalidSessionChoice
    ordered = sorted(sessions, key=lambda session: session.start)
    for earlier, later in itertools.pairwise(ordered):
        if selectors.runs_alongside(earlier, later):
            raise OverlappingSessions(
                _("“%(first)s” and “%(second)s” run at the same time; choose one of them.")
                % {"first": earlier.title, "second": later.title}
            )


# Internals. Each runs inside the caller's transaction, with the conference row locked.


def _check_not_past(sessions: list[Session]) -> None:
    if any(session.start <= timezone.now() for session in sessions):
        raise InvalidSessionChoice(_("One of the chosen pre-events has already begun; it can no longer be booked."))


def _lock_conference(conference_id: int) -> Conference:
    # Not a key update: rows that refer to the conference may still be added meanwhile.
    conference = Conference.objects.select_for_update(no_key=True).filter(pk=conference_id).first()
    if conference is None:  # deleted since a page read it (views read a cached copy)
        raise RegistrationUnavailable
    return conference


def _lock_sessions(conference: Conference, session_ids: set[int]) -> list[Session]:
    """Lock the conference's sessions among `session_ids`, in primary-key order, in one query."""
    if not session_ids:
        return []
    return list(
        Session.objects.select_for_update(of=("self",), no_key=True)
        .select_related("room")
        .filter(conference=conference, pk__in=session_ids)
        .order_by("pk")
    )


def _fresh(registration: Registration) -> Registration:
    """The registration as it is now, read under the conference lock."""
    return Registration.objects.select_related("conference", "user").get(pk=registration.pk)


def _check_may_change(registration: Registration, actor: User | None) -> None:
    if registration.status not in Registration.LIVE_STATUSES:
        raise InvalidTransition(_("This registration is no longer active."))
    by_attendee = actor is not None and actor.pk == registration.user_id
    if by_attendee and registration.conference.has_started:
        raise ChangesClosed


def _only_details(details: dict[str, Any]) -> dict[str, Any]:
    unknown = set(details) - set(Registration.DETAIL_FIELDS)
    if unknown:
        raise TypeError(f"Not attendee details: {sorted(unknown)}")
    return dict(details)


class Tally(NamedTuple):
    last_number: int
    confirmed: int
    waiting: int

    @property
    def anyone_waiting(self) -> bool:
        return self.waiting > 0


def _tally(conference: Conference) -> Tally:
    """The conference's last registration number, places taken and people waiting, as its
    counters hold them now (one row by primary key; the database keeps them with every
    change of a registration, see agenda.Conference), read with the conference lock held."""
    return Tally(
        *Conference.objects.filter(pk=conference.pk)
        .values_list("last_registration_number", "confirmed_registrations", "waiting_registrations")
        .get()
    )


def _tally_as_locked(conference: Conference) -> Tally:
    """The counters of the row _lock_conference just returned, before this transaction
    changed any registration: no query."""
    return Tally(
        conference.last_registration_number, conference.confirmed_registrations, conference.waiting_registrations
    )


def _status_for_newcomer(conference: Conference, tally: Tally, *, approved: bool = False) -> str:
    """Pending where approval is needed; confirmed while places are left and nobody is waiting for one."""
    if conference.requires_approval and not approved:
        return Status.PENDING
    if selectors.free(conference.capacity, tally.confirmed) and not tally.anyone_waiting:
        return Status.CONFIRMED
    return Status.WAITLISTED


def _waiting(conference: Conference):
    return Registration.objects.filter(conference=conference, status=Status.WAITLISTED).order_by(
        "status_changed_at", "id"
    )


def _set_status(registration: Registration, status: str, *, now: dt.datetime) -> None:
    registration.status = status
    registration.status_changed_at = now
    registration.save(update_fields=["status", "status_changed_at", "updated_at"])


def _queue_bookings(registration: Registration, sessions: list[Session], *, now: dt.datetime) -> list[Booking]:
    """New choices start in their sessions' queues; `_fill_seats` then seats whoever is first."""
    return Booking.objects.bulk_create(
        Booking(
            registration=registration,
            session=session,
            status=Booking.Status.WAITLISTED,
            created_at=now,
            status_changed_at=now,
        )
        for session in sessions
    )


def _fill_seats(sessions: list[Session], *, now: dt.datetime) -> list[Booking]:
    """Seat the first in each locked session's queue while seats are free; returns the bookings seated.

    Only bookings of confirmed registrations queue for a seat; the others wait for their
    registration to be confirmed.
    """
    if not sessions:
        return []
    taken = selectors.seats_taken([session.pk for session in sessions])
    seated = []
    for session in sessions:
        queue = (
            Booking.objects.filter(
                session=session, status=Booking.Status.WAITLISTED, registration__status=Status.CONFIRMED
            )
            .select_related("registration__conference", "registration__user")
            .order_by("status_changed_at", "id")
        )
        seats = selectors.free(session.seats, taken.get(session.pk, 0))
        if seats is not None:
            if not seats:
                continue
            queue = queue[:seats]
        for booking in queue:
            booking.session = session
            booking.status = Booking.Status.CONFIRMED
            booking.status_changed_at = now
            seated.append(booking)
    Booking.objects.bulk_update(seated, ["status", "status_changed_at"])
    return seated


def _seat_if_confirmed(registration: Registration, conference: Conference, *, now: dt.datetime) -> list[Booking]:
    """A registration just confirmed: its choices join their queues now and take the seats that are free."""
    if registration.status != Status.CONFIRMED:
        return []
    bookings = registration.bookings.all()
    session_ids = set(bookings.values_list("session_id", flat=True))
    if not session_ids:
        return []
    # Joining the queues at confirmation, not at registration, means nobody already
    # waiting for a seat ever moves down the list.
    bookings.update(status_changed_at=now)
    return _fill_seats(_lock_sessions(conference, session_ids), now=now)


def _cancel(registration: Registration, conference: Conference, *, actor: User | None) -> None:
    freed_sessions = set(registration.bookings.values_list("session_id", flat=True))
    summary = _booking_summary(registration)
    registration.bookings.all().delete()
    previous = registration.status
    _set_status(registration, Status.CANCELLED, now=timezone.now())
    _record(registration, Action.CANCELLED, actor=actor, details={"previous_status": previous, "pre_events": summary})
    _rebalance(conference, session_ids=freed_sessions, actor=None)
    # The apps built on registration (bilateral meetings) undo their part once this commits.
    events.announce_on_commit(events.REGISTRATION_CANCELLED, registration_id=registration.pk)


def _rebalance(conference: Conference, *, session_ids: set[int], actor: User | None) -> list[Registration]:
    """Give free places to the conference's waiting list and free seats to the sessions' queues, in order.

    Locks the given sessions and those of the people promoted, by primary key; records and
    announces each promotion. Returns the registrations promoted; nobody is promoted into
    a cancelled conference.
    """
    if conference.is_cancelled:
        return []
    now = timezone.now()
    places = selectors.free(conference.capacity, _tally(conference).confirmed)
    promoted = list(_waiting(conference).select_related("conference", "user")[:places]) if places else []
    for registration in promoted:
        _set_status(registration, Status.CONFIRMED, now=now)
    promoted_bookings = Booking.objects.filter(registration__in=promoted)
    session_ids = session_ids | set(promoted_bookings.values_list("session_id", flat=True))
    promoted_bookings.update(status_changed_at=now)
    seated = _fill_seats(_lock_sessions(conference, session_ids), now=now)
    for registration in promoted:
        _record(registration, Action.PROMOTED, actor=actor, details={"pre_events": _booking_summary(registration)})
        notify(registration, "promoted")
    _announce_seats(seated, skip={registration.pk for registration in promoted})
    return promoted


def _announce_seats(seated: list[Booking], *, skip: set[int]) -> None:
    """Record and tell each seat given from a queue, except to registrations told otherwise in this change."""
    for booking in seated:
        if booking.registration_id in skip:
            continue
        _record(booking.registration, Action.BOOKING_PROMOTED, actor=None, details={"session": booking.session.code})
        notify(booking.registration, "promoted", extra_context={"session": booking.session})


def _announce_outcome(registration: Registration, *, position: int) -> None:
    if registration.status == Status.PENDING:
        notify(registration, "received")
    elif registration.status == Status.CONFIRMED:
        notify(registration, "confirmed")
    else:
        notify(registration, "waitlisted", extra_context={"position": position})


def _record(registration: Registration, action: str, *, actor: User | None, details: dict) -> None:
    RegistrationChange.objects.create(registration=registration, actor=actor, action=action, details=details)


def _booking_summary(registration: Registration) -> dict[str, str]:
    return dict(registration.bookings.order_by("session_id").values_list("session__code", "status"))
