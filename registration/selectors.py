"""Reads about registrations that pages, services and exports share."""

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, TruncDate
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django_countries import countries

from agenda.models import Conference, Session
from registration.models import Booking, Registration, RegistrationChange, User


def registration_for(user: User, conference: Conference) -> Registration | None:
    """The user's live registration for the conference, else their latest one, with bookings and sessions."""
    return (
        Registration.objects.for_user(user)
        .filter(conference=conference)
        .select_related("conference", "user")
        .prefetch_related(_bookings_with_sessions())
        .order_by(_live_first(), "-created_at", "-pk")
        .first()
    )


@dataclass(frozen=True)
class LiveRegistration:
    """What the header of every page of a conference says of the visitor's registration."""

    status: str
    number: int
    pre_events: int
    waiting: int

    @property
    def is_confirmed(self) -> bool:
        return self.status == Registration.Status.CONFIRMED

    @property
    def is_waitlisted(self) -> bool:
        return self.status == Registration.Status.WAITLISTED


def users_with_live_registrations() -> QuerySet[User]:
    """Users, each with `live_registrations`: their live registrations as plain values (the
    conference's id, number, status, pre-events booked and waited for). The session's user is
    loaded this way (registration.backends), so every page's header knows the visitor's
    registration without a query of its own.

    Written in SQL: the same subqueries built with the ORM cost every request some
    milliseconds to compile, several times what PostgreSQL takes to run them."""
    # A constant text, its values as parameters.
    live = RawSQL(_LIVE_REGISTRATIONS_SQL, _LIVE_REGISTRATIONS_PARAMS)  # noqa: S611  # nosec B611
    return User.objects.annotate(live_registrations=live)


_LIVE_REGISTRATIONS_SQL = (
    "SELECT COALESCE(json_agg(json_build_object('conference', r.conference_id, 'number', r.number, 'status', r.status, "
    "'pre_events', (SELECT COUNT(*) FROM registration_booking b WHERE b.registration_id = r.id AND b.status = %s), "
    "'waiting', (SELECT COUNT(*) FROM registration_booking b WHERE b.registration_id = r.id AND b.status = %s)"
    ")), '[]') "
    "FROM registration_registration r WHERE r.user_id = registration_user.id AND r.status IN (%s, %s, %s)"
)
_LIVE_REGISTRATIONS_PARAMS = (Booking.Status.CONFIRMED, Booking.Status.WAITLISTED, *Registration.LIVE_STATUSES)


def live_registration(user: User, conference: Conference) -> LiveRegistration | None:
    """The user's live registration for the conference, from what `users_with_live_registrations`
    loaded with the user; one query for a user loaded otherwise (just logged in)."""
    if not user.is_authenticated:
        return None
    loaded = getattr(user, "live_registrations", None)
    if loaded is None:
        loaded = users_with_live_registrations().get(pk=user.pk).live_registrations
    for entry in loaded:
        if entry["conference"] == conference.pk:
            return LiveRegistration(
                status=entry["status"],
                number=entry["number"],
                pre_events=entry["pre_events"],
                waiting=entry["waiting"],
            )
    return None


def privacy_statement(conference: Conference) -> str:
    """The privacy statement as the registration form shows it, in the active language: the
    organisers' text, then when this conference's personal data is erased, from its periods
    (registration.privacy erases it then). The attendee agrees to this exact text."""
    retention = _(
        "Your details are erased on %(date)s (%(zone)s), and your dietary and accessibility "
        "answers on %(answers_date)s; the registrations stay, without them, for the figures."
    ) % {
        "date": _local_date(conference, conference.personal_data_erased_at),
        "zone": conference.timezone,
        "answers_date": _local_date(conference, conference.sensitive_answers_erased_at),
    }
    return f"{conference.privacy_statement.strip()}\n\n{retention}".strip()


def _local_date(conference: Conference, moment: dt.datetime) -> str:
    return formats.date_format(timezone.localtime(moment, conference.tz), "DATE_FORMAT")


def _live_first() -> Case:
    return Case(
        When(status__in=Registration.LIVE_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField()
    )


def _bookings_with_sessions() -> Prefetch:
    return Prefetch(
        "bookings", queryset=Booking.objects.select_related("session__room").order_by("session__start", "pk")
    )


def waitlist_position(registration: Registration) -> int | None:
    """1 for the next person to get a place; None when not on the waiting list."""
    if registration.status != Registration.Status.WAITLISTED:
        return None
    ahead = Registration.objects.filter(
        conference_id=registration.conference_id, status=Registration.Status.WAITLISTED
    ).filter(
        Q(status_changed_at__lt=registration.status_changed_at)
        | Q(status_changed_at=registration.status_changed_at, pk__lt=registration.pk)
    )
    return ahead.count() + 1


def booking_positions(registration: Registration) -> dict[int, int]:
    """Queue positions of a confirmed registration's waiting bookings, by booking id, in one query.

    Bookings of a registration that is not confirmed hold no place in a queue yet.
    """
    if registration.status != Registration.Status.CONFIRMED:
        return {}
    waiting = [b for b in registration.bookings.all() if b.status == Booking.Status.WAITLISTED]
    if not waiting:
        return {}
    queued = Booking.objects.filter(
        session__in=[b.session_id for b in waiting],
        status=Booking.Status.WAITLISTED,
        registration__status=Registration.Status.CONFIRMED,
    )
    ahead_of_mine = Q()
    for booking in waiting:
        ahead_of_mine |= Q(session_id=booking.session_id) & (
            Q(status_changed_at__lt=booking.status_changed_at)
            | Q(status_changed_at=booking.status_changed_at, pk__lt=booking.pk)
        )
    ahead = dict(
        queued.filter(ahead_of_mine)
        .order_by()
        .values("session_id")
        .annotate(n=Count("pk"))
        .values_list("session_id", "n")
    )
    return {booking.pk: ahead.get(booking.session_id, 0) + 1 for booking in waiting}


# Capacity: the one home of the arithmetic of places and seats. Services recount under
# their locks with `seats_taken` and `free`; pages and exports read `with_seats`.


def free(total: int | None, taken: int) -> int | None:
    """What is left of `total` places or seats once `taken` are taken; None: no limit."""
    return None if total is None else max(total - taken, 0)


def with_seats(sessions: QuerySet[Session]) -> QuerySet[Session]:
    """`sessions` annotated with `seats_total` (the session's own number, else its room's;
    None: no limit), `seats_taken` (confirmed bookings) and `seats_waiting` (bookings on the
    waiting list). `seats_left(session)` reads them."""
    return sessions.annotate(
        seats_total=Coalesce("capacity", "room__capacity"),
        seats_taken=Count("bookings", filter=Q(bookings__status=Booking.Status.CONFIRMED)),
        seats_waiting=Count("bookings", filter=Q(bookings__status=Booking.Status.WAITLISTED)),
    )


def seats_left(session: Session) -> int | None:
    """Free seats of a session annotated by `with_seats`; None: no limit."""
    return free(session.seats_total, session.seats_taken)


def bookable_sessions(conference: Conference) -> QuerySet[Session]:
    """The sessions of the conference attendees can book now (not begun), in time order, `with_seats`."""
    sessions = Session.objects.bookable().filter(conference=conference, start__gt=timezone.now())
    return with_seats(sessions.select_related("room")).order_by("start", "room__position", "title")


def overlapping(sessions: list[Session]) -> dict[int, list[Session]]:
    """For each of `sessions`, by id, the others among them that run at the same time, in the
    given order; reads nothing. One may book only one of those (services.check_session_choice)."""
    return {
        session.pk: [other for other in sessions if other.pk != session.pk and runs_alongside(session, other)]
        for session in sessions
    }


def runs_alongside(session: Session, other: Session) -> bool:
    """Whether the two sessions share some time; one ending as the other starts do not."""
    return session.start < other.end and other.start < session.end


def only_one_possible(overlaps: dict[int, list[Session]]) -> bool:
    """Whether every one of several sessions (as `overlapping` gives them) runs at the same time
    as every other, so that one can book one of them at most."""
    return len(overlaps) > 1 and all(len(others) == len(overlaps) - 1 for others in overlaps.values())


def sessions_with_sign_up(conference: Conference) -> QuerySet[Session]:
    """Every session of the conference with sign-up, cancelled ones too, in time order, `with_seats`."""
    return with_seats(Session.objects.with_sign_up().filter(conference=conference)).order_by("start", "id")


def seats_left_by_session(session_ids: Collection[int]) -> dict[int, int]:
    """Seats left on those of the given sessions that attendees can book now (not begun, as
    `bookable_sessions`) and that have a limit, in one query (none for no sessions). The
    programme pages show these (agenda.seats); never cached here: they move with every registration."""
    if not session_ids:
        return {}
    sessions = with_seats(Session.objects.bookable().filter(pk__in=session_ids, start__gt=timezone.now())).order_by()
    return {
        pk: free(total, taken)
        for pk, total, taken in sessions.values_list("pk", "seats_total", "seats_taken")
        if total is not None
    }


def seats_taken(session_ids: Collection[int]) -> dict[int, int]:
    """Confirmed bookings per session among `session_ids` (sessions with none are left out),
    in one query: what services recount under their session locks."""
    return dict(
        Booking.objects.filter(session__in=session_ids, status=Booking.Status.CONFIRMED)
        .order_by()
        .values("session")
        .annotate(n=Count("pk"))
        .values_list("session", "n")
    )


def places_left(conference: Conference) -> int | None:
    """Places left now (None: no limit), from the counter of places taken that the database
    keeps with every registration (see agenda.Conference): read afresh, in one query, as
    `conference` may be a cached copy."""
    taken = Conference.objects.filter(pk=conference.pk).values_list("confirmed_registrations", flat=True).first()
    return free(conference.capacity, taken or 0)


def last_details(user: User) -> dict[str, Any]:
    """The details of the user's most recent registration (any conference), to fill in the next
    form; its emails' language defaults to the account's (User.language, which the site's
    language switch sets). A registration's own language is that registration's alone."""
    latest = Registration.objects.for_user(user).order_by("-created_at", "-pk").values(*Registration.DETAIL_FIELDS)
    return {**(latest.first() or {}), "language": user.language}


def registrations_data(user: User) -> list[dict[str, Any]]:
    """The user's registrations with their bookings and history, for their own-data download
    (registration's part in accounts.personal_data)."""
    registrations = (
        Registration.objects.for_user(user)
        .select_related("conference")
        .prefetch_related(_bookings_with_sessions(), "changes", "consents")
        .order_by("created_at", "pk")
    )
    return [_registration_data(registration, user) for registration in registrations]


def _registration_data(registration: Registration, user: User) -> dict[str, Any]:
    return {
        "conference": registration.conference.name,
        "conference_slug": registration.conference.slug,
        "number": registration.number,
        "status": registration.status,
        **{field: json_value(getattr(registration, field)) for field in Registration.DETAIL_FIELDS},
        "privacy_statement_agreed": registration.privacy_statement_agreed,
        "privacy_agreed_at": registration.privacy_agreed_at.isoformat(),
        "consents": [
            {
                "purpose": consent.purpose,
                "text": consent.text,
                "given_at": consent.given_at.isoformat(),
                "withdrawn_at": consent.withdrawn_at.isoformat() if consent.withdrawn_at else None,
            }
            for consent in registration.consents.all()
        ],
        "photos_and_streaming": not registration.photo_opt_out,
        "optional_messages": not registration.essential_messages_only,
        "registered_at": registration.created_at.isoformat(),
        "status_changed_at": registration.status_changed_at.isoformat(),
        "bookings": [
            {
                "session": booking.session.title,
                "session_code": booking.session.code,
                "status": booking.status,
                "booked_at": booking.created_at.isoformat(),
            }
            for booking in registration.bookings.all()
        ],
        "history": [_change_data(change, user) for change in registration.changes.all()],
    }


def json_value(value: Any) -> Any:
    """A detail as JSON keeps it: countries become their codes; yes/no stays a boolean."""
    return value if isinstance(value, bool) else str(value)


def _change_data(change: RegistrationChange, user: User) -> dict[str, Any]:
    # Who changed it, without naming other people: the attendee, an organiser, or the system.
    if change.actor_id is None:
        by = "system"
    elif change.actor_id == user.pk:
        by = "you"
    else:
        by = "organiser"
    return {"action": change.action, "by": by, "at": change.created_at.isoformat(), "details": change.details}


# Staff dashboard figures. Each is one aggregate query, whatever the number of attendees.


def count_registrations_by_status(conference: Conference) -> dict[str, int]:
    """Registrations per status, every status present (zero when none)."""
    counts = dict(
        Registration.objects.filter(conference=conference).order_by().values_list("status").annotate(count=Count("id"))
    )
    return {status: counts.get(status, 0) for status in Registration.Status.values}


@dataclass(frozen=True)
class Share:
    key: str
    label: str
    count: int


def count_attendees_by_country(conference: Conference) -> list[Share]:
    """Confirmed attendees per country, most first, then by the country's name."""
    rows = (
        Registration.objects.filter(conference=conference, status=Registration.Status.CONFIRMED)
        .order_by()
        .values_list("country")
        .annotate(count=Count("id"))
    )
    shares = [Share(code, countries.name(code) or code, count) for code, count in rows]
    return sorted(shares, key=lambda share: (-share.count, share.label))


def count_attendees_by_organisation_type(conference: Conference) -> list[Share]:
    """Confirmed attendees per organisation type, in the order of the choices, zeros included."""
    counts = dict(
        Registration.objects.filter(conference=conference, status=Registration.Status.CONFIRMED)
        .order_by()
        .values_list("organisation_type")
        .annotate(count=Count("id"))
    )
    return [Share(value, str(label), counts.get(value, 0)) for value, label in Registration.OrganisationType.choices]


def count_registrations_by_day(conference: Conference) -> list[tuple[dt.date, int]]:
    """New registrations (any status today) per day in the conference's zone, from the first
    day with one to the last, days without any included as zero."""
    counts = dict(
        Registration.objects.filter(conference=conference)
        .annotate(day=TruncDate("created_at", tzinfo=conference.tz))
        .order_by()
        .values_list("day")
        .annotate(count=Count("id"))
    )
    if not counts:
        return []
    first, last = min(counts), max(counts)
    days = (first + dt.timedelta(days=offset) for offset in range((last - first).days + 1))
    return [(day, counts.get(day, 0)) for day in days]
