"""Staff pages: the dashboard of figures and the attendee lists as CSV.

Who may, per conference and through its teams (accounts.teams): the dashboard shows only
counts, so whoever may see the registrations or export them sees it; the lists carry
personal data and need the export permission. Superusers may everything; anyone else gets
a 403, and anonymous visitors are sent to log in.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.teams import user_can
from agenda.models import Conference, Session
from registration import charts, exports, selectors
from registration.dashboard import panels
from registration.forms import AttendeeExportForm, ExportOptionsForm
from registration.models import Registration


def _conference(request: HttpRequest, slug: str, *permissions: str) -> Conference:
    """The conference of the address, if the user holds one of `permissions` there."""
    conference = get_object_or_404(Conference, slug=slug)
    if not any(user_can(request.user, conference, permission) for permission in permissions):
        raise PermissionDenied
    return conference


@login_required
@require_GET
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    conference = _conference(request, slug, "can_view_registrations", "can_export_attendees")
    totals = selectors.count_registrations_by_status(conference)
    pre_events = list(selectors.sessions_with_sign_up(conference))
    for session in pre_events:
        seats = session.seats_total
        session.left = selectors.seats_left(session)
        session.width = charts.width(min(session.seats_taken, seats), seats) if seats else 0
    countries = selectors.count_attendees_by_country(conference)
    days = charts.days(selectors.count_registrations_by_day(conference))
    confirmed = totals[Registration.Status.CONFIRMED]
    waiting_lists = [(_("The conference"), totals[Registration.Status.WAITLISTED])]
    waiting_lists += [(session.title, session.seats_waiting) for session in pre_events]
    context = {
        "conference": conference,
        "now": timezone.now(),
        "places": {
            "capacity": conference.capacity,
            "confirmed": confirmed,
            "left": selectors.free(conference.capacity, confirmed),
            "width": charts.width(min(confirmed, conference.capacity), conference.capacity),
        },
        "statuses": charts.bars([(label, totals[value]) for value, label in Registration.Status.choices]),
        "total": sum(totals.values()),
        "pre_events": pre_events,
        "waiting_lists": charts.bars(waiting_lists),
        "countries": charts.bars([(share.label, share.count) for share in countries]),
        "organisation_types": charts.bars(
            [(share.label, share.count) for share in selectors.count_attendees_by_organisation_type(conference)]
        ),
        "days": days,
        "first_day": days[0].date if days else None,
        "last_day": days[-1].date if days else None,
        "busiest_day": max(days, key=lambda day: day.count, default=None),
        "days_width": charts.days_span(days),
        # The axis names both ends when the days fill the chart, else the days under their bars.
        "days_fill_chart": len(days) >= charts.MIN_DAYS,
        "attendee_form": AttendeeExportForm(conference=conference),
        "lists_form": ExportOptionsForm(auto_id="lists_%s"),
        "panels": panels(conference),
        "can_export": user_can(request.user, conference, "can_export_attendees"),
    }
    return render(request, "registration/staff_dashboard.html", context)


def _invalid(request: HttpRequest, conference: Conference, form) -> HttpResponse:
    """400 with the form and its errors, so the person can put the filter right."""
    context = {"conference": conference, "form": form}
    return render(request, "registration/staff_export_invalid.html", context, status=400)


@login_required
@require_GET
def attendees_csv(request: HttpRequest, slug: str) -> HttpResponse | StreamingHttpResponse:
    conference = _conference(request, slug, "can_export_attendees")
    form = AttendeeExportForm(request.GET, conference=conference)
    if not form.is_valid():
        return _invalid(request, conference, form)
    export = exports.attendee_list(conference, filters=form.cleaned_data, omit=form.cleaned_data["omit"])
    return exports.export_response(export, user=request.user, dialect=form.cleaned_data["format"])


@login_required
@require_GET
def check_in_csv(request: HttpRequest, slug: str) -> HttpResponse | StreamingHttpResponse:
    conference = _conference(request, slug, "can_export_attendees")
    form = ExportOptionsForm(request.GET)
    if not form.is_valid():
        return _invalid(request, conference, form)
    export = exports.check_in_list(conference, omit=form.cleaned_data["omit"])
    return exports.export_response(export, user=request.user, dialect=form.cleaned_data["format"])


@login_required
@require_GET
def session_csv(request: HttpRequest, slug: str, code: str) -> HttpResponse | StreamingHttpResponse:
    conference = _conference(request, slug, "can_export_attendees")
    session = get_object_or_404(
        Session.objects.with_sign_up().filter(conference=conference).select_related("conference"), code=code
    )
    form = ExportOptionsForm(request.GET)
    if not form.is_valid():
        return _invalid(request, conference, form)
    export = exports.session_list(session, omit=form.cleaned_data["omit"])
    return exports.export_response(export, user=request.user, dialect=form.cleaned_data["format"])
