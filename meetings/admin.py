"""The organisers' side of bilateral meetings in the admin: sectors and themes, meeting
blocks (settings, slots and breaks, the scheduler, the table plan), meetings (no-shows).

Who may: superusers, and members of a team with the "run bilateral meetings" permission,
who see and change only their teams' conferences (accounts.teams)."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.admin import ConferenceTimesAdmin, TeamScopedInline
from accounts.models import Team
from accounts.teams import limit
from agenda.models import Conference, Session
from meetings import services
from meetings.exceptions import MeetingError
from meetings.models import Meeting, MeetingBlock, MeetingRequest, MeetingSettings, Profile, Sector, Slot, Theme

PERMISSION = "can_run_meetings"


class TeamPermissionAdmin(ConferenceTimesAdmin, admin.ModelAdmin):
    """Everything of the conferences where the user may run meetings, and nothing else."""

    conference_path = "conference"

    def _may(self, request: HttpRequest, obj=None) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if user.is_superuser:
            return True
        if obj is not None:
            return limit(self.model.objects.filter(pk=obj.pk), user, PERMISSION, via=self.conference_path).exists()
        return Team.objects.filter(members=user, **{PERMISSION: True}).exists()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._may(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._may(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._may(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return limit(super().get_queryset(request), request.user, PERMISSION, via=self.conference_path)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.related_model is Conference:
            kwargs["queryset"] = limit(Conference.objects.all(), request.user, PERMISSION, via="")
        elif db_field.related_model is Session:
            sessions = Session.objects.filter(kind=Session.Kind.BILATERAL).select_related("conference")
            kwargs["queryset"] = limit(sessions, request.user, PERMISSION, via="conference")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Sector)
class SectorAdmin(TeamPermissionAdmin):
    list_display = ["name", "conference"]
    list_filter = ["conference"]
    search_fields = ["name"]


@admin.register(Theme)
class ThemeAdmin(TeamPermissionAdmin):
    list_display = ["name", "conference"]
    list_filter = ["conference"]
    search_fields = ["name"]


@admin.register(MeetingSettings)
class MeetingSettingsAdmin(TeamPermissionAdmin):
    list_display = ["conference", "approve_profiles"]


@admin.register(Profile)
class ProfileAdmin(TeamPermissionAdmin):
    """Profiles to approve (where the conference's settings ask for it), and who takes part."""

    list_display = ["__str__", "organisation", "conference", "opted_in", "status", "updated_at"]
    list_filter = ["status", "opted_in", "conference"]
    list_select_related = ["registration", "conference"]
    search_fields = ["registration__given_name", "registration__family_name", "registration__organisation"]
    fields = [
        "registration",
        "conference",
        "opted_in",
        "status",
        "refusal_reason",
        "offer",
        "seek",
        "languages",
        "sectors",
        "themes",
    ]
    readonly_fields = fields
    actions = ["approve", "refuse"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Leaving goes through opting out, which tells the people concerned.
        return False

    @admin.display(description=_("organisation"), ordering="registration__organisation")
    def organisation(self, profile: Profile) -> str:
        return profile.registration.organisation

    @admin.action(description=_("Approve these profiles (their owners are told by email)"))
    def approve(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._review(request, queryset, services.approve_profile)

    @admin.action(description=_("Do not approve these profiles (their owners are told by email)"))
    def refuse(self, request: HttpRequest, queryset: QuerySet) -> None:
        # One answer for many profiles gives no reason; the staff page takes one per profile.
        self._review(request, queryset, services.refuse_profile)

    def _review(self, request: HttpRequest, queryset: QuerySet, review) -> None:
        done = sum(review(profile) for profile in queryset.filter(status=Profile.Status.PENDING).order_by("pk"))
        self.message_user(
            request,
            ngettext(
                "%(count)s profile answered; only profiles waiting for approval are.",
                "%(count)s profiles answered; only profiles waiting for approval are.",
                done,
            )
            % {"count": done},
        )


class SlotInline(ConferenceTimesAdmin, TeamScopedInline, admin.TabularInline):
    """The block's slots, for whoever may change the block: the times follow the session,
    breaks are ticked here."""

    model = Slot
    conference_path = "block__session__conference"
    fields = ["start", "end", "is_break"]
    readonly_fields = ["start", "end"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(MeetingBlock)
class MeetingBlockAdmin(TeamPermissionAdmin):
    conference_path = "session__conference"
    list_display = ["session", "conference", "slot_minutes", "tables", "max_meetings", "is_cancelled", "plan"]
    list_filter = ["session__conference", "is_cancelled"]
    list_select_related = ["session__conference"]
    readonly_fields = ["is_cancelled"]
    inlines = [SlotInline]
    actions = ["schedule", "cancel"]

    @admin.display(description=_("conference"))
    def conference(self, block: MeetingBlock) -> Conference:
        return block.session.conference

    @admin.display(description=_("table plan"))
    def plan(self, block: MeetingBlock) -> str:
        kwargs = {"slug": block.session.conference.slug, "block_id": block.pk}
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("meetings:table_plan", kwargs=kwargs),
            _("print"),
            reverse("meetings:table_plan_csv", kwargs=kwargs),
            _("CSV"),
        )

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Slots follow the block's length and its session's times; breaks ticked above stay.
        services.set_up_block(form.instance)

    @admin.action(description=_("Give accepted meetings without a time a slot and a table"))
    def schedule(self, request: HttpRequest, queryset: QuerySet) -> None:
        for block in queryset:
            try:
                result = services.schedule_block(block)
            except MeetingError as error:
                self.message_user(request, f"{block}: {error.message}", messages.ERROR)
                continue
            self.message_user(
                request,
                _("%(block)s: %(placed)s meetings placed, %(unplaced)s could not be.")
                % {"block": block, "placed": result.placed, "unplaced": result.unplaced},
                messages.SUCCESS if not result.unplaced else messages.WARNING,
            )

    @admin.action(description=_("Cancel these blocks and every meeting in them"))
    def cancel(self, request: HttpRequest, queryset: QuerySet) -> None:
        for block in queryset.filter(is_cancelled=False):
            services.cancel_block(block)
        self.message_user(request, _("Cancelled; everyone concerned is told by email."))


@admin.register(MeetingRequest)
class MeetingRequestAdmin(TeamPermissionAdmin):
    conference_path = "block__session__conference"
    list_display = ["sender", "recipient", "block", "status", "created_at"]
    list_filter = ["status", "block__session__conference"]
    list_select_related = ["sender__registration", "recipient__registration", "block__session"]
    readonly_fields = [
        "block",
        "sender",
        "recipient",
        "message",
        "status",
        "reason",
        "created_at",
        "expires_at",
        "answered_at",
    ]
    exclude = ["proposed_slots"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Meeting)
class MeetingAdmin(TeamPermissionAdmin):
    conference_path = "block__session__conference"
    list_display = ["request", "block", "slot_start", "table", "status", "no_show"]
    list_filter = ["status", "no_show", "block__session__conference"]
    list_select_related = [
        "request__sender__registration",
        "request__recipient__registration",
        "slot",
        "table",
        "block__session",
    ]
    fields = ["request", "block", "slot_start", "table", "status", "no_show"]
    readonly_fields = fields
    actions = ["mark_no_show", "mark_held"]

    @admin.display(description=_("slot"), ordering="slot__start")
    def slot_start(self, meeting: Meeting) -> str:
        return self.in_conference_zone(meeting, meeting.slot.start if meeting.slot_id else None)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Mark as not taken place (no-show)"))
    def mark_no_show(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._mark(request, queryset, no_show=True)

    @admin.action(description=_("Mark as taken place"))
    def mark_held(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._mark(request, queryset, no_show=False)

    def _mark(self, request: HttpRequest, queryset: QuerySet, *, no_show: bool) -> None:
        meetings = list(queryset.filter(status=Meeting.Status.SCHEDULED))
        for meeting in meetings:
            services.mark_no_show(meeting, no_show=no_show)
        self.message_user(
            request,
            ngettext("%(count)s meeting marked.", "%(count)s meetings marked.", len(meetings))
            % {"count": len(meetings)},
        )
