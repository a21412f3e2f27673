"""The organisers' side of the agenda.

Every save, delete and action here raises the conference's content version (so the
public pages and exports are rebuilt) before it changes anything else, which also locks
the conference row first, in the order registration locks in (agenda/services.py).
Conferences, rooms and sessions are saved through their services (calendar sequence,
notices to booked people, more places for those waiting), and clashes are warned about,
never refused. Dates and times are entered and shown in the conference's time zone.
Programme content is given in the original (default) language and, optionally, in each
other one (agenda/translation.py); searches look in every language.
"""

import datetime
import zoneinfo
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline
from modeltranslation.utils import get_translation_fields

from accounts.admin import TeamScopedAdmin, TeamScopedInline
from agenda import selectors, services
from agenda.exceptions import AgendaError
from agenda.models import Conference, Room, Session, SessionSpeaker, Speaker, Track


class ProgrammeAdminMixin:
    """Raises the content version of the conference an object belongs to on every change,
    first: the admin saves the object and then its inlines in one transaction, all behind
    the conference row's lock."""

    @staticmethod
    def conference_id_of(obj) -> int:
        return obj.conference_id

    def save_model(self, request, obj, form, change):
        services.bump_content_version(self.conference_id_of(obj))
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        services.bump_content_version(self.conference_id_of(obj))
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for conference_id in sorted({self.conference_id_of(obj) for obj in queryset}):
            services.bump_content_version(conference_id)
        super().delete_queryset(request, queryset)


class ConferenceTimezoneMixin:
    """Date-times in a form are typed and shown in the conference's time zone, not the
    server's (UTC): an organiser in Valencia types 09:00 and means 09:00 in Valencia."""

    def form_timezone(self, request: HttpRequest, obj) -> zoneinfo.ZoneInfo | None:
        """The zone of the conference being edited, or chosen in an add form; None if unknown."""
        raise NotImplementedError

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        zone = self.form_timezone(request, obj)
        if zone is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        with timezone.override(zone):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            # The form shows its date-times when rendered: inside the zone, not after.
            return response.render() if hasattr(response, "render") else response

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        zone = self.form_timezone(request, obj)
        help_text = (
            _("In the conference's time zone, %(zone)s.") % {"zone": zone.key}
            if zone
            else _("In the conference's time zone.")
        )
        for field in form.base_fields.values():
            if isinstance(field, forms.SplitDateTimeField):
                field.help_text = help_text
        return form


def _zone(name: str | None) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def _conference_param(request: HttpRequest) -> int | None:
    """The conference chosen in an add form (posted) or passed in its address."""
    value = request.POST.get("conference") or request.GET.get("conference")
    return int(value) if value and value.isdigit() else None


class RoomFormSet(BaseInlineFormSet):
    def save_existing(self, form, obj, commit=True):
        room = super().save_existing(form, obj, commit=False)
        if commit:
            # Through the service: a room given more seats serves those waiting for them.
            services.save_room(room)
            form.save_m2m()
        return room


class RoomInline(TeamScopedInline, TranslationTabularInline):
    model = Room
    formset = RoomFormSet
    fields = ["name", "capacity", "position"]
    extra = 0


class TrackInline(TeamScopedInline, TranslationTabularInline):
    model = Track
    fields = ["name", "colour"]
    extra = 0


@admin.register(Conference)
class ConferenceAdmin(TeamScopedAdmin, ConferenceTimezoneMixin, ProgrammeAdminMixin, TranslationAdmin):
    conference_path = ""
    team_permission = "can_edit_programme"
    list_display = ["name", "slug", "start_date", "end_date", "city", "session_count", "is_published", "is_cancelled"]
    list_filter = ["is_published", "is_cancelled"]
    search_fields = [*get_translation_fields("name"), "slug", "city", "venue"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [RoomInline, TrackInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "tagline", "description"]}),
        (_("When and where"), {"fields": ["start_date", "end_date", "timezone", "venue", "city", "country"]}),
        (
            _("Registration"),
            {"fields": ["capacity", "registration_opens", "registration_closes", "requires_approval"]},
        ),
        (_("Publication"), {"fields": ["is_published", "is_cancelled", "contact_email", "privacy_statement"]}),
        (_("Personal data"), {"fields": ["personal_data_months", "sensitive_answers_days"]}),
    ]

    @staticmethod
    def conference_id_of(obj) -> int:
        return obj.pk

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(session_total=Count("sessions"))

    def save_model(self, request, obj, form, change):
        services.save_conference(obj)

    @admin.display(description=_("sessions"), ordering="session_total")
    def session_count(self, obj: Conference) -> int:
        return obj.session_total

    def form_timezone(self, request, obj):
        # The zone being saved, when an organiser changes it along with the dates.
        if request.method == "POST":
            return _zone(request.POST.get("timezone"))
        return _zone(obj.timezone if obj else Conference._meta.get_field("timezone").default)


@admin.register(Speaker)
class SpeakerAdmin(TeamScopedAdmin, ProgrammeAdminMixin, TranslationAdmin):
    team_permission = "can_edit_programme"
    list_display = ["name", "title", "organisation", "country", "conference"]
    list_filter = ["conference"]
    list_select_related = ["conference"]
    search_fields = ["name", "organisation", "code"]
    prepopulated_fields = {"code": ["name"]}
    fields = ["conference", "name", "code", "title", "organisation", "country", "biography", "photo"]

    def get_search_results(self, request, queryset, search_term):
        # The session form's speaker autocomplete asks for one conference's speakers.
        conference_id = request.GET.get("conference", "")
        if conference_id.isdigit():
            queryset = queryset.filter(conference_id=conference_id)
        return super().get_search_results(request, queryset, search_term)


class ConferenceSpeakerSelect(AutocompleteSelect):
    """Asks the speaker autocomplete for one conference's speakers only."""

    def __init__(self, *args, conference_id: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.conference_id = conference_id

    def get_url(self) -> str:
        return f"{super().get_url()}?{urlencode({'conference': self.conference_id})}"


class SessionSpeakerInline(TeamScopedInline, admin.TabularInline):
    model = SessionSpeaker
    fields = ["speaker", "role", "position"]
    autocomplete_fields = ["speaker"]
    extra = 1

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        conference_id = obj.conference_id if obj else _conference_param(request)
        if conference_id:
            field = formset.form.base_fields["speaker"]
            select = field.widget.widget
            field.widget.widget = ConferenceSpeakerSelect(
                select.field, select.admin_site, attrs=select.attrs, using=select.db, conference_id=conference_id
            )
            # Also what the form accepts: a speaker of another conference is refused.
            field.queryset = field.queryset.filter(conference_id=conference_id)
        return formset


class DayFilter(admin.SimpleListFilter):
    """Days as the conference lives them (its time zone), not as the server does (UTC)."""

    title = _("day")
    parameter_name = "day"

    def lookups(self, request, model_admin):
        sessions = model_admin.limit_to_teams(request, Session.objects.all(), view=True)
        conference_id = request.GET.get("conference__id__exact", "")
        if conference_id.isdigit():
            sessions = sessions.filter(conference_id=conference_id)
        starts = sessions.order_by().values_list("start", "conference__timezone").distinct()
        days = sorted({start.astimezone(zoneinfo.ZoneInfo(zone)).date() for start, zone in starts})
        return [(day.isoformat(), date_format(day, "D j M Y")) for day in days]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        day = parse_date(self.value())
        if day is None:
            return queryset.none()
        condition = Q(pk__in=[])
        for zone in Conference.objects.values_list("timezone", flat=True).distinct():
            tz = zoneinfo.ZoneInfo(zone)
            start = datetime.datetime.combine(day, datetime.time(), tzinfo=tz)
            end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), tzinfo=tz)
            condition |= Q(conference__timezone=zone, start__gte=start, start__lt=end)
        return queryset.filter(condition)


class ConferencePartFilter(admin.SimpleListFilter):
    """Rooms or tracks, named with their conference unless one conference is chosen."""

    model: type[Room] | type[Track]

    def lookups(self, request, model_admin):
        parts = model_admin.limit_to_teams(request, self.model.objects.all(), view=True)
        parts = parts.select_related("conference").order_by("conference__start_date", "name")
        conference_id = request.GET.get("conference__id__exact", "")
        if conference_id.isdigit():
            return [(part.pk, part.name) for part in parts.filter(conference_id=conference_id)]
        return [(part.pk, f"{part.name} ({part.conference})") for part in parts]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(**{f"{self.parameter_name}_id": self.value()})
        return queryset


class RoomFilter(ConferencePartFilter):
    title = _("room")
    parameter_name = "room"
    model = Room


class TrackFilter(ConferencePartFilter):
    title = _("track")
    parameter_name = "track"
    model = Track


class SessionChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        # Clashes of the whole page at once, in two queries.
        clashes = selectors.find_clashes({session.conference_id for session in self.result_list})
        for session in self.result_list:
            session.clashes = clashes.get(session.pk, [])


@admin.register(Session)
class SessionAdmin(TeamScopedAdmin, ConferenceTimezoneMixin, ProgrammeAdminMixin, TranslationAdmin):
    team_permission = "can_edit_programme"
    list_display = ["when", "title", "code", "room_or_all", "kind", "speaker_names", "status", "clash_list", "on_site"]
    list_display_links = ["title"]
    list_filter = ["conference", DayFilter, RoomFilter, "kind", TrackFilter, "status"]
    list_select_related = ["conference", "room", "track"]
    search_fields = [
        *get_translation_fields("title", "abstract"),
        "code",
        "speakers__name",
        *get_translation_fields("room__name"),
    ]
    ordering = ["start", "room__position", "title"]
    list_per_page = 100
    # Counting every session of every conference is a query the page does not need.
    show_full_result_count = False
    prepopulated_fields = {"code": ["title"]}
    inlines = [SessionSpeakerInline]
    readonly_fields = ["clash_list"]
    actions = ["duplicate", "cancel", "copy_break_to_all_rooms"]
    fieldsets = [
        (None, {"fields": ["conference", "title", "code", "kind", "status"]}),
        (_("When and where"), {"fields": ["start", "end", "room", "track", "clash_list"]}),
        (_("Content"), {"fields": ["abstract", "description", "language"]}),
        (_("Sign-up"), {"fields": ["capacity"]}),
    ]

    def get_queryset(self, request):
        speakers = SessionSpeaker.objects.select_related("speaker").order_by("position", "id")
        return super().get_queryset(request).prefetch_related(Prefetch("session_speakers", queryset=speakers))

    def get_changelist(self, request, **kwargs):
        return SessionChangeList

    def add_view(self, request, form_url="", extra_context=None):
        """The conference first: the form then offers only its rooms, tracks and speakers,
        so that no choice it offers is refused when saved."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        conferences = self.limit_to_teams(request, Conference.objects.order_by("-start_date", "name"))
        conference_id = _conference_param(request)
        if conference_id is None:
            if len(conferences) == 1:
                return redirect(f"{request.path}?{urlencode({'conference': conferences[0].pk})}")
            context = {
                **self.admin_site.each_context(request),
                "title": _("Add a session to which conference?"),
                "conferences": conferences,
                "opts": self.model._meta,
            }
            return TemplateResponse(request, "admin/agenda/session/choose_conference.html", context)
        if not conferences.filter(pk=conference_id).exists():
            raise PermissionDenied
        return super().add_view(request, form_url, extra_context)

    def get_readonly_fields(self, request, obj=None):
        # A session does not move between conferences: its rooms, speakers and cache are theirs.
        return [*self.readonly_fields, "conference"] if obj else self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        conference_id = obj.conference_id if obj else _conference_param(request)
        if obj is None and conference_id and "conference" in form.base_fields:
            # The add form's conference is the one chosen first (add_view).
            field = form.base_fields["conference"]
            field.queryset = field.queryset.filter(pk=conference_id)
        for name in ("room", "track"):
            field = form.base_fields[name]
            if conference_id:
                field.queryset = field.queryset.filter(conference_id=conference_id)
            else:
                field.queryset = field.queryset.select_related("conference")
                field.label_from_instance = lambda part: f"{part.name} ({part.conference})"
        return form

    def form_timezone(self, request, obj):
        if obj is not None:
            return obj.conference.tz
        conference_id = _conference_param(request)
        zone = Conference.objects.filter(pk=conference_id).values_list("timezone", flat=True).first()
        return _zone(zone)

    def save_model(self, request, obj, form, change):
        services.save_session(obj)

    def delete_model(self, request, obj):
        services.delete_session(obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        clashes = selectors.find_clashes([form.instance.conference_id]).get(form.instance.pk, [])
        for clash in clashes:
            messages.warning(request, clash.message)

    @admin.display(description=_("when"), ordering="start")
    def when(self, obj: Session) -> str:
        tz = obj.conference.tz
        start, end = obj.start.astimezone(tz), obj.end.astimezone(tz)
        return f"{date_format(start, 'D j M Y, H:i')}–{date_format(end, 'H:i')} {end.tzname()}"

    @admin.display(description=_("room"), ordering="room__position")
    def room_or_all(self, obj: Session) -> str:
        return obj.room.name if obj.room_id else _("All rooms")

    @admin.display(description=_("speakers"))
    def speaker_names(self, obj: Session) -> str:
        return ", ".join(appearance.speaker.name for appearance in obj.session_speakers.all())

    @admin.display(description=_("clashes"))
    def clash_list(self, obj: Session) -> str:
        clashes = getattr(obj, "clashes", None)
        if clashes is None:  # the change form: just this session
            clashes = selectors.find_clashes([obj.conference_id]).get(obj.pk, []) if obj.pk else []
        if not clashes:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>⚠ {}</li>", ((c.message,) for c in clashes)))

    @admin.display(description=_("on the site"))
    def on_site(self, obj: Session) -> str:
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), _("View"))

    @admin.action(description=_("Duplicate the selected sessions"))
    def duplicate(self, request, queryset):
        copies = [services.duplicate_session(session) for session in queryset.order_by("start", "pk")]
        self.message_user(
            request,
            ngettext(
                "Made %(count)d copy at the same time and place: move it (%(codes)s).",
                "Made %(count)d copies at the same times and places: move them (%(codes)s).",
                len(copies),
            )
            % {"count": len(copies), "codes": ", ".join(copy.code for copy in copies)},
            messages.SUCCESS,
        )

    @admin.action(description=_("Cancel the selected sessions"))
    def cancel(self, request, queryset):
        cancelled = services.cancel_sessions(queryset)
        self.message_user(
            request,
            ngettext(
                "Cancelled %(count)d session; it stays in the programme, struck through.",
                "Cancelled %(count)d sessions; they stay in the programme, struck through.",
                len(cancelled),
            )
            % {"count": len(cancelled)},
            messages.SUCCESS,
        )

    @admin.action(description=_("Copy the selected breaks to all rooms"))
    def copy_break_to_all_rooms(self, request, queryset):
        for session in queryset.select_related("conference"):
            try:
                copies = services.copy_break_to_all_rooms(session)
            except AgendaError as error:
                self.message_user(request, str(error), messages.WARNING)
                continue
            self.message_user(
                request,
                ngettext(
                    "Copied “%(title)s” to %(count)d more room.",
                    "Copied “%(title)s” to %(count)d more rooms.",
                    len(copies),
                )
                % {"title": session.title, "count": len(copies)},
                messages.SUCCESS,
            )
