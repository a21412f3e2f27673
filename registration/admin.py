from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from registration.emails import resend_email
from registration.models import OutgoingEmail, Registration, User
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


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    """The outbox, for organisers: what was sent to whom, what failed and why; resend."""

    list_display = ["created_at", "to", "kind", "subject", "status", "attempts", "short_error", "sent_at"]
    list_filter = ["status", "kind", "language", "created_at", "registration__conference"]
    search_fields = ["to", "subject", "message_id", "registration__family_name", "registration__given_name"]
    list_select_related = ["registration"]
    date_hierarchy = "created_at"
    actions = ["resend", "resend_confirmation"]
    readonly_fields = [
        "registration",
        "kind",
        "to",
        "reply_to",
        "subject",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "next_attempt_at",
        "last_attempt_at",
        "sent_at",
        "language",
        "message_id",
        "attachment_names",
        "body_text",
    ]
    fieldsets = [
        (None, {"fields": ["to", "reply_to", "subject", "kind", "language", "registration"]}),
        (
            _("Delivery"),
            {
                "fields": [
                    "status",
                    "attempts",
                    "last_error",
                    "created_at",
                    "next_attempt_at",
                    "last_attempt_at",
                    "sent_at",
                ]
            },
        ),
        (_("Message"), {"fields": ["message_id", "attachment_names", "body_text"]}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # emails are written by what they report, never by hand

    def has_change_permission(self, request: HttpRequest, obj: OutgoingEmail | None = None) -> bool:
        # An email is a record of what was sent: viewed, never edited. Resending is an action.
        return obj is None and super().has_change_permission(request)

    @admin.display(description=_("last error"))
    def short_error(self, email: OutgoingEmail) -> str:
        return Truncator(email.last_error).chars(80)

    @admin.display(description=_("attachments"))
    def attachment_names(self, email: OutgoingEmail) -> str:
        return ", ".join(attachment["filename"] for attachment in email.attachments) or "—"

    @admin.action(description=_("Send the selected emails again"), permissions=["change"])
    def resend(self, request: HttpRequest, queryset: QuerySet[OutgoingEmail]) -> None:
        done = queryset.filter(status__in=[OutgoingEmail.Status.SENT, OutgoingEmail.Status.FAILED])
        with transaction.atomic():
            copies = [resend_email(email) for email in done]
        self.message_user(
            request,
            ngettext("%(count)d email queued again.", "%(count)d emails queued again.", len(copies))
            % {"count": len(copies)},
            messages.SUCCESS,
        )
        skipped = queryset.count() - len(copies)
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d email is still on its way and was left alone.",
                    "%(count)d emails are still on their way and were left alone.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    @admin.action(description=_("Send the registration's confirmation again, as it stands now"), permissions=["change"])
    def resend_confirmation(self, request: HttpRequest, queryset: QuerySet[OutgoingEmail]) -> None:
        registrations = Registration.objects.filter(
            pk__in=queryset.values("registration"), status=Registration.Status.CONFIRMED
        ).select_related("user", "conference")
        with transaction.atomic():
            queued = [email for registration in registrations if (email := notify(registration, "confirmed"))]
        self.message_user(
            request,
            ngettext("%(count)d confirmation queued.", "%(count)d confirmations queued.", len(queued))
            % {"count": len(queued)},
            messages.SUCCESS if queued else messages.WARNING,
        )
