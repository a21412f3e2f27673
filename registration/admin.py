from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_countries.filters import CountryFilter

from accounts.admin import TeamScopedAdmin, TeamScopedInline
from accounts.teams import user_can
from agenda.models import Conference, Session
from registration import exports, services
from registration.exceptions import RegistrationError
from registration.models import Booking, ExportRecord, Registration, RegistrationChange, User
from registration.notifications import notify


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "is_staff", "is_active", "date_joined"]
    search_fields = ["email"]
    fieldsets = [
        (None, {"fields": ["email", "password", "language"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


class PreEventFilter(admin.SimpleListFilter):
    title = _("pre-event")
    parameter_name = "pre_event"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[int, str]]:
        sessions = model_admin.limit_to_teams(request, Session.objects.with_sign_up(), view=True)
        sessions = sessions.select_related("conference")
        conference = request.GET.get("conference__id__exact")
        if conference and conference.isdigit():
            sessions = sessions.filter(conference_id=conference)
        return [(session.pk, f"{session.title} ({session.conference})") for session in sessions]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() and self.value().isdigit():
            return queryset.filter(bookings__session_id=self.value())
        return queryset


class RegistrationAdminForm(forms.ModelForm):
    """The attendee's details and their pre-events; saved through the services, so the rules and history hold."""

    pre_events = forms.ModelMultipleChoiceField(
        queryset=Session.objects.none(),
        required=False,
        label=_("Pre-events"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A full pre-event puts the attendee on its waiting list; a freed seat goes to the next in line."),
    )

    class Meta:
        model = Registration
        fields = Registration.DETAIL_FIELDS

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.booked = set(self.instance.bookings.values_list("session_id", flat=True))
        if "pre_events" not in self.fields:  # read-only once the registration is over
            return
        with_sign_up = Session.objects.with_sign_up().filter(conference=self.instance.conference_id)
        self.fields["pre_events"].queryset = Session.objects.filter(
            Q(pk__in=with_sign_up) | Q(pk__in=self.booked)
        ).order_by("start", "title")
        self.fields["pre_events"].initial = sorted(self.booked)

    def clean_pre_events(self) -> QuerySet:
        chosen = self.cleaned_data["pre_events"]
        try:
            services.check_session_choice(list(chosen), chosen={s.pk for s in chosen}, already_booked=self.booked)
        except RegistrationError as error:
            raise forms.ValidationError(error.message) from error
        return chosen


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason, as the attendees will read it"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Give the reason; it is sent to each attendee.")},
    )


class BookingInline(TeamScopedInline, admin.TabularInline):
    model = Booking
    fields = ["session", "status", "status_changed_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("bookings (change them with “Pre-events” above)")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("session")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class RegistrationChangeInline(TeamScopedInline, admin.TabularInline):
    model = RegistrationChange
    fields = ["created_at", "action", "actor", "details"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Registration)
class RegistrationAdmin(TeamScopedAdmin, admin.ModelAdmin):
    view_permission = "can_view_registrations"
    team_permission = "can_change_registrations"
    action_permissions = {"export_selected": "can_export_attendees"}
    form = RegistrationAdminForm
    list_display = [
        "number",
        "full_name",
        "email",
        "status",
        "country",
        "organisation",
        "organisation_type",
        "pre_events",
        "created_at",
    ]
    list_display_links = ["number", "full_name"]
    list_filter = ["conference", "status", "organisation_type", ("country", CountryFilter), PreEventFilter]
    list_select_related = ["conference", "user"]
    search_fields = ["given_name", "family_name", "user__email", "organisation"]
    date_hierarchy = "created_at"
    ordering = ["conference", "number"]
    readonly_fields = ["conference", "number", "user", "status", "privacy_agreed_at", "privacy_statement_agreed"]
    fieldsets = [
        (None, {"fields": ["conference", "number", "user", "status"]}),
        (_("Attendee"), {"fields": list(Registration.DETAIL_FIELDS)}),
        (_("Pre-events"), {"fields": ["pre_events"]}),
        (_("Privacy"), {"fields": ["privacy_agreed_at", "privacy_statement_agreed"]}),
    ]
    inlines = [BookingInline, RegistrationChangeInline]
    actions = ["approve", "reject", "cancel", "move_up", "resend_confirmation", "export_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("bookings", queryset=Booking.objects.select_related("session")))
        )

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        # A registration that is over keeps its record as it was.
        if obj is not None and obj.status not in Registration.LIVE_STATUSES:
            return [*self.readonly_fields, *Registration.DETAIL_FIELDS, "pre_events"]
        return self.readonly_fields

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_team_permission(request, "can_export_attendees")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # attendees register themselves; the form keeps the privacy agreement

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # cancel instead: numbers, history and figures stay whole

    @admin.display(description=_("email"), ordering="user__email")
    def email(self, registration: Registration) -> str:
        return registration.user.email if registration.user else ""

    @admin.display(description=_("pre-events"))
    def pre_events(self, registration: Registration) -> str:
        return format_html_join(
            ", ",
            "{} ({})",
            ((booking.session.code, booking.get_status_display()) for booking in registration.bookings.all()),
        )

    def save_model(self, request: HttpRequest, obj: Registration, form: RegistrationAdminForm, change: bool) -> None:
        details = {name: form.cleaned_data[name] for name in Registration.DETAIL_FIELDS if name in form.changed_data}
        if details:
            services.update_details(obj, details=details, actor=request.user)
        if "pre_events" in form.changed_data:
            services.change_bookings(
                obj, session_ids=[session.pk for session in form.cleaned_data["pre_events"]], actor=request.user
            )

    @admin.action(description=_("Approve selected registrations"), permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet) -> None:
        # In the order they came, so that places left go to the earliest.
        self._apply(request, queryset.order_by("created_at", "pk"), services.approve_registration)

    @admin.action(description=_("Reject selected registrations, with a reason"), permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            self._apply(request, queryset, lambda r, actor: services.reject_registration(r, actor=actor, reason=reason))
            return None
        return self._confirm(request, queryset, "reject", _("Reject these registrations?"), form)

    @admin.action(description=_("Cancel selected registrations"), permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if "apply" in request.POST:
            self._apply(request, queryset, services.cancel_registration)
            return None
        return self._confirm(request, queryset, "cancel", _("Cancel these registrations?"), None)

    @admin.action(description=_("Move selected to the front of the waiting list"), permissions=["change"])
    def move_up(self, request: HttpRequest, queryset: QuerySet) -> None:
        # Last first, so that the selected keep their order among themselves at the front.
        self._apply(request, queryset.order_by("-status_changed_at", "-pk"), services.move_up)

    @admin.action(description=_("Send the confirmation again, as it stands now"), permissions=["change"])
    def resend_confirmation(self, request: HttpRequest, queryset: QuerySet) -> None:
        confirmed = queryset.filter(status=Registration.Status.CONFIRMED).select_related("user", "conference")
        with transaction.atomic():
            queued = [email for registration in confirmed if (email := notify(registration, "confirmed"))]
        self.message_user(
            request,
            ngettext("%(count)d confirmation queued.", "%(count)d confirmations queued.", len(queued))
            % {"count": len(queued)},
            messages.SUCCESS if queued else messages.WARNING,
        )

    @admin.action(description=_("Export selected registrations"), permissions=["export"])
    def export_selected(self, request: HttpRequest, queryset: QuerySet[Registration]):
        """The selected registrations as the attendee list (Excel dialect).

        Needs the export permission of the conference (the selection is cut down to it
        first); the selection must belong to one conference, whose zone the dates are
        written in.
        """
        conference_ids = list(queryset.order_by().values_list("conference", flat=True).distinct()[:2])
        if len(conference_ids) != 1:
            self.message_user(request, _("Select the registrations of one conference at a time."), messages.ERROR)
            return None
        conference = Conference.objects.get(pk=conference_ids[0])
        if not user_can(request.user, conference, "can_export_attendees"):
            raise PermissionDenied
        selected = Registration.objects.filter(pk__in=queryset.values("pk")).order_by("number")
        export = exports.AttendeeList(
            conference,
            ExportRecord.Kind.SELECTION,
            "selection",
            exports.ATTENDEE_COLUMNS,
            exports.registration_values(selected, exports.ATTENDEE_COLUMNS),
            {},
        )
        return exports.export_response(export, user=request.user, dialect=exports.Dialect.EXCEL)

    def _apply(self, request: HttpRequest, queryset: QuerySet, service) -> None:
        done = 0
        for registration in queryset:
            try:
                service(registration, actor=request.user)
            except RegistrationError as error:
                self.message_user(
                    request, f"#{registration.number} {registration.full_name}: {error.message}", messages.WARNING
                )
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext("%(count)d registration changed.", "%(count)d registrations changed.", done) % {"count": done},
                messages.SUCCESS,
            )

    def _confirm(self, request: HttpRequest, queryset: QuerySet, action: str, title: str, form) -> TemplateResponse:
        return TemplateResponse(
            request,
            "admin/registration/registration/action_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "action": action,
                "form": form,
                "registrations": queryset.select_related("conference", "user"),
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(Booking)
class BookingAdmin(TeamScopedAdmin, admin.ModelAdmin):
    conference_path = "session__conference"
    team_permission = "can_view_registrations"
    list_display = ["registration", "session", "status", "status_changed_at"]
    list_filter = ["session__conference", "status", "session"]
    list_select_related = ["registration__conference", "session"]
    search_fields = ["registration__given_name", "registration__family_name", "registration__user__email"]
    ordering = ["session", "status", "status_changed_at", "pk"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # bookings change through their registration, where the seat rules run

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(RegistrationChange)
class RegistrationChangeAdmin(TeamScopedAdmin, admin.ModelAdmin):
    conference_path = "registration__conference"
    team_permission = "can_view_registrations"
    list_display = ["created_at", "registration", "action", "actor"]
    list_filter = ["action", "registration__conference", "created_at"]
    list_select_related = ["registration__conference", "actor"]
    search_fields = ["registration__given_name", "registration__family_name", "actor__email"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the history is a record; nobody rewrites it

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ExportRecord)
class ExportRecordAdmin(TeamScopedAdmin, admin.ModelAdmin):
    team_permission = "can_export_attendees"
    """Who downloaded which attendee list: kept as written."""

    list_display = ["created_at", "conference", "kind", "user_email", "rows", "finished_at"]
    list_filter = ["kind", "conference"]
    search_fields = ["user_email"]
    date_hierarchy = "created_at"
    list_select_related = ["conference"]
    fields = ["conference", "kind", "user", "user_email", "filters", "columns", "rows", "created_at", "finished_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Superusers only, e.g. with a conference they delete.
        return request.user.is_superuser
