"""Public pages and exports of the programme. Each view resolves the conference and takes
its content from the cache (agenda.caching), without a query; on a miss it loads the
whole programme in two queries (selectors.load_programme) and renders from memory. What
an anonymous visitor gets is kept whole by caching.CachedPageMiddleware, which answers
the next such request before it reaches a view."""

import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from agenda import caching, exports, selectors, stars
from agenda.calendar import build_calendar
from agenda.forms import Filters, ProgrammeFilterForm, SearchForm
from agenda.models import Conference, Session

# Rooms the wide-screen grid lays out side by side (agenda.css has a column for each);
# a day with more is shown as a list at every width.
GRID_MAX_ROOMS = 12
# How often subscribed calendar apps are asked to look for changes.
CALENDAR_REFRESH = datetime.timedelta(hours=1)


class InvalidFilter(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__(errors)
        self.errors = errors


@require_safe
def conference_list(request: HttpRequest) -> HttpResponse:
    upcoming, past = selectors.conferences_for_listing()
    return render(request, "agenda/conference_list.html", {"upcoming": upcoming, "past": past})


def _conference(slug: str) -> Conference:
    return caching.published_conference(slug)


def _plain(request: HttpRequest) -> bool:
    """Whether the URL has no query string: the only form of a page without parameters
    that is kept whole (caching.page_response)."""
    return not request.META.get("QUERY_STRING")


def _next_change(*moments: datetime.datetime | None) -> datetime.datetime | None:
    now = timezone.now()
    return min((moment for moment in moments if moment and moment > now), default=None)


def _fragment(template: str, context: dict, title: str) -> caching.Fragment:
    return caching.Fragment(title=title, html=render_to_string(template, context))


@require_safe
def conference_detail(request: HttpRequest, slug: str) -> HttpResponse:
    conference = _conference(slug)

    def build() -> caching.Fragment:
        programme = selectors.load_programme(conference)
        context = {"conference": conference, "keynote_speakers": programme.keynote_speakers}
        return _fragment("agenda/conference_keynotes.html", context, conference.name)

    return caching.page_response(
        request,
        conference,
        key=caching.cache_key(conference, "conference"),
        build=build,
        template="agenda/conference_detail.html",
        # Opening and closing of registration, and the conference's end, follow the clock, not the cache.
        context={"registration_state": conference.registration_state},
        canonical=_plain(request),
        until=_next_change(conference.registration_opens, conference.registration_closes, conference.ends_at),
    )


def _read_filters(request: HttpRequest) -> tuple[datetime.date | None, Filters]:
    form = ProgrammeFilterForm(request.GET)
    if not form.is_valid():
        raise InvalidFilter([error for errors in form.errors.values() for error in errors])
    return form.cleaned_data["day"], form.filters


def _check_tracks(programme: selectors.Programme, filters: Filters) -> None:
    known = {track.pk for track in programme.tracks}
    unknown = [track for track in filters.tracks if track not in known]
    if unknown:
        raise InvalidFilter([_("This programme has no track %(track)s.") % {"track": unknown[0]}])


def _invalid_filter(request: HttpRequest, conference: Conference, error: InvalidFilter) -> HttpResponse:
    context = {"conference": conference, "errors": error.errors}
    return render(request, "agenda/invalid_filter.html", context, status=400)


@require_safe
def session_list(request: HttpRequest, slug: str) -> HttpResponse:
    """The programme a day at a time, filtered by kind and track."""
    conference = _conference(slug)
    try:
        day, filters = _read_filters(request)
    except InvalidFilter as error:
        return _invalid_filter(request, conference, error)
    # The form of the URL the page's own links use.
    canonical = request.META.get("QUERY_STRING", "") == urlencode(
        ([("day", day.isoformat())] if day else []) + filters.params
    )
    until = None
    today = timezone.localdate(timezone=conference.tz)
    if day is None:
        # Today's programme while the conference runs; the key names the day it shows.
        day = today if conference.start_date <= today <= conference.end_date else None
        # The day shown changes at midnight in the conference's time zone.
        tomorrow = today + datetime.timedelta(days=1)
        until = datetime.datetime.combine(tomorrow, datetime.time(), tzinfo=conference.tz)

    def build() -> caching.Fragment:
        programme = selectors.load_programme(conference)
        _check_tracks(programme, filters)
        shown_day = day or programme.days[0]
        if shown_day not in programme.days:
            raise Http404(_("The programme has no such day."))
        return _fragment("agenda/session_list.html", _day_context(programme, shown_day, filters), _("Programme"))

    now_next = _now_and_next(conference, day) if day == today else None
    if now_next:
        # What is on now and next follows the clock: the page is kept whole only until it changes.
        on_now, following = now_next
        until = _next_change(until, *(item[1] for item in on_now), *(item[0] for item in following))
    try:
        return caching.page_response(
            request,
            conference,
            key=caching.cache_key(conference, "agenda", [("day", str(day or "")), *filters.params]),
            build=build,
            template="agenda/page.html",
            context={"now_next": now_next},
            canonical=canonical,
            until=until,
        )
    except InvalidFilter as error:
        return _invalid_filter(request, conference, error)


def _now_and_next(conference: Conference, day: datetime.date) -> tuple[tuple, tuple] | None:
    """The sessions on now and those starting next, today: from the day's timeline, cached
    like the pages, so the clock costs no query."""

    def build() -> list[tuple]:
        programme = selectors.load_programme(conference)
        return [
            (session.start, session.end, session.code, session.title, session.room.name if session.room_id else "")
            for session in programme.sessions_on(day)
            if not session.is_cancelled
        ]

    timeline = cache.get_or_set(caching.cache_key(conference, "timeline", [("day", str(day))]), build, caching.TIMEOUT)
    now = timezone.now()
    on_now = tuple(item for item in timeline if item[0] <= now < item[1])
    later = [item for item in timeline if item[0] > now]
    following = tuple(item for item in later if item[0] == min(entry[0] for entry in later))
    return (on_now, following) if on_now or following else None


def _day_context(programme: selectors.Programme, day: datetime.date, filters: Filters) -> dict:
    sessions = [session for session in programme.sessions_on(day) if filters.match(session)]
    rooms = [room for room in programme.rooms if any(session.room_id == room.pk for session in sessions)]
    columns = {room.pk: index for index, room in enumerate(rooms, start=1)}
    slots: dict[datetime.datetime, list[Session]] = {}
    for session in sessions:
        session.column = columns.get(session.room_id)
        slots.setdefault(session.start, []).append(session)
    noon = datetime.datetime.combine(day, datetime.time(12), tzinfo=programme.tz)
    ics_url = reverse("agenda:agenda_ics", kwargs={"slug": programme.conference.slug})
    if filters:
        ics_url += f"?{filters.query}"
    return {
        "conference": programme.conference,
        "day": day,
        "days": programme.days,
        "filters": filters,
        "kinds": [(kind, label) for kind, label in Session.Kind.choices if kind in programme.kinds],
        "tracks": programme.tracks,
        # The legend: the tracks of the sessions shown, in the filter's order.
        "shown_tracks": [track for track in programme.tracks if any(s.track_id == track.pk for s in sessions)],
        "rooms": rooms,
        "grid": 1 < len(rooms) <= GRID_MAX_ROOMS,
        "slots": [
            # Sessions without a room span the whole row, so they come first.
            (start, sorted(group, key=lambda session: session.column or 0))
            for start, group in slots.items()
        ],
        "zone_abbreviation": noon.tzname(),
        "ics_url": ics_url,
        # webcal:// makes the browser hand the address to the calendar app, which subscribes.
        "webcal_url": "webcal://" + settings.SITE_URL.split("://", 1)[-1] + ics_url,
    }


@require_safe
def session_detail(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    conference = _conference(slug)

    def build() -> caching.Fragment:
        programme = selectors.load_programme(conference)
        session = programme.session(code)
        if session is None:
            raise Http404(_("The programme has no such session."))
        context = {
            "conference": conference,
            "session": session,
            "day": programme.day_of(session),
            "parallel": programme.parallel_to(session),
        }
        return _fragment("agenda/session_detail.html", context, session.title)

    return caching.page_response(
        request,
        conference,
        key=caching.cache_key(conference, "session", [("code", code)]),
        build=build,
        template="agenda/page.html",
        canonical=_plain(request),
    )


@require_safe
def speaker_list(request: HttpRequest, slug: str) -> HttpResponse:
    conference = _conference(slug)

    def build() -> caching.Fragment:
        programme = selectors.load_programme(conference)
        context = {"conference": conference, "speakers": programme.speakers}
        return _fragment("agenda/speaker_list.html", context, _("Speakers"))

    return caching.page_response(
        request,
        conference,
        key=caching.cache_key(conference, "speakers"),
        build=build,
        template="agenda/page.html",
        canonical=_plain(request),
    )


@require_safe
def speaker_detail(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    conference = _conference(slug)

    def build() -> caching.Fragment:
        entry = selectors.load_programme(conference).speaker(code)
        if entry is None:
            raise Http404(_("The programme has no such speaker."))
        context = {"conference": conference, "speaker": entry.speaker, "appearances": entry.appearances}
        return _fragment("agenda/speaker_detail.html", context, entry.speaker.name)

    return caching.page_response(
        request,
        conference,
        key=caching.cache_key(conference, "speaker", [("code", code)]),
        build=build,
        template="agenda/page.html",
        canonical=_plain(request),
    )


@require_safe
def agenda_ics(request: HttpRequest, slug: str) -> HttpResponse:
    """The programme as an iCalendar to subscribe to, with the agenda page's filters."""
    conference = _conference(slug)
    try:
        _day, filters = _read_filters(request)
    except InvalidFilter as error:
        return HttpResponse("\n".join(error.errors), status=400, content_type="text/plain; charset=utf-8")

    def build() -> bytes:
        programme = selectors.load_programme(conference)
        _check_tracks(programme, filters)
        sessions = [session for session in programme.sessions if filters.match(session)]
        return build_calendar(conference, sessions, refresh_interval=CALENDAR_REFRESH)

    try:
        return caching.export_response(
            request,
            conference,
            key=caching.cache_key(conference, "ics", filters.params),
            build=build,
            content_type="text/calendar; charset=utf-8",
            canonical=request.META.get("QUERY_STRING", "") == filters.query,
        )
    except InvalidFilter as error:
        return HttpResponse("\n".join(error.errors), status=400, content_type="text/plain; charset=utf-8")


@require_safe
def session_ics(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    """One session as a calendar file, for “add to calendar”."""
    conference = _conference(slug)

    def build() -> bytes:
        session = selectors.load_programme(conference).session(code)
        if session is None:
            raise Http404(_("The programme has no such session."))
        return build_calendar(conference, [session], name=session.title)

    return caching.export_response(
        request,
        conference,
        key=caching.cache_key(conference, "session-ics", [("code", code)]),
        build=build,
        content_type="text/calendar; charset=utf-8",
        filename=f"{conference.slug}-{code}.ics",
        canonical=_plain(request),
    )


@require_safe
def schedule_xml(request: HttpRequest, slug: str) -> HttpResponse:
    conference = _conference(slug)
    return caching.export_response(
        request,
        conference,
        key=caching.cache_key(conference, "schedule.xml"),
        build=lambda: exports.schedule_xml(selectors.load_programme(conference)),
        content_type="application/xml; charset=utf-8",
        canonical=_plain(request),
    )


@require_safe
def schedule_json(request: HttpRequest, slug: str) -> HttpResponse:
    conference = _conference(slug)
    return caching.export_response(
        request,
        conference,
        key=caching.cache_key(conference, "schedule.json"),
        build=lambda: exports.schedule_json(selectors.load_programme(conference)),
        content_type="application/json",
        canonical=_plain(request),
    )


def _next_page(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if safe and target.startswith("/") else fallback


@login_required
def star(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    """Star or unstar a session: the form beside each session, for those logged in."""
    conference = _conference(slug)
    session = get_object_or_404(Session, conference=conference, code=code)
    if request.method != "POST":
        return redirect(session.get_absolute_url())
    if request.POST.get("action") == "unstar":
        stars.unstar_session(request.user, session)
    else:
        stars.star_session(request.user, session)
    return redirect(_next_page(request, session.get_absolute_url()))


@login_required
def merge_stars(request: HttpRequest, slug: str) -> HttpResponse:
    """The stars the browser kept before login, sent once by static/js/stars.js."""
    conference = _conference(slug)
    if request.method != "POST":
        return redirect("agenda:agenda", slug=conference.slug)
    merged = stars.merge_stars(request.user, conference, request.POST.getlist("code"))
    return JsonResponse({"merged": merged})


@require_safe
def search(request: HttpRequest, slug: str) -> HttpResponse:
    """Sessions whose title, abstract or speakers hold every word searched for, in the
    reader's language (the original where a session has no translation)."""
    conference = _conference(slug)
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    results = selectors.load_programme(conference).search(query) if query else []
    context = {"conference": conference, "form": form, "query": query, "results": results}
    return render(request, "agenda/search.html", context, status=200 if form.is_valid() else 400)
