import datetime
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Coalesce, TruncDate
from django_countries import countries

from agenda.models import Conference, Session
from registration.models import Booking, Registration

# Staff dashboard figures. Each is one aggregate query, whatever the number of attendees.


def count_registrations_by_status(conference: Conference) -> dict[str, int]:
    """Registrations per status, every status present (zero when none)."""
    counts = dict(
        Registration.objects.filter(conference=conference).order_by().values_list("status").annotate(count=Count("id"))
    )
    return {status: counts.get(status, 0) for status in Registration.Status.values}


def pre_events_with_places(conference: Conference) -> QuerySet[Session]:
    """Bookable sessions in time order, annotated with `total_seats` (its own or its room's;
    None when unlimited), `taken` (confirmed bookings) and `waiting` (waiting-list bookings)."""
    return (
        Session.objects.filter(conference=conference, kind__in=Session.BOOKABLE_KINDS)
        .annotate(
            total_seats=Coalesce("capacity", "room__capacity"),
            taken=Count("bookings", filter=Q(bookings__status=Booking.Status.CONFIRMED)),
            waiting=Count("bookings", filter=Q(bookings__status=Booking.Status.WAITLISTED)),
        )
        .order_by("start", "id")
    )


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


def count_registrations_by_day(conference: Conference) -> list[tuple[datetime.date, int]]:
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
    days = (first + datetime.timedelta(days=offset) for offset in range((last - first).days + 1))
    return [(day, counts.get(day, 0)) for day in days]
