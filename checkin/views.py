"""The door (check-in, search, undo, the offline sync), badges, and the attendee's ticket
and certificate.

Staff pages need the team permission `can_check_in` in the conference (accounts.teams;
superusers always); the attendee's pages work on the logged-in user's own registration
only, as registration's do. Writes go through `checkin.services`.
"""

import json
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.teams import user_can
from agenda.models import Conference
from checkin import notifications, pdf, selectors, services
from checkin.exceptions import CheckInRefused, UnknownDoor
from checkin.forms import BadgeForm, SearchForm, TapForm, TokenForm, UndoForm
from checkin.models import BadgeRun, BadgeRunPart, CertificateSettings
from checkin.tickets import qr_svg
from conference.middleware import PERMISSIONS_POLICY
from registration import selectors as registration_selectors
from registration.models import Registration

PERMISSION = "can_check_in"
# Scans one offline batch may carry: a day of one door's queue, and a bounded request.
MAX_BATCH = 500
# What the door answers: green, "already checked in", any other red.
STATUS = {"checked_in": 200, "already_checked_in": 409}


def _staff_conference(request: HttpRequest, slug: str) -> Conference:
    conference = get_object_or_404(Conference, slug=slug)
    if not user_can(request.user, conference, PERMISSION):
        raise PermissionDenied
    return conference


def _door(conference: Conference, key: str):
    try:
        return selectors.door_for(conference, key)
    except UnknownDoor:
        raise Http404 from None


@login_required
@require_GET
def door_list(request: HttpRequest, slug: str) -> HttpResponse:
    conference = _staff_conference(request, slug)
    context = {
        "conference": conference,
        "figures": selectors.door_figures(conference),
        "today": selectors.today_door(conference),
    }
    return render(request, "checkin/door_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def desk(request: HttpRequest, slug: str, door: str) -> HttpResponse:
    conference = _staff_conference(request, slug)
    door = _door(conference, door)
    search_form = SearchForm(request.GET)
    token_form = TokenForm()
    outcome, status = None, 200
    if request.method == "POST":
        if "token" in request.POST:
            token_form = TokenForm(request.POST)
            if token_form.is_valid():
                outcome = services.scan(
                    conference, door=door, actor=request.user, token=token_form.cleaned_data["token"]
                )
            else:
                status = 400
        else:
            tap = TapForm(request.POST)
            registration = None
            if tap.is_valid():
                registrations = selectors.for_the_door(conference, door)
                registration = registrations.filter(number=tap.cleaned_data["number"]).first()
            if registration is None:
                outcome = services.Outcome(
                    False, "unknown_number", _("Not registered: no registration has this number.")
                )
            else:
                outcome = services.scan(conference, door=door, actor=request.user, registration=registration)
        if outcome is not None:
            status = STATUS.get(outcome.code, 400)
    query = search_form.cleaned_data["q"] if search_form.is_valid() else ""
    context = {
        "conference": conference,
        "door": door,
        "search_form": search_form,
        "token_form": token_form,
        "results": selectors.search(conference, door, query),
        "door_list": selectors.door_list(conference, door),
        "query": query,
        "outcome": outcome,
        "recent": selectors.recent_check_ins(door),
        "undo_until": timezone.now() - services.UNDO_WINDOW,
    }
    response = render(request, "checkin/desk.html", context, status=status)
    # The site keeps the camera off; the door page reads QR codes with it.
    response.headers["Permissions-Policy"] = PERMISSIONS_POLICY.replace("camera=()", "camera=(self)")
    return response


@login_required
@require_POST
def undo(request: HttpRequest, slug: str, door: str) -> HttpResponse:
    conference = _staff_conference(request, slug)
    door = _door(conference, door)
    form = UndoForm(request.POST)
    if not form.is_valid():
        raise Http404
    check_in = get_object_or_404(
        selectors.check_ins_at(door).filter(registration__conference=conference).select_related("registration"),
        pk=form.cleaned_data["check_in"],
    )
    try:
        services.undo_check_in(check_in, actor=request.user)
    except CheckInRefused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("Check-in undone: %(name)s") % {"name": check_in.registration.full_name})
    return redirect("checkin:desk", slug=conference.slug, door=door.key)


@login_required
@require_POST
def sync(request: HttpRequest, slug: str) -> JsonResponse:
    """Scans from the page's script, queued offline or sent at once: {"scans": [{nonce, token,
    door, scanned_at}, ...]} in, {"results": [...]} out, one per scan, in order."""
    conference = _staff_conference(request, slug)
    try:
        scans = json.loads(request.body)["scans"]
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": _('Send the scans as JSON: {"scans": [...]}.')}, status=400)
    if not isinstance(scans, list) or not all(isinstance(item, dict) for item in scans):
        return JsonResponse({"error": _("Send the scans as a list of objects.")}, status=400)
    if len(scans) > MAX_BATCH:
        return JsonResponse({"error": _("Send at most %(count)d scans at once.") % {"count": MAX_BATCH}}, status=400)
    return JsonResponse({"results": services.sync_offline_scans(conference, scans, actor=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def badges(request: HttpRequest, slug: str) -> HttpResponse:
    conference = _staff_conference(request, slug)
    form = BadgeForm(request.POST or None, initial={"who": "all", "layout": pdf.LAYOUTS[0]})
    last = selectors.last_badge_print(conference)
    if request.method == "POST" and form.is_valid():
        who, layout = form.cleaned_data["who"], form.cleaned_data["layout"]
        since = last.printed_at if who == "new" and last else None
        registrations = selectors.badge_registrations(conference, since=since)
        if who == "one":
            registrations = registrations.filter(number=form.cleaned_data["number"])
        ids = list(registrations.values_list("pk", flat=True))
        if who == "one" and not ids:
            form.add_error("number", _("No confirmed registration has this number."))
        elif len(ids) > services.BADGES_AT_ONCE:
            run = services.start_badge_run(
                conference, ids, layout=layout, actor=request.user, language=translation.get_language()
            )
            services.record_badge_print(conference, actor=request.user, badges=len(ids))
            return redirect("checkin:badge_run", slug=conference.slug, run=run.uuid)
        else:
            registrations = list(registrations)
            services.ensure_tickets(registrations)
            if who != "one":
                services.record_badge_print(conference, actor=request.user, badges=len(registrations))
            content = pdf.badges(registrations, layout=layout, conference=conference)
            return _pdf(content, f"badges-{conference.slug}-{who}.pdf")
    context = {"conference": conference, "form": form, "last": last}
    return render(request, "checkin/badge_form.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def badge_run(request: HttpRequest, slug: str, run: uuid.UUID) -> HttpResponse:
    """How far the workers are with a large printing, and its parts to download; a POST queues
    the parts not built yet again (after the broker was down, or a worker died)."""
    conference = _staff_conference(request, slug)
    run = get_object_or_404(BadgeRun.objects.filter(conference=conference), uuid=run)
    if request.method == "POST":
        services.queue_badge_parts(run)
        messages.success(request, _("The missing parts are queued again."))
        return redirect("checkin:badge_run", slug=conference.slug, run=run.uuid)
    built = set(run.parts.values_list("index", flat=True))
    size = run.part_size
    total = len(run.registration_ids)
    parts = [
        {"index": index, "first": index * size + 1, "last": min((index + 1) * size, total), "built": index in built}
        for index in range(run.part_count)
    ]
    context = {"conference": conference, "run": run, "parts": parts, "built": len(built), "total": total}
    return render(request, "checkin/badge_run.html", context)


@login_required
@require_GET
def badge_part(request: HttpRequest, slug: str, run: uuid.UUID, index: int) -> HttpResponse:
    conference = _staff_conference(request, slug)
    part = get_object_or_404(BadgeRunPart, run__conference=conference, run__uuid=run, index=index)
    return _pdf(bytes(part.content), f"badges-{conference.slug}-{index + 1}.pdf")


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _own_registration(request: HttpRequest, slug: str) -> Registration:
    conference = get_object_or_404(Conference.objects.published(), slug=slug)
    registration = registration_selectors.registration_for(request.user, conference)
    if registration is None:
        raise Http404
    return registration


def registration_section(request: HttpRequest, registration: Registration) -> str:
    """The attendee's page's section (registration.tickets): the ticket of a confirmed
    registration and, after the conference, the certificate of one who was checked in
    (one query, then), with the button that emails its link."""
    conference = registration.conference
    ended = conference.has_ended
    context = {
        "conference": conference,
        "has_ticket": registration.status == Registration.Status.CONFIRMED and not ended,
        "has_certificate": ended and selectors.was_checked_in(registration),
    }
    return render_to_string("checkin/includes/registration_links.html", context, request=request)


@login_required
@require_GET
def ticket(request: HttpRequest, slug: str) -> HttpResponse:
    """The attendee's ticket, to show on a phone or print; only a confirmed registration has one."""
    registration = _own_registration(request, slug)
    ticket = services.ensure_ticket(registration)
    if ticket is None:
        raise Http404
    context = {
        "conference": registration.conference,
        "registration": registration,
        "ticket": ticket,
        "qr": qr_svg(ticket.token, title=_("QR code of your ticket")),
    }
    return render(request, "checkin/ticket_detail.html", context)


def _attended(request: HttpRequest, slug: str) -> tuple[Registration, list, list]:
    """The user's registration with the days and sessions they were checked in to, once the
    conference is over; 404 before, or for one who was never checked in."""
    registration = _own_registration(request, slug)
    if not registration.conference.has_ended:
        raise Http404
    days, sessions = selectors.attendance(registration)
    if not days and not sessions:
        raise Http404
    return registration, days, sessions


@login_required
@require_GET
def certificate(request: HttpRequest, slug: str) -> HttpResponse:
    """The certificate of attendance, once the conference is over, for one who was checked in."""
    registration, days, sessions = _attended(request, slug)
    conference = registration.conference
    settings = CertificateSettings.objects.filter(conference=conference).first()
    with translation.override(registration.language):
        content = pdf.certificate(registration, days=days, sessions=sessions, settings=settings)
    return _pdf(content, f"certificate-{conference.slug}.pdf")


@login_required
@require_POST
def certificate_email(request: HttpRequest, slug: str) -> HttpResponse:
    """Email the attendee the link to their certificate (once a day at most)."""
    registration, _days, _sessions = _attended(request, slug)
    with transaction.atomic():
        notifications.send_certificate_link(registration, today=timezone.localdate())
    messages.success(
        request, _("We are emailing you the link to your certificate at %(email)s.") % {"email": request.user.email}
    )
    return redirect("registration:mine", slug=registration.conference.slug)
