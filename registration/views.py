"""The attendee's pages: register, and see, change, cancel or take away one's own registration.

Every page works on the logged-in user's own registration; no address names a
registration, so nobody can reach another's. Writes go through `registration.services`.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import personal_data
from accounts.forms import DeleteAccountForm
from agenda import caching
from agenda.models import Conference
from conference.ratelimit import limit_posts
from registration import privacy, selectors, services, tickets
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
from registration.forms import DetailsForm, PreEventsForm, RegistrationForm
from registration.models import CONSENT_TEXTS, Consent, Registration


def changeable_registration(view: Callable) -> Callable:
    """Hand the view the user's own live registration (404 without one), or say why it cannot change (403)."""

    @wraps(view)
    def wrapper(request: HttpRequest, slug: str) -> HttpResponse:
        registration = selectors.registration_for(request.user, _conference(slug))
        if registration is None or registration.status not in Registration.LIVE_STATUSES:
            raise Http404
        if registration.conference.has_started:
            return _refused(request, slug, ChangesClosed())
        return view(request, registration)

    return wrapper


# Every registration POST counts in one limit, per user and per address.
rate_limited = limit_posts("registration")


@login_required
@rate_limited
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest, slug: str) -> HttpResponse:
    conference = _conference(slug)
    state = conference.registration_state
    # A POST is checked once, under the service's lock (AlreadyRegistered); looking first
    # as well would cost every registration of a burst another query.
    if request.method == "GET" or not state.is_open:
        current = selectors.registration_for(request.user, conference)
        if current is not None and current.status in Registration.LIVE_STATUSES:
            if request.method == "POST":
                return _already_registered(request, current)
            messages.info(request, _("You are already registered; here is your registration."))
            return redirect("registration:mine", slug=conference.slug)
    if not state.is_open:
        return _closed(request, conference, state.message)

    if request.method == "POST":
        form = RegistrationForm(request.POST, conference=conference)
    else:
        form = RegistrationForm(conference=conference, initial=selectors.last_details(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            services.register(
                request.user,
                conference,
                details=form.details(),
                session_ids=form.cleaned_data["pre_events"],
                privacy_statement=form.statement,
                consents=form.consents(),
            )
        except AlreadyRegistered as error:
            return _already_registered(request, error.registration)
        except RegistrationClosed as error:
            return _closed(request, conference, error.message)
        except RegistrationUnavailable as error:
            raise Http404 from error
        except (InvalidSessionChoice, OverlappingSessions) as error:
            form.add_error("pre_events", error.message)
        except PrivacyStatementChanged as error:
            form.add_error("privacy_agreed", error.message)
        else:
            return redirect("registration:mine", slug=conference.slug)
    return render(
        request,
        "registration/registration_form.html",
        {"conference": conference, "form": form, "places_left": selectors.places_left(conference)},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def mine(request: HttpRequest, slug: str) -> HttpResponse:
    conference = _conference(slug)
    registration = selectors.registration_for(request.user, conference)
    if registration is None:
        return redirect("registration:register", slug=conference.slug)
    return render(request, "registration/registration_detail.html", _detail_context(request, registration))


@login_required
@rate_limited
@require_http_methods(["GET", "POST"])
@changeable_registration
def edit(request: HttpRequest, registration: Registration) -> HttpResponse:
    form = DetailsForm(request.POST or None, instance=registration)
    if request.method == "POST" and form.is_valid():
        details = {name: form.cleaned_data[name] for name in Registration.DETAIL_FIELDS}
        try:
            services.update_details(registration, details=details, actor=request.user)
        except (ChangesClosed, InvalidTransition) as error:
            return _refused(request, registration.conference.slug, error)
        messages.success(request, _("Your details are saved."))
        return redirect("registration:mine", slug=registration.conference.slug)
    return render(
        request,
        "registration/registration_edit.html",
        {"conference": registration.conference, "registration": registration, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@rate_limited
@require_http_methods(["GET", "POST"])
@changeable_registration
def pre_events(request: HttpRequest, registration: Registration) -> HttpResponse:
    booked = [booking.session_id for booking in registration.bookings.all()]
    form = PreEventsForm(request.POST or None, conference=registration.conference, initial={"pre_events": booked})
    if request.method == "POST" and form.is_valid():
        try:
            services.change_bookings(
                registration,
                session_ids=form.cleaned_data["pre_events"],
                actor=request.user,
            )
        except (InvalidSessionChoice, OverlappingSessions) as error:
            form.add_error("pre_events", error.message)
        except (ChangesClosed, InvalidTransition) as error:
            return _refused(request, registration.conference.slug, error)
        else:
            messages.success(request, _("Your pre-event choices are saved."))
            return redirect("registration:mine", slug=registration.conference.slug)
    return render(
        request,
        "registration/booking_form.html",
        {"conference": registration.conference, "registration": registration, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@rate_limited
@require_http_methods(["GET", "POST"])
@changeable_registration
def cancel(request: HttpRequest, registration: Registration) -> HttpResponse:
    if request.method == "POST":
        try:
            services.cancel_registration(registration, actor=request.user)
        except (ChangesClosed, InvalidTransition) as error:
            return _refused(request, registration.conference.slug, error)
        messages.success(request, _("Your registration is cancelled. We have sent you an email to confirm it."))
        return redirect("registration:mine", slug=registration.conference.slug)
    return render(
        request,
        "registration/registration_cancel.html",
        {"conference": registration.conference, "registration": registration},
    )


@login_required
@rate_limited
@require_POST
def consent(request: HttpRequest, slug: str, purpose: str) -> HttpResponse:
    """Give or withdraw one consent with one click; withdrawing the agreement to the privacy
    statement cancels the registration and erases its personal data."""
    conference = _conference(slug)
    registration = selectors.registration_for(request.user, conference)
    if registration is None or purpose not in Consent.Purpose.values:
        raise Http404
    action = request.POST.get("action")
    if action not in ("give", "withdraw") or (purpose == Consent.Purpose.PRIVACY and action == "give"):
        context = _detail_context(request, registration)
        context["notice"] = _("Choose to give or to withdraw your agreement with one of the buttons below.")
        return render(request, "registration/registration_detail.html", context, status=400)
    try:
        if purpose == Consent.Purpose.PRIVACY:
            privacy.withdraw_privacy_consent(registration, actor=request.user)
            messages.success(
                request,
                _("You withdrew your agreement: your registration is cancelled and its personal data erased."),
            )
            return redirect(conference)
        if action == "give":
            services.give_consent(registration, purpose)
            messages.success(request, _("Your agreement is recorded. You can withdraw it here at any time."))
        else:
            services.withdraw_consent(registration, purpose)
            messages.success(request, _("Your agreement is withdrawn."))
    except InvalidTransition as error:
        return _refused(request, slug, error)
    return redirect("registration:mine", slug=conference.slug)


@login_required
@require_GET
def export(request: HttpRequest, slug: str) -> JsonResponse:
    conference = _conference(slug)
    response = JsonResponse(
        personal_data.personal_data(request.user), json_dumps_params={"indent": 2, "ensure_ascii": False}
    )
    response["Content-Disposition"] = f'attachment; filename="my-data-{conference.slug}.json"'
    return response


@login_required
@rate_limited
@require_http_methods(["GET", "POST"])
def delete_account(request: HttpRequest, slug: str) -> HttpResponse:
    conference = _conference(slug)
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        personal_data.delete_account(request.user)
        logout(request)
        messages.success(request, _("Your account is deleted and your personal data erased."))
        return redirect(conference)
    return render(
        request,
        "registration/account_delete.html",
        {"conference": conference, "form": form},
        status=400 if form.errors else 200,
    )


def _conference(slug: str) -> Conference:
    """Unpublished and cancelled conferences do not exist for attendees. A copy from the
    cache: the services read the conference again under their lock before they write."""
    return caching.published_conference(slug)


def _detail_context(request: HttpRequest, registration: Registration) -> dict:
    positions = selectors.booking_positions(registration)
    for booking in registration.bookings.all():
        booking.position = positions.get(booking.pk)
    return {
        "conference": registration.conference,
        "registration": registration,
        "position": selectors.waitlist_position(registration),
        "may_change": not registration.conference.has_started,
        "may_register_again": registration.conference.registration_state.is_open,
        # The ticket's and certificate's links, from the check-in app (registration.tickets).
        "ticket_section": tickets.page_section(request, registration),
        "consents": _consents(registration),
    }


def _consents(registration: Registration) -> list[dict]:
    """Each purpose with the agreement in force (if any), the words one would agree to now,
    and every agreement given and withdrawn."""
    given = list(registration.consents.all())
    return [
        {
            "purpose": purpose,
            "label": label,
            "current": next((c for c in given if c.purpose == purpose and c.withdrawn_at is None), None),
            "text": CONSENT_TEXTS.get(purpose, ""),
            "history": [c for c in given if c.purpose == purpose],
        }
        for purpose, label in Consent.Purpose.choices
    ]


def _already_registered(request: HttpRequest, registration: Registration) -> HttpResponse:
    """A double submit or a second tab: the registration already made, and a 409."""
    context = _detail_context(request, registration)
    context["notice"] = AlreadyRegistered.default_message
    return render(request, "registration/registration_detail.html", context, status=409)


def _closed(request: HttpRequest, conference: Conference, message: str) -> HttpResponse:
    return render(
        request,
        "registration/registration_closed.html",
        {"conference": conference, "message": message},
        status=403 if request.method == "POST" else 200,
    )


def _refused(request: HttpRequest, slug: str, error: ChangesClosed | InvalidTransition) -> HttpResponse:
    """The registration as it stands, with why the change was not made: 403 past the deadline, else 409."""
    context = _detail_context(request, selectors.registration_for(request.user, _conference(slug)))
    context["notice"] = error.message
    return render(
        request,
        "registration/registration_detail.html",
        context,
        status=403 if isinstance(error, ChangesClosed) else 409,
    )
