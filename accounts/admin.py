from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.models import Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
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

    @admin.display(description=_("members"))
    def member_count(self, team: Team) -> int:
        return team.members.count()
