import django_countries
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_countries.filters import CountryFilter

from accounts.admin import ConferenceTimesAdmin, TeamScopedAdmin, TeamScopedInline
from accounts.teams import limit, team_conference_ids, user_can
from agenda.models import Conference, Session
from registration import exports, messaging, privacy, services
from registration.exceptions import RegistrationError
from registration.messaging import MessageError
from registration.models import (
    Booking,
    ConferenceRetention,
    Consent,
    ExportRecord,
    Message,
    Registration,
    RegistrationChange,
    User,
)
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
        if conference and conference.isascii() and conference.isdigit():
            sessions = sessions.filter(conference_id=conference)
        return [(session.pk, f"{session.title} ({session.conference})") for session in sessions]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        # isascii: isdigit alone takes "²", which is no number to the database.
        if self.value() and self.value().isascii() and self.value().isdigit():
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


class BookingInline(ConferenceTimesAdmin, TeamScopedInline, admin.TabularInline):
    model = Booking
    conference_path = "session__conference"
    fields = ["session", "status", "status_changed_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("bookings (change them with “Pre-events” above)")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("session")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class RegistrationChangeInline(ConferenceTimesAdmin, TeamScopedInline, admin.TabularInline):
    model = RegistrationChange
    conference_path = "registration__conference"
    fields = ["created_at", "action", "actor", "details"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ConsentInline(ConferenceTimesAdmin, TeamScopedInline, admin.TabularInline):
    model = Consent
    conference_path = "registration__conference"
    fields = ["purpose", "given_at", "withdrawn_at", "text"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("consents (the attendee gives and withdraws them on their page)")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Registration)
class RegistrationAdmin(ConferenceTimesAdmin, TeamScopedAdmin, admin.ModelAdmin):
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
    readonly_fields = [
        "conference",
        "number",
        "user",
        "status",
        "privacy_agreed_at",
        "privacy_statement_agreed",
        "photo_opt_out",
        "essential_messages_only",
        "personal_data_erased_at",
    ]
    fieldsets = [
        (None, {"fields": ["conference", "number", "user", "status"]}),
        (_("Attendee"), {"fields": list(Registration.DETAIL_FIELDS)}),
        (_("Pre-events"), {"fields": ["pre_events"]}),
        (
            _("Privacy"),
            {
                "fields": [
                    "privacy_agreed_at",
                    "privacy_statement_agreed",
                    "photo_opt_out",
                    "essential_messages_only",
                    "personal_data_erased_at",
                ]
            },
        ),
    ]
    inlines = [BookingInline, ConsentInline, RegistrationChangeInline]
    actions = ["approve", "reject", "cancel", "move_up", "resend_confirmation", "export_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("bookings", queryset=Booking.objects.select_related("session")))
        )

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        # A registration that is over keeps its record as it was.
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and obj.status not in Registration.LIVE_STATUSES:
            return [*readonly, *Registration.DETAIL_FIELDS, "pre_events"]
        return readonly

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
            exports.attendee_columns(),
            exports.registration_values(selected, exports.attendee_columns()),
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
class BookingAdmin(ConferenceTimesAdmin, TeamScopedAdmin, admin.ModelAdmin):
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


@admin.register(ConferenceRetention)
class ConferenceRetentionAdmin(TeamScopedAdmin, admin.ModelAdmin):
    """What each conference erases when (registration.privacy), and how much is left; the
    periods are set on the conference itself."""

    conference_path = ""
    view_permission = "can_view_registrations"
    team_permission = "can_change_registrations"
    list_display = [
        "name",
        "end_date",
        "answers_erased_on",
        "answers_left",
        "warning_on",
        "personal_data_erased_on",
        "registrations_left",
        "periods",
    ]
    list_display_links = None
    ordering = ["-end_date", "pk"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        answered = ~Q(registrations__dietary_requirements="", registrations__accessibility_needs="")
        return (
            super()
            .get_queryset(request)
            .annotate(
                answers=Count("registrations", filter=answered),
                not_erased=Count("registrations", filter=Q(registrations__personal_data_erased_at__isnull=True)),
            )
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_team_permission(request, self._view_permission(), obj) or self.has_team_permission(
            request, self.team_permission, obj
        )

    @staticmethod
    def _day(conference: Conference, moment) -> str:
        local = timezone.localtime(moment, conference.tz)
        return f"{formats.date_format(local, 'DATE_FORMAT')} ({conference.timezone})"

    @admin.display(description=_("dietary and accessibility answers erased on"))
    def answers_erased_on(self, conference: Conference) -> str:
        return self._day(conference, conference.sensitive_answers_erased_at)

    @admin.display(description=_("registrations with such answers"), ordering="answers")
    def answers_left(self, conference: Conference) -> int:
        return conference.answers

    @admin.display(description=_("organisers warned on"))
    def warning_on(self, conference: Conference) -> str:
        return self._day(conference, conference.personal_data_erased_at - privacy.WARNING_AHEAD)

    @admin.display(description=_("personal data erased on"))
    def personal_data_erased_on(self, conference: Conference) -> str:
        return self._day(conference, conference.personal_data_erased_at)

    @admin.display(description=_("registrations still to erase"), ordering="not_erased")
    def registrations_left(self, conference: Conference) -> int:
        return conference.not_erased

    @admin.display(description=_("periods"))
    def periods(self, conference: Conference) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:agenda_conference_change", args=[conference.pk]),
            _("Change the periods"),
        )


@admin.register(RegistrationChange)
class RegistrationChangeAdmin(ConferenceTimesAdmin, TeamScopedAdmin, admin.ModelAdmin):
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
class ExportRecordAdmin(ConferenceTimesAdmin, TeamScopedAdmin, admin.ModelAdmin):
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


MESSAGE_PERMISSION = "can_message_attendees"


class MessageAdminForm(forms.ModelForm):
    """The audience and the text; placeholders that do not exist are refused here, at save."""

    statuses = forms.MultipleChoiceField(
        label=_("Registrations that are"),
        choices=[(status.value, status.label) for status in messaging.AUDIENCE_STATUSES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one status: confirmed, waiting or pending approval.")},
    )
    countries = forms.MultipleChoiceField(
        label=_("From the countries"),
        choices=list(django_countries.countries),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("None chosen: every country."),
    )
    organisation_types = forms.MultipleChoiceField(
        label=_("Organisation types"),
        choices=Registration.OrganisationType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: every type."),
    )

    class Meta:
        model = Message
        fields = [
            "conference",
            "statuses",
            "pre_event",
            "checked_in",
            "countries",
            "organisation_types",
            "essential",
            "language",
            *(f"{part}_{code}" for code, _name in settings.LANGUAGES for part in ("subject", "body")),
        ]
        help_texts = {
            "pre_event": _("Only those with a seat on this pre-event (of the same conference)."),
            "language": _(
                "The language the message is first written in; it goes to those whose language has no translation."
            ),
        }

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "conference" in self.fields:
            self.fields["conference"].queryset = limit(Conference.objects.all(), user, MESSAGE_PERMISSION, via="")
        if "pre_event" in self.fields:
            self.fields["pre_event"].queryset = limit(
                Session.objects.with_sign_up().select_related("conference").order_by("conference", "start"),
                user,
                MESSAGE_PERMISSION,
            )
        if not messaging.can_filter_check_in():
            self.fields.pop("checked_in", None)
        for code, _name in settings.LANGUAGES:
            if f"body_{code}" in self.fields:
                self.fields[f"body_{code}"].help_text = _(
                    "Placeholders: {given_name}, {family_name}, {conference}, {my_registration_url}."
                )

    def clean(self) -> dict:
        data = super().clean()
        for code, name in settings.LANGUAGES:
            for part in ("subject", "body"):
                field = f"{part}_{code}"
                unknown = messaging.unknown_placeholders(data.get(field) or "")
                if unknown:
                    self.add_error(
                        field,
                        ngettext(
                            "%(names)s is not a placeholder. The placeholders are %(known)s.",
                            "%(names)s are not placeholders. The placeholders are %(known)s.",
                            len(unknown),
                        )
                        % {
                            "names": ", ".join(f"{{{name}}}" for name in unknown),
                            "known": ", ".join(f"{{{name}}}" for name in messaging.PLACEHOLDERS),
                        },
                    )
            subject, body = (data.get(f"subject_{code}") or "").strip(), (data.get(f"body_{code}") or "").strip()
            if code == data.get("language") and not (subject and body):
                self.add_error(
                    f"subject_{code}" if not subject else f"body_{code}",
                    _("Write the subject and the message in the language it is written in (%(language)s).")
                    % {"language": name},
                )
            elif bool(subject) != bool(body):
                self.add_error(
                    f"subject_{code}" if not subject else f"body_{code}",
                    _("Give both the subject and the message in %(language)s, or neither.") % {"language": name},
                )
        conference, pre_event = data.get("conference"), data.get("pre_event")
        if pre_event is not None and conference is not None and pre_event.conference_id != conference.pk:
            self.add_error("pre_event", _("Choose a pre-event of the conference the message goes to."))
        return data


@admin.register(Message)
class MessageAdmin(ConferenceTimesAdmin, admin.ModelAdmin):
    """Organisers (and team members who may message attendees) write a message, preview it,
    send themselves a test, then send it; the page shows its progress, and the message
    stays in the conference's history with its audience and counts."""

    form = MessageAdminForm
    list_display = [
        "__str__",
        "conference",
        "state",
        "essential",
        "recipient_count",
        "sent_count",
        "failed_count",
        "created_at",
    ]
    list_filter = ["conference", "state", "essential"]
    list_select_related = ["conference"]
    readonly_fields = ["state", "created_by", "created_at", "sent_by", "send_started_at", "recipient_count"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "conference",
                    "state",
                    "created_by",
                    "created_at",
                    "sent_by",
                    "send_started_at",
                    "recipient_count",
                ]
            },
        ),
        (
            _("Audience"),
            {"fields": ["statuses", "pre_event", "checked_in", "countries", "organisation_types", "essential"]},
        ),
        (
            _("Text"),
            {
                "fields": [
                    "language",
                    *(f"{part}_{code}" for code, _name in settings.LANGUAGES for part in ("subject", "body")),
                ]
            },
        ),
    ]
    change_form_template = "admin/registration/message/change_form.html"
    actions = ["carry_on_sending"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return limit(super().get_queryset(request).with_counts(), request.user, MESSAGE_PERMISSION)

    def get_fieldsets(self, request: HttpRequest, obj=None) -> list:
        fieldsets = super().get_fieldsets(request, obj)
        if messaging.can_filter_check_in():
            return fieldsets
        return [
            (name, {"fields": [field for field in options["fields"] if field != "checked_in"]})
            for name, options in fieldsets
        ]

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)

        class WithUser(form):
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, user=request.user, **kwargs)

        return WithUser

    def _may(self, request: HttpRequest, obj: Message | None = None) -> bool:
        if obj is not None:
            return user_can(request.user, obj.conference_id, MESSAGE_PERMISSION)
        user = request.user
        return user.is_active and (user.is_superuser or team_conference_ids(user, MESSAGE_PERMISSION).exists())

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._may(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # A message once sent is history: it stays as it went out.
        return self._may(request, obj) and (obj is None or obj.state == Message.State.DRAFT)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._may(request, obj) and (obj is None or obj.state == Message.State.DRAFT)

    @admin.display(description=_("sent"))
    def sent_count(self, message: Message) -> int:
        return message.sent_count

    @admin.display(description=_("failed"))
    def failed_count(self, message: Message) -> int:
        return message.failed_count

    @admin.action(description=_("Carry on sending the selected messages (after a broker outage)"))
    def carry_on_sending(self, request: HttpRequest, queryset: QuerySet) -> None:
        # Harmless for a message whose task is still running: the batches take turns on its
        # row lock, and the dedup keys keep each recipient to one email.
        sending = [message.pk for message in queryset.filter(state=Message.State.SENDING)]
        for message_id in sending:
            messaging.hand_over(message_id)
        self.message_user(
            request,
            ngettext(
                "%(count)d message handed to the workers.", "%(count)d messages handed to the workers.", len(sending)
            )
            % {"count": len(sending)},
            messages.SUCCESS if sending else messages.WARNING,
        )

    def save_model(self, request: HttpRequest, obj: Message, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/preview/", wrap(self.preview_view), name="registration_message_preview"),
            path("<int:pk>/send/", wrap(self.send_view), name="registration_message_send"),
            path("<int:pk>/progress.json", wrap(self.progress_view), name="registration_message_progress"),
            *super().get_urls(),
        ]

    def _message(self, request: HttpRequest, pk: int) -> Message:
        message = self.get_queryset(request).select_related("conference").filter(pk=pk).first()
        if message is None or not self._may(request, message):
            raise Http404(_("No such message."))
        return message

    def _page(self, request: HttpRequest, message: Message, template: str, title: str, **context) -> TemplateResponse:
        return TemplateResponse(
            request,
            f"admin/registration/message/{template}",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "message": message,
                "opts": self.model._meta,
                **context,
            },
        )

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """One recipient's email with their data filled in; POST sends it to oneself."""
        message = self._message(request, pk)
        if request.method == "POST":
            messaging.send_test(message, user=request.user)
            self.message_user(
                request,
                _("A test copy is on its way to %(address)s.") % {"address": request.user.email},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(request.path)
        recipient, rendered = messaging.preview(message)
        return self._page(request, message, "preview.html", _("Preview"), recipient=recipient, rendered=rendered)

    def send_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """GET: how many people will receive it; POST: send it, once."""
        message = self._message(request, pk)
        change_url = reverse("admin:registration_message_change", args=[message.pk])
        if request.method == "POST":
            expected = request.POST.get("count", "")
            try:
                messaging.start_sending(
                    message.pk, actor=request.user, expected=int(expected) if expected.isdigit() else None
                )
            except MessageError as error:
                self.message_user(request, error.message, messages.ERROR)
                return HttpResponseRedirect(change_url if message.state != Message.State.DRAFT else request.path)
            self.message_user(request, _("Sending has started."), messages.SUCCESS)
            return HttpResponseRedirect(change_url)
        if message.state != Message.State.DRAFT:
            self.message_user(request, _("This message has already been sent; nobody gets it twice."), messages.WARNING)
            return HttpResponseRedirect(change_url)
        count = messaging.audience(message).count()
        return self._page(request, message, "send.html", _("Send this message?"), count=count)

    def progress_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        return JsonResponse(messaging.progress(self._message(request, pk)))
