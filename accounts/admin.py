"""Teams in the admin: the Team admin, invitations, and the mixin scoping every
conference-bound ModelAdmin to the user's teams."""

import functools

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import DateTimeField, F, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import Team, TeamInvitation
from accounts.teams import limit, team_conference_ids, user_can
from conference.times import named_moment
from outbox.admin import OutgoingEmailAdmin
from outbox.models import OutgoingEmail

# The conference model, reached through Team: accounts imports no other app of ours.
Conference = Team._meta.get_field("conferences").related_model


class ConferenceTimesAdmin:
    """Shows every date-time of a ModelAdmin or inline (its list columns and read-only fields)
    in the zone of the conference its row belongs to, named beside it: "5 December 2026,
    02:59 (Europe/Madrid)". The model reaches its conference along `conference_path`; a row
    of no conference shows the server's zone, named too. The zone comes with the rows (one
    annotation), so a list costs no query more.

    A list's date drill-down and date filters group the rows by day in one zone, the
    current one: the conference's when every row the list may show is of conferences in
    one zone (one conference chosen in the filters, or a team of one conference), the
    server's otherwise; the page says which."""

    conference_path = "conference"
    # Django's list with a line saying which zone the drill-down counts days in.
    change_list_template = "admin/conference_times_change_list.html"
    ZONE = "conference_timezone"
    SUFFIX = "_in_conference_zone"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.model._meta.concrete_fields:
            if isinstance(field, DateTimeField):
                setattr(self, field.name + self.SUFFIX, self._in_zone(field))

    def in_conference_zone(self, obj, value) -> str:
        """`value`, a date-time of `obj` or of something it refers to, as this admin shows them."""
        if value is None:
            return self.get_empty_value_display()
        return named_moment(value, getattr(obj, self.ZONE, None) or settings.TIME_ZONE)

    def _in_zone(self, field: DateTimeField):
        @admin.display(description=capfirst(field.verbose_name), ordering=field.name)
        def shown(obj) -> str:
            return self.in_conference_zone(obj, getattr(obj, field.name))

        return shown

    def _zoned(self, names):
        return [
            name + self.SUFFIX if isinstance(name, str) and hasattr(self, name + self.SUFFIX) else name
            for name in names
        ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        rows = super().get_queryset(request).annotate(**{self.ZONE: F(f"{self.conference_path}__timezone")})
        if isinstance(self, InlineModelAdmin):
            # An inline shows each row's name, which may say a time in its conference's
            # zone. (Not for a change list: any select_related here replaces its own.)
            rows = rows.select_related(self.conference_path)
        return rows

    def changelist_view(self, request: HttpRequest, extra_context=None):
        if not self._groups_by_date(request):
            return super().changelist_view(request, extra_context)
        zone = self.list_zone(request)
        context = {
            **(extra_context or {}),
            "dates_zone": zone or settings.TIME_ZONE,
            "dates_zone_is_the_conferences": zone is not None,
        }
        with timezone.override(zone or settings.TIME_ZONE):
            response = super().changelist_view(request, context)
            # The drill-down reads its dates when rendered: inside the zone, not after.
            return response.render() if hasattr(response, "render") else response

    def list_zone(self, request: HttpRequest) -> str | None:
        """The zone of the conferences of every row the list may show (the user's rows, of
        the conference chosen in the filters if one is), None if they are in several; the
        server's for rows of no conference, and for no rows."""
        rows = self.get_queryset(request)
        chosen = request.GET.get(f"{self.conference_path}__id__exact", "")
        if chosen.isascii() and chosen.isdigit():
            rows = rows.filter(**{f"{self.conference_path}__id": chosen})
        # Three at most: a row of no conference (None, the server's zone) may equal another.
        found = rows.order_by().values_list(self.ZONE, flat=True).distinct()[:3]
        zones = {zone or settings.TIME_ZONE for zone in found}
        if len(zones) > 1:
            return None
        return zones.pop() if zones else settings.TIME_ZONE

    def _groups_by_date(self, request: HttpRequest) -> bool:
        """Whether the list has a date drill-down or a filter on a date-time."""
        if self.date_hierarchy:
            return True
        for entry in self.get_list_filter(request):
            path = entry[0] if isinstance(entry, tuple | list) else entry
            if isinstance(path, str) and isinstance(get_fields_from_path(self.model, path)[-1], DateTimeField):
                return True
        return False

    def get_list_display(self, request: HttpRequest):
        return self._zoned(super().get_list_display(request))

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return self._zoned(super().get_readonly_fields(request, obj))

    def get_fields(self, request: HttpRequest, obj=None):
        readonly = set(self.get_readonly_fields(request, obj))
        return list(dict.fromkeys(self._readonly_zoned(name, readonly) for name in super().get_fields(request, obj)))

    def get_fieldsets(self, request: HttpRequest, obj=None):
        # Only the read-only date-times are replaced: one typed in stays a form field.
        readonly = set(self.get_readonly_fields(request, obj))
        return [
            (title, {**options, "fields": [self._readonly_zoned(name, readonly) for name in options["fields"]]})
            for title, options in super().get_fieldsets(request, obj)
        ]

    def _readonly_zoned(self, name, readonly: set):
        if isinstance(name, tuple | list):
            return type(name)(self._readonly_zoned(part, readonly) for part in name)
        zoned = self._zoned([name])[0]
        return zoned if zoned in readonly else name


class TeamScopedAdmin:
    """Scopes a ModelAdmin to the conferences of the user's teams; superusers see everything.

    One line per ModelAdmin: inherit first, and say how the model reaches its conference
    (`conference_path`, "" for Conference itself) and which team permission changing it
    needs (`team_permission`); seeing it needs `view_permission` (or the same). Team members
    hold no Django model permissions: what they may do comes from their teams alone.
    Conferences themselves are added and deleted by superusers only.
    """

    conference_path = "conference"
    team_permission: str
    view_permission: str | None = None

    def _view_permission(self) -> str:
        return self.view_permission or self.team_permission

    def has_team_permission(self, request: HttpRequest, permission: str, obj=None) -> bool:
        """Whether the user holds `permission` in `obj`'s conference (in any, without `obj`)."""
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if user.is_superuser:
            return True
        if obj is None:
            return team_conference_ids(user, permission).exists()
        conference_id = self.conference_id_of(obj)
        # Something of no conference (an account email) is for superusers alone.
        return conference_id is not None and user_can(user, conference_id, permission)

    def conference_id_of(self, obj) -> int:
        """The primary key of the conference `obj` belongs to, along `conference_path`."""
        if not self.conference_path:
            return obj.pk
        *steps, last = self.conference_path.split("__")
        for step in steps:
            obj = getattr(obj, step)
        return getattr(obj, f"{last}_id")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """What the user may see: where they may see it, or change it."""
        queryset = super().get_queryset(request)
        if self._view_permission() == self.team_permission or request.user.is_superuser:
            return limit(queryset, request.user, self.team_permission, via=self.conference_path)
        everything = self.model._default_manager.all()
        viewable = limit(everything, request.user, self._view_permission(), via=self.conference_path)
        changeable = limit(everything, request.user, self.team_permission, via=self.conference_path)
        return queryset.filter(Q(pk__in=viewable.values("pk")) | Q(pk__in=changeable.values("pk")))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_team_permission(request, self._view_permission())

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_team_permission(request, self._view_permission(), obj) or self.has_change_permission(
            request, obj
        )

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_team_permission(request, self.team_permission, obj)

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        if not self.conference_path:
            return request.user.is_active and request.user.is_superuser
        return self.has_team_permission(request, self.team_permission)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if not self.conference_path:
            return request.user.is_active and request.user.is_superuser
        return self.has_team_permission(request, self.team_permission, obj)

    def limit_to_teams(self, request: HttpRequest, queryset: QuerySet, *, view: bool = False) -> QuerySet:
        """Choices offered: conferences, and things of a conference, only where the user may
        change (or, with `view`, see) what this admin shows; anything else as it is."""
        permission = self._view_permission() if view else self.team_permission
        model = queryset.model
        if model is Conference:
            return limit(queryset, request.user, permission, via="")
        if any(getattr(field, "related_model", None) is Conference for field in model._meta.fields):
            return limit(queryset, request.user, permission, via="conference")
        return queryset

    def get_list_filter(self, request: HttpRequest):
        return [self._team_filter(entry) for entry in super().get_list_filter(request)]

    def _team_filter(self, entry):
        if isinstance(entry, str):
            field = get_fields_from_path(self.model, entry)[-1]
            if field.is_relation:
                return (entry, TeamRelatedFilter)
        return entry

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = self.limit_to_teams(request, field.queryset)
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = self.limit_to_teams(request, field.queryset)
        return field

    def log_addition(self, request, obj, message):
        return self._name_conference(super().log_addition(request, obj, message), obj)

    def log_change(self, request, obj, message):
        return self._name_conference(super().log_change(request, obj, message), obj)

    def _name_conference(self, entry, obj):
        """The admin's history names what changed with its conference, "Keynote (GROW your
        REGIOn 2027)", so that who changed what in which conference can be read there."""
        if not self.conference_path:
            return entry
        conference = Conference.objects.filter(pk=self.conference_id_of(obj)).first()
        if conference is not None:
            entry.object_repr = f"{entry.object_repr} ({conference})"[
                : LogEntry._meta.get_field("object_repr").max_length
            ]
            LogEntry.objects.filter(pk=entry.pk).update(object_repr=entry.object_repr)
        return entry

    def get_action(self, action):
        """Every action works on what the user may change (or `action_permissions[name]`);
        a selection reaching beyond that (crafted ids) is refused whole."""
        found = super().get_action(action)
        if found is None:
            return None
        func, name, description = found
        permission = getattr(self, "action_permissions", {}).get(name, self.team_permission)

        @functools.wraps(func)
        def scoped(modeladmin, request, queryset):
            allowed = limit(queryset, request.user, permission, via=self.conference_path)
            if allowed.count() != queryset.count():
                raise PermissionDenied
            return func(modeladmin, request, allowed)

        return scoped, name, description


class TeamScopedInline:
    """An inline of a TeamScopedAdmin: whoever may change the object it is in may add,
    change and delete its rows (team members hold no Django model permissions)."""

    def _parent_admin(self):
        return self.admin_site._registry[self.parent_model]

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._parent_admin().has_view_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._parent_admin().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._parent_admin().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._parent_admin().has_change_permission(request, obj)


class TeamRelatedFilter(admin.RelatedFieldListFilter):
    """A related-object filter offering only the conferences (or their rooms, sessions ...)
    the user may see."""

    def field_choices(self, field, request, model_admin):
        choices = model_admin.limit_to_teams(request, field.related_model._default_manager.all(), view=True)
        return [(obj.pk, str(obj)) for obj in choices]


class TeamInvitationInline(admin.TabularInline):
    """Invite people by email: each address added here is sent a link to join the team."""

    model = TeamInvitation
    fields = ["email", "invited_by", "created_at", "accepted_at"]
    readonly_fields = ["invited_by", "created_at", "accepted_at"]
    extra = 1
    can_delete = True
    verbose_name_plural = _("invitations (each new address is sent a link to join, valid for 14 days)")

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # an invitation sent stays as sent; delete it to withdraw it

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invited_by")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    inlines = [TeamInvitationInline]
    list_display = ["name", "member_count"]
    search_fields = ["name", "members__email"]
    filter_horizontal = ["conferences", "members"]
    fieldsets = [
        (None, {"fields": ["name", "conferences", "members"]}),
        (
            _("What the team may do"),
            {
                "fields": [
                    "can_edit_programme",
                    "can_view_registrations",
                    "can_change_registrations",
                    "can_export_attendees",
                    "can_check_in",
                    "can_run_meetings",
                    "can_run_voting",
                    "can_message_attendees",
                ]
            },
        ),
    ]

    def save_related(self, request, form, formsets, change):
        before = list(form.instance.members.all()) if change else []
        super().save_related(request, form, formsets, change)
        services.sync_staff([*before, *form.instance.members.all()])

    def save_formset(self, request, form, formset, change):
        if formset.model is not TeamInvitation:
            return super().save_formset(request, form, formset, change)
        # New invitations go through the service, which sends them; withdrawn ones are deleted.
        formset.save(commit=False)
        for invitation in formset.deleted_objects:
            invitation.delete()
        for invitation in formset.new_objects:
            services.invite(form.instance, email=invitation.email, invited_by=request.user)
        return None

    def delete_model(self, request, obj):
        members = list(obj.members.all())
        super().delete_model(request, obj)
        services.sync_staff(members)

    def delete_queryset(self, request, queryset):
        members = list(get_user_model().objects.filter(teams__in=queryset).distinct())
        super().delete_queryset(request, queryset)
        services.sync_staff(members)

    @admin.display(description=_("members"))
    def member_count(self, team: Team) -> int:
        return team.members.count()


# The outbox imports none of our apps, so its admin is scoped from here: an organiser sees
# the emails about their conferences (those about no conference, e.g. account emails, are
# for superusers).
admin.site.unregister(OutgoingEmail)


@admin.register(OutgoingEmail)
class TeamOutgoingEmailAdmin(ConferenceTimesAdmin, TeamScopedAdmin, OutgoingEmailAdmin):
    team_permission = "can_view_registrations"

    # The outbox's own rules stand within the team's: no email is written by hand, and one
    # sent is viewed, never edited (resending is an action).
    has_add_permission = OutgoingEmailAdmin.has_add_permission

    def has_change_permission(self, request: HttpRequest, obj: OutgoingEmail | None = None) -> bool:
        return obj is None and super().has_change_permission(request)
