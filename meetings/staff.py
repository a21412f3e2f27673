"""The organisers' pages: the table plan of a block (printable, and as CSV), the figures,
and the profiles waiting for approval.

Who may: members of a team with the "run bilateral meetings" permission in the
conference, and superusers (accounts.teams); anyone else gets a 403, and anonymous
visitors are sent to log in."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.teams import user_can
from agenda.models import Conference
from meetings import selectors, services
from meetings.forms import ReviewForm
from meetings.models import MeetingBlock, Profile
from registration.exports import neutralise

PERMISSION = "can_run_meetings"


def _conference_for(request: HttpRequest, slug: str) -> Conference:
    conference = get_object_or_404(Conference, slug=slug)
    if not user_can(request.user, conference, PERMISSION):
        raise PermissionDenied
    return conference


def _block(conference: Conference, block_id: int) -> MeetingBlock:
    return get_object_or_404(
        MeetingBlock.objects.select_related("session__room"), pk=block_id, session__conference=conference
    )


@login_required
@require_GET
def figures(request: HttpRequest, slug: str) -> HttpResponse:
    conference = _conference_for(request, slug)
    return render(
        request,
        "meetings/staff_figures.html",
        {"conference": conference, "figures": selectors.figures(conference), "blocks": selectors.blocks(conference)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def profiles(request: HttpRequest, slug: str) -> HttpResponse:
    """The profiles waiting for approval, each with its two answers (POST: profile, decision,
    and a reason when not approving, optional)."""
    conference = _conference_for(request, slug)
    form = ReviewForm(
        request.POST if request.method == "POST" else None, profiles=Profile.objects.filter(conference=conference)
    )
    if request.method == "POST" and form.is_valid():
        profile, approve = form.cleaned_data["profile"], form.cleaned_data["decision"] == ReviewForm.APPROVE
        if approve:
            answered = services.approve_profile(profile)
        else:
            answered = services.refuse_profile(profile, reason=form.cleaned_data["reason"])
        if not answered:
            messages.info(request, _("That profile was not waiting any more; nothing was changed."))
        elif approve:
            messages.success(request, _("%(name)s is approved and listed; we told them.") % {"name": profile})
        else:
            messages.success(request, _("%(name)s is not approved; we told them.") % {"name": profile})
        return redirect("meetings:profiles", slug=conference.slug)
    return render(
        request,
        "meetings/staff_profiles.html",
        {"conference": conference, "profiles": selectors.waiting_profiles(conference), "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def table_plan(request: HttpRequest, slug: str, block_id: int) -> HttpResponse:
    conference = _conference_for(request, slug)
    block = _block(conference, block_id)
    return render(
        request,
        "meetings/staff_table_plan.html",
        {"conference": conference, "meeting_block": block, "meetings": selectors.table_plan(block)},
    )


@login_required
@require_GET
def table_plan_csv(request: HttpRequest, slug: str, block_id: int) -> HttpResponse:
    conference = _conference_for(request, slug)
    block = _block(conference, block_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8; header=present")
    response["Content-Disposition"] = f'attachment; filename="{conference.slug}-tables-{block.pk}.csv"'
    response.write("\ufeff")  # so spreadsheets read the names as UTF-8
    writer = csv.writer(response, lineterminator="\r\n")
    writer.writerow(
        [
            _("Start (%(zone)s)") % {"zone": conference.timezone},
            _("End"),
            _("Table"),
            _("Participant"),
            _("Organisation"),
            _("Participant"),
            _("Organisation"),
        ]
    )
    tz = conference.tz
    for meeting in selectors.table_plan(block):
        sender, recipient = meeting.request.sender.registration, meeting.request.recipient.registration
        writer.writerow(
            [
                timezone.localtime(meeting.slot.start, tz).strftime("%Y-%m-%d %H:%M"),
                timezone.localtime(meeting.slot.end, tz).strftime("%H:%M"),
                meeting.table.number,
                neutralise(sender.full_name),
                neutralise(sender.organisation),
                neutralise(recipient.full_name),
                neutralise(recipient.organisation),
            ]
        )
    return response
