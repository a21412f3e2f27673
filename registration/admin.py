from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from registration.models import User


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


# Export records (registration/exports.py).
from registration.models import ExportRecord  # noqa: E402


@admin.register(ExportRecord)
class ExportRecordAdmin(admin.ModelAdmin):
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
