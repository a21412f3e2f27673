from django.contrib import admin

from accounts.admin import ConferenceTimesAdmin
from checkin.models import BadgePrint, CertificateSettings, CheckIn, Ticket


@admin.register(CertificateSettings)
class CertificateSettingsAdmin(admin.ModelAdmin):
    list_display = ["conference", "signatory_name", "signatory_title"]
    list_select_related = ["conference"]


@admin.register(Ticket)
class TicketAdmin(ConferenceTimesAdmin, admin.ModelAdmin):
    """Organisers set the role printed on a badge here, adding the ticket of a registration that
    has none yet (tickets are otherwise made when first needed); the token is never shown or
    changed."""

    conference_path = "registration__conference"
    list_display = ["registration", "role", "created_at"]
    list_filter = ["role", "registration__conference"]
    list_editable = ["role"]
    list_select_related = ["registration__conference"]
    search_fields = ["registration__given_name", "registration__family_name", "registration__organisation"]
    fields = ["registration", "role", "created_at"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["registration"]

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        readonly = super().get_readonly_fields(request, obj)
        return ["registration", *readonly] if obj else readonly


@admin.register(CheckIn)
class CheckInAdmin(ConferenceTimesAdmin, admin.ModelAdmin):
    conference_path = "registration__conference"
    list_display = ["registration", "day", "session", "checked_in_at", "checked_in_by", "undone_at"]
    list_filter = ["registration__conference", "day"]
    list_select_related = ["registration__conference", "session", "checked_in_by"]
    readonly_fields = ["registration", "day", "session", "checked_in_at", "checked_in_by", "undone_at", "undone_by"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(BadgePrint)
class BadgePrintAdmin(ConferenceTimesAdmin, admin.ModelAdmin):
    list_display = ["conference", "printed_at", "printed_by", "badges"]
    list_select_related = ["conference", "printed_by"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
