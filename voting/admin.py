"""Organisers prepare polls and set up sessions here; the moderator page runs them.

Votes, answers, questions and upvotes have no admin: votes are anonymous, and the
moderator page is where questions are handled. What a poll is (its kind, choices,
anonymity, whether votes can change) is fixed once it opens: voters were told.
"""

from django.contrib import admin

from accounts.admin import ConferenceTimesAdmin
from accounts.teams import limit
from agenda.models import Session
from agenda.services import bump_content_version
from voting.models import Option, Poll, SessionVoting

FIXED_ONCE_OPEN = ("kind", "max_choices", "scale", "is_anonymous", "votes_can_change")


class OptionInline(admin.TabularInline):
    model = Option
    extra = 3

    def has_add_permission(self, request, obj=None) -> bool:
        return (obj is None or obj.state == Poll.State.DRAFT) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return (obj is None or obj.state == Poll.State.DRAFT) and super().has_delete_permission(request, obj)


@admin.register(Poll)
class PollAdmin(ConferenceTimesAdmin, admin.ModelAdmin):
    conference_path = "session__conference"
    list_display = ["question", "session", "kind", "state", "is_anonymous"]
    list_filter = ["state", "kind", "session__conference"]
    search_fields = ["question", "session__title"]
    inlines = [OptionInline]
    readonly_fields = ["state", "opened_at", "closed_at"]

    def get_queryset(self, request):
        return limit(super().get_queryset(request), request.user, "can_run_voting", via="session__conference")

    def get_readonly_fields(self, request, obj=None):
        fixed = (*FIXED_ONCE_OPEN, "session") if obj is not None and obj.state != Poll.State.DRAFT else ()
        return [*super().get_readonly_fields(request, obj), *fixed]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "session":
            sessions = Session.objects.select_related("conference").order_by("conference", "start")
            kwargs["queryset"] = limit(sessions, request.user, "can_run_voting")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # A shown poll's text is on the cached session page.
        bump_content_version(obj.session.conference_id)
        super().save_model(request, obj, form, change)


@admin.register(SessionVoting)
class SessionVotingAdmin(admin.ModelAdmin):
    list_display = ["session", "takes_questions", "join_code"]
    list_select_related = ["session"]

    def get_queryset(self, request):
        return limit(super().get_queryset(request), request.user, "can_run_voting", via="session__conference")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "session":
            kwargs["queryset"] = limit(Session.objects.order_by("conference", "start"), request.user, "can_run_voting")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
