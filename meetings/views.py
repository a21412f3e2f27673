"""The participants' pages: profile and opt-in, the directory, requests in and out, and
one's meeting timetable. Every page works on the logged-in user's own profile, and every
id in an address is looked up within the conference and the user's own requests, so a
crafted id finds nothing. Writes go through `meetings.services`."""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from agenda.models import Conference
from meetings import selectors, services
from meetings.exceptions import MeetingError, SlotTaken
from meetings.forms import AcceptForm, DeclineForm, DirectoryForm, ProfileForm, RequestForm
from meetings.models import MeetingRequest, Profile
from registration.views import limit_posts

PAGE_SIZE = 20

# Every meetings POST counts in one limit, per user and per address.
rate_limited = limit_posts("meetings")


def _conference(slug: str) -> Conference:
    return get_object_or_404(Conference.objects.published(), slug=slug)


def participant(view: Callable) -> Callable:
    """Hand the view the conference and the user's opted-in profile; whoever has none is
    sent to the profile page (a confirmed attendee) or finds nothing (anyone else)."""

    @wraps(view)
    def wrapper(request: HttpRequest, slug: str, **kwargs) -> HttpResponse:
        conference = _conference(slug)
        registration = selectors.confirmed_registration(request.user, conference)
        if registration is None:
            raise Http404
        profile = selectors.profile_for(registration)
        if profile is None or not profile.opted_in:
            messages.info(request, _("Opt in to bilateral meetings first."))
            return redirect("meetings:profile", slug=conference.slug)
        return view(request, conference, profile, **kwargs)

    return wrapper


@login_required
@require_GET
def home(request: HttpRequest, slug: str) -> HttpResponse:
    conference = _conference(slug)
    registration = selectors.confirmed_registration(request.user, conference)
    profile = selectors.profile_for(registration)
    context = {"conference": conference, "registration": registration, "profile": profile}
    if profile is not None:
        context |= {
            "received": list(selectors.requests_received(profile)),
            "sent": list(selectors.requests_sent(profile)),
            "timetable": list(selectors.timetable(profile)),
        }
    return render(request, "meetings/meetings_home.html", context)


@login_required
@rate_limited
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest, slug: str) -> HttpResponse:
    conference = _conference(slug)
    registration = selectors.confirmed_registration(request.user, conference)
    if registration is None:
        raise Http404
    current = selectors.profile_for(registration)
    form = ProfileForm(
        request.POST or None,
        instance=current,
        conference=conference,
        initial={"consent": bool(current and current.opted_in)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_profile(
                registration,
                offer=form.cleaned_data["offer"],
                seek=form.cleaned_data["seek"],
                languages=form.cleaned_data["languages"],
                sectors=form.cleaned_data["sectors"],
                themes=form.cleaned_data["themes"],
            )
        except MeetingError as error:
            return _refused(request, conference, error)
        if saved.status == Profile.Status.PENDING:
            messages.info(
                request,
                _("Your meetings profile is saved. The organisers approve profiles: we will email you once they have."),
            )
        else:
            messages.success(request, _("Your meetings profile is saved; other participants can find you."))
        return redirect("meetings:home", slug=conference.slug)
    return render(
        request,
        "meetings/profile_form.html",
        {"conference": conference, "form": form, "profile": current},
        status=400 if form.errors else 200,
    )


@login_required
@rate_limited
@require_http_methods(["GET", "POST"])
@participant
def opt_out(request: HttpRequest, conference: Conference, profile: Profile) -> HttpResponse:
    if request.method == "POST":
        services.opt_out(profile)
        messages.success(request, _("You no longer take part in bilateral meetings. We told the people concerned."))
        return redirect("meetings:home", slug=conference.slug)
    return render(request, "meetings/opt_out.html", {"conference": conference, "profile": profile})


@login_required
@require_GET
@participant
def directory(request: HttpRequest, conference: Conference, profile: Profile) -> HttpResponse:
    form = DirectoryForm(
        request.GET or None, conference=conference, countries=selectors.directory_countries(conference)
    )
    people = selectors.directory(conference, exclude=profile, **form.filters())
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "meetings/profile_list.html",
        {"conference": conference, "form": form, "page": page, "query": query.urlencode()},
    )


@login_required
@rate_limited
@require_http_methods(["GET", "POST"])
@participant
def person(request: HttpRequest, conference: Conference, profile: Profile, profile_id: int) -> HttpResponse:
    other = get_object_or_404(selectors.directory(conference, exclude=profile), pk=profile_id)
    blocks = list(selectors.blocks(conference))
    form = RequestForm(request.POST or None, conference=conference, blocks=selectors.blocks(conference))
    if request.method == "POST" and form.is_valid():
        try:
            services.send_request(
                profile,
                block=form.cleaned_data["block"],
                recipient=other,
                message=form.cleaned_data["message"],
                slot_ids=[slot.pk for slot in form.cleaned_data["slots"]],
            )
        except MeetingError as error:
            return _refused(request, conference, error)
        messages.success(
            request, _("Your request is sent to %(name)s. We will email you their answer.") % {"name": other}
        )
        return redirect("meetings:home", slug=conference.slug)
    return render(
        request,
        "meetings/profile_detail.html",
        {"conference": conference, "other": other, "form": form, "blocks": blocks},
        status=400 if form.errors else 200,
    )


@login_required
@rate_limited
@require_http_methods(["GET", "POST"])
@participant
def respond(request: HttpRequest, conference: Conference, profile: Profile, request_id: int) -> HttpResponse:
    meeting_request = selectors.request_of(profile, request_id)
    if meeting_request is None or meeting_request.recipient_id != profile.pk:
        raise Http404
    if meeting_request.status != MeetingRequest.Status.PENDING:
        messages.info(request, _("This request is no longer waiting for an answer; nothing was changed."))
        return redirect("meetings:home", slug=conference.slug)
    free = services.free_slots(meeting_request.block, meeting_request.sender, profile)
    block_slot_ids = meeting_request.block.slots.filter(is_break=False).values_list("pk", flat=True)
    action = request.POST.get("action")
    accept_form = AcceptForm(
        request.POST if action == "accept" else None,
        slots=free,
        block_slot_ids=block_slot_ids,
        conference=conference,
    )
    decline_form = DeclineForm(request.POST if action == "decline" else None)
    status = 200
    if request.method == "POST" and action not in ("accept", "decline"):
        status = 400
    elif action == "accept" and accept_form.is_valid():
        try:
            meeting = services.accept_request(meeting_request, by=profile, slot_id=accept_form.slot_id())
        except SlotTaken as error:
            accept_form = AcceptForm(slots=error.free_slots, block_slot_ids=block_slot_ids, conference=conference)
            accept_form.taken_message = error.message
            status = 409
        except MeetingError as error:
            return _refused(request, conference, error)
        else:
            if meeting.slot_id:
                messages.success(request, _("Meeting agreed. You will find its time and table below."))
            else:
                messages.success(request, _("Meeting agreed. The organisers will give it a time and a table."))
            return redirect("meetings:home", slug=conference.slug)
    elif action == "decline" and decline_form.is_valid():
        try:
            services.decline_request(meeting_request, by=profile, reason=decline_form.cleaned_data["reason"])
        except MeetingError as error:
            return _refused(request, conference, error)
        messages.success(request, _("Request declined. We have told %(name)s.") % {"name": meeting_request.sender})
        return redirect("meetings:home", slug=conference.slug)
    if accept_form.errors or decline_form.errors:
        status = 400
    return render(
        request,
        "meetings/request_respond.html",
        {
            "conference": conference,
            "meeting_request": meeting_request,
            "accept_form": accept_form,
            "decline_form": decline_form,
        },
        status=status,
    )


@login_required
@rate_limited
@require_http_methods(["GET", "POST"])
@participant
def cancel(request: HttpRequest, conference: Conference, profile: Profile, request_id: int) -> HttpResponse:
    meeting_request = selectors.request_of(profile, request_id)
    if meeting_request is None:
        raise Http404
    if request.method == "POST":
        try:
            services.cancel_request(meeting_request, by=profile)
        except MeetingError as error:
            return _refused(request, conference, error)
        messages.success(request, _("Cancelled. We have told %(name)s.") % {"name": meeting_request.other(profile)})
        return redirect("meetings:home", slug=conference.slug)
    return render(
        request,
        "meetings/request_cancel.html",
        {"conference": conference, "meeting_request": meeting_request, "other": meeting_request.other(profile)},
    )


def _refused(request: HttpRequest, conference: Conference, error: MeetingError) -> HttpResponse:
    """Why nothing was done, with the status the refusal carries."""
    return render(
        request, "meetings/refused.html", {"conference": conference, "message": error.message}, status=error.status
    )
