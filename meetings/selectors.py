"""Reads about bilateral meetings that pages, services and exports share; each list comes
with its related rows loaded, so a page costs the same number of queries for 1 or 500 rows."""

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django_countries import countries

from agenda.models import Conference
from meetings.models import Meeting, MeetingBlock, MeetingRequest, Profile, Slot
from registration.models import Registration, User


def confirmed_registration(user: User, conference: Conference) -> Registration | None:
    """The user's confirmed registration for the conference: what takes part in meetings."""
    if not user.is_authenticated:
        return None
    return (
        Registration.objects.filter(user=user, conference=conference, status=Registration.Status.CONFIRMED)
        .select_related("conference", "user")
        .first()
    )


def profile_for(registration: Registration | None) -> Profile | None:
    if registration is None:
        return None
    return Profile.objects.filter(registration=registration).select_related("registration", "conference").first()


def blocks(conference: Conference) -> QuerySet:
    """The conference's meeting blocks that are not cancelled, with their slots."""
    return (
        MeetingBlock.objects.filter(session__conference=conference, is_cancelled=False)
        .exclude(session__status="cancelled")
        .select_related("session__room")
        .prefetch_related(Prefetch("slots", queryset=Slot.objects.filter(is_break=False).order_by("start")))
        .order_by("session__start", "pk")
    )


def has_open_blocks(conference: Conference) -> bool:
    """Whether the conference has a meeting block not cancelled nor over yet."""
    return blocks(conference).filter(session__end__gt=timezone.now()).exists()


def directory(
    conference: Conference,
    *,
    exclude: Profile | None = None,
    text: str = "",
    sector=None,
    theme=None,
    country: str = "",
    organisation_type: str = "",
) -> QuerySet:
    """Opted-in, confirmed participants of `conference` matching every filter given."""
    people = Profile.objects.listed(conference).prefetch_related("sectors", "themes")
    if exclude is not None:
        people = people.exclude(pk=exclude.pk)
    for word in text.split():
        people = people.filter(
            Q(offer__icontains=word)
            | Q(seek__icontains=word)
            | Q(registration__given_name__icontains=word)
            | Q(registration__family_name__icontains=word)
            | Q(registration__organisation__icontains=word)
        )
    if sector is not None:
        people = people.filter(sectors=sector)
    if theme is not None:
        people = people.filter(themes=theme)
    if country:
        people = people.filter(registration__country=country)
    if organisation_type:
        people = people.filter(registration__organisation_type=organisation_type)
    # No DISTINCT: a profile has a sector or theme at most once, so the joins of one sector
    # and one theme give each profile at most one row.
    return people


def directory_countries(conference: Conference) -> list[tuple[str, str]]:
    """The countries of the listed participants, as (code, name) by name: the directory's
    country filter offers only those."""
    codes = Profile.objects.listed(conference).order_by().values_list("registration__country", flat=True).distinct()
    return sorted(((code, countries.name(code)) for code in codes), key=lambda item: item[1])


_REQUEST_RELATED = ("block__session", "sender__registration", "recipient__registration")


def requests_received(profile: Profile) -> QuerySet:
    return (
        MeetingRequest.objects.filter(recipient=profile)
        .select_related(*_REQUEST_RELATED)
        .prefetch_related("proposed_slots")
        .order_by("status", "-created_at", "-pk")
    )


def requests_sent(profile: Profile) -> QuerySet:
    return (
        MeetingRequest.objects.filter(sender=profile)
        .select_related(*_REQUEST_RELATED)
        .prefetch_related("proposed_slots")
        .order_by("status", "-created_at", "-pk")
    )


def request_of(profile: Profile, request_id: int) -> MeetingRequest | None:
    """A request of this profile's (either side), in its conference; None for anyone else's."""
    return (
        MeetingRequest.objects.filter(Q(sender=profile) | Q(recipient=profile), pk=request_id)
        .filter(block__session__conference_id=profile.conference_id)
        .select_related(*_REQUEST_RELATED, "block__session__conference", "sender__conference", "recipient__conference")
        .prefetch_related("proposed_slots")
        .first()
    )


def timetable(profile: Profile) -> QuerySet:
    """The profile's meetings that are not cancelled, in time order (those without a time last)."""
    return (
        Meeting.objects.filter(Q(request__sender=profile) | Q(request__recipient=profile))
        .exclude(status=Meeting.Status.CANCELLED)
        .select_related("slot", "table", "block__session__room", *(f"request__{path}" for path in _REQUEST_RELATED))
        .order_by("slot__start", "pk")
    )


def table_plan(block: MeetingBlock) -> QuerySet:
    """The block's scheduled meetings by slot and table, for the printed plan and its CSV."""
    return (
        Meeting.objects.filter(block=block, status=Meeting.Status.SCHEDULED)
        .select_related("slot", "table", "request__sender__registration", "request__recipient__registration")
        .order_by("slot__start", "table__number")
    )


def waiting_profiles(conference: Conference) -> QuerySet:
    """The opted-in profiles of confirmed attendees waiting for the organisers' approval,
    longest waiting first, with what an organiser reads to decide."""
    return (
        Profile.objects.filter(
            conference=conference,
            opted_in=True,
            status=Profile.Status.PENDING,
            registration__status=Registration.Status.CONFIRMED,
        )
        .select_related("registration")
        .prefetch_related("sectors", "themes")
        .order_by("updated_at", "pk")
    )


def figures(conference: Conference) -> dict:
    """What the reports ask for: requests by outcome, and meetings held (scheduled, not
    marked as no-show) per country and per organisation type of the participants."""
    requests = MeetingRequest.objects.filter(block__session__conference=conference)
    by_status = dict(requests.values_list("status").annotate(count=Count("pk")).order_by())
    held = Meeting.objects.filter(block__session__conference=conference, status=Meeting.Status.SCHEDULED, no_show=False)
    per_country: dict[str, int] = {}
    per_type: dict[str, int] = {}
    for side in ("sender", "recipient"):
        for country, count in (
            held.values_list(f"request__{side}__registration__country").annotate(count=Count("pk")).order_by()
        ):
            per_country[country] = per_country.get(country, 0) + count
        for kind, count in (
            held.values_list(f"request__{side}__registration__organisation_type").annotate(count=Count("pk")).order_by()
        ):
            per_type[kind] = per_type.get(kind, 0) + count
    return {
        "sent": sum(by_status.values()),
        "by_status": {status: by_status.get(status, 0) for status in MeetingRequest.Status.values},
        "held": held.count(),
        "no_shows": Meeting.objects.filter(block__session__conference=conference, no_show=True).count(),
        "per_country": _labelled(per_country, lambda code: countries.name(code) or code),
        "per_type": _labelled(per_type, lambda kind: Registration.OrganisationType(kind).label if kind else "–"),
    }


def _labelled(counts: dict[str, int], label) -> list[tuple[str, int]]:
    return sorted(((str(label(key)), count) for key, count in counts.items()), key=lambda item: (-item[1], item[0]))


def participant_data(user: User) -> list[dict]:
    """What the meetings keep about `user`, for their own-data download: each profile with
    its approval status (and the organisers' reason when they refused it), its sectors and
    themes, and the requests they sent or answered."""
    profiles = (
        Profile.objects.filter(registration__user=user)
        .select_related("conference")
        .prefetch_related("sectors", "themes")
        .order_by("pk")
    )
    requests = (
        MeetingRequest.objects.filter(Q(sender__registration__user=user) | Q(recipient__registration__user=user))
        .select_related("sender__registration", "recipient__registration")
        .order_by("pk")
    )
    return [
        {
            "conference": profile.conference.name,
            "opted_in": profile.opted_in,
            "status": profile.status,
            "refusal_reason": profile.refusal_reason,
            "offer": profile.offer,
            "seek": profile.seek,
            "languages": profile.languages,
            "sectors": [sector.name for sector in profile.sectors.all()],
            "themes": [theme.name for theme in profile.themes.all()],
            "requests": [
                {
                    "sent": request.sender_id == profile.pk,
                    "status": request.status,
                    "message": request.message if request.sender_id == profile.pk else "",
                    "reason": request.reason if request.recipient_id == profile.pk else "",
                    "created_at": request.created_at.isoformat(),
                }
                for request in requests
                if profile.pk in (request.sender_id, request.recipient_id)
            ],
        }
        for profile in profiles
    ]
