"""Reads about tickets, doors and check-ins that pages, services and PDFs share."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from agenda.models import Conference, Session
from checkin.exceptions import UnknownDoor
from checkin.models import BadgePrint, CheckIn
from registration.models import Booking, Registration

# How many people a search at the door shows at most: enough to pick from, quick on a phone.
SEARCH_LIMIT = 20


@dataclass(frozen=True)
class Door:
    """Where people are let in: a conference day (session None) or a session with sign-up."""

    day: dt.date
    session: Session | None = None

    @property
    def key(self) -> str:
        return f"session-{self.session.code}" if self.session else f"day-{self.day.isoformat()}"


def session_doors(conference: Conference) -> QuerySet[Session]:
    """The sessions that take sign-ups, whose door lists are their confirmed seats, in time order."""
    return (
        Session.objects.filter(conference=conference, kind__in=Session.BOOKABLE_KINDS, status=Session.Status.CONFIRMED)
        .select_related("room", "conference")
        .order_by("start", "room__position", "title")
    )


def conference_days(conference: Conference) -> list[dt.date]:
    days = (conference.end_date - conference.start_date).days + 1
    return [conference.start_date + dt.timedelta(days=n) for n in range(days)]


def doors(conference: Conference) -> list[Door]:
    """Every door of the conference: its days, then its sessions with sign-up."""
    return [Door(day) for day in conference_days(conference)] + [
        Door(timezone.localtime(session.start, conference.tz).date(), session) for session in session_doors(conference)
    ]


def door_for(conference: Conference, key: str) -> Door:
    """The door named by `key` ("day-2026-11-08" or "session-<code>"); UnknownDoor otherwise."""
    kind, _sep, rest = key.partition("-")
    if kind == "day":
        try:
            day = dt.date.fromisoformat(rest)
        except ValueError:
            raise UnknownDoor from None
        if day in conference_days(conference):
            return Door(day)
    elif kind == "session":
        session = session_doors(conference).filter(code=rest).first()
        if session is not None:
            return Door(timezone.localtime(session.start, conference.tz).date(), session)
    raise UnknownDoor


def today_door(conference: Conference) -> Door | None:
    """Today's conference day, when the conference is on."""
    today = timezone.localdate(timezone=conference.tz)
    return Door(today) if today in conference_days(conference) else None


def _door_filter(door: Door, prefix: str = "") -> Q:
    if door.session is not None:
        return Q(**{f"{prefix}session": door.session})
    return Q(**{f"{prefix}session__isnull": True, f"{prefix}day": door.day})


def check_ins_at(door: Door) -> QuerySet[CheckIn]:
    """The check-ins that stand at a door."""
    return CheckIn.objects.valid().filter(_door_filter(door))


def _pre_events_on(day: dt.date, conference: Conference) -> Prefetch:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=conference.tz)
    return Prefetch(
        "bookings",
        queryset=Booking.objects.filter(
            status=Booking.Status.CONFIRMED, session__start__gte=start, session__start__lt=start + dt.timedelta(days=1)
        )
        .select_related("session__room")
        .order_by("session__start", "pk"),
        to_attr="bookings_that_day",
    )


def for_the_door(conference: Conference, door: Door) -> QuerySet[Registration]:
    """Registrations with what the result at the door shows: the check-in that stands at
    this door (`door_check_ins`, its staff member), and the seats booked that day."""
    return (
        Registration.objects.filter(conference=conference)
        .select_related("conference", "user")
        .prefetch_related(
            _pre_events_on(door.day, conference),
            Prefetch(
                "check_ins",
                queryset=check_ins_at(door).select_related("checked_in_by"),
                to_attr="door_check_ins",
            ),
        )
    )


def search(conference: Conference, door: Door, query: str) -> list[Registration]:
    """Up to SEARCH_LIMIT registrations, of any status, whose number is `query` or whose name or
    organisation contains each of its words, by family name."""
    query = " ".join(query.split())
    if not query:
        return []
    matches = Q()
    for word in query.split(" "):
        matches &= Q(given_name__icontains=word) | Q(family_name__icontains=word) | Q(organisation__icontains=word)
    if query.isdigit():
        matches |= Q(number=int(query))
    registrations = for_the_door(conference, door).filter(matches)
    return list(registrations.order_by("family_name", "given_name", "number")[:SEARCH_LIMIT])


def door_list(conference: Conference, door: Door) -> list[Registration]:
    """Everyone with a confirmed seat at a session's door, by family name, as `for_the_door`
    gives them; empty for a day's door, whose crowd is found by searching."""
    if door.session is None:
        return []
    registrations = for_the_door(conference, door).filter(
        status=Registration.Status.CONFIRMED,
        bookings__session=door.session,
        bookings__status=Booking.Status.CONFIRMED,
    )
    return list(registrations.order_by("family_name", "given_name", "number"))


def recent_check_ins(door: Door, *, limit: int = 10) -> list[CheckIn]:
    """The latest check-ins at a door, undone ones too, newest first."""
    queryset = CheckIn.objects.filter(_door_filter(door)).select_related("registration", "checked_in_by")
    return list(queryset.order_by("-checked_in_at", "-pk")[:limit])


@dataclass(frozen=True)
class DoorFigures:
    door: Door
    expected: int
    checked_in: int

    @property
    def not_checked_in(self) -> int:
        return max(self.expected - self.checked_in, 0)


def door_figures(conference: Conference) -> list[DoorFigures]:
    """For every door, how many are expected and how many came (those not checked in are
    the no-shows once the door has closed), in three queries whatever the number of doors."""
    all_doors = doors(conference)
    confirmed = Registration.objects.filter(conference=conference, status=Registration.Status.CONFIRMED).count()
    seats = dict(
        Booking.objects.filter(
            session__conference=conference,
            status=Booking.Status.CONFIRMED,
            registration__status=Registration.Status.CONFIRMED,
        )
        .order_by()
        .values("session_id")
        .annotate(n=Count("pk"))
        .values_list("session_id", "n")
    )
    came = {
        (row["day"], row["session_id"]): row["n"]
        for row in CheckIn.objects.valid()
        .filter(registration__conference=conference)
        .order_by()
        .values("day", "session_id")
        .annotate(n=Count("pk"))
    }
    return [
        DoorFigures(
            door,
            seats.get(door.session.pk, 0) if door.session else confirmed,
            came.get((door.day, door.session.pk if door.session else None), 0),
        )
        for door in all_doors
    ]


def attendance(registration: Registration) -> tuple[list[dt.date], list[Session]]:
    """The conference days and the sessions a registration was checked in to, in time order."""
    check_ins = registration.check_ins.valid().select_related("session").order_by("day", "checked_in_at")
    days = sorted({check_in.day for check_in in check_ins if check_in.session_id is None})
    sessions = sorted(
        (check_in.session for check_in in check_ins if check_in.session_id is not None), key=lambda s: s.start
    )
    return days, sessions


def was_checked_in(registration: Registration) -> bool:
    return registration.check_ins.valid().exists()


def badge_registrations(conference: Conference, *, since: dt.datetime | None = None) -> QuerySet[Registration]:
    """The confirmed registrations to print badges for, by family name, with their tickets;
    with `since`, only those confirmed after it."""
    registrations = Registration.objects.filter(conference=conference, status=Registration.Status.CONFIRMED)
    if since is not None:
        registrations = registrations.filter(status_changed_at__gt=since)
    return registrations.select_related("ticket", "conference").order_by("family_name", "given_name", "number")


def last_badge_print(conference: Conference) -> BadgePrint | None:
    return conference.badge_prints.order_by("-printed_at", "-pk").first()
