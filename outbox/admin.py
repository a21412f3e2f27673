from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from outbox import rendering
from outbox.emails import resend_email
from outbox.models import OutgoingEmail


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    """The outbox, for organisers: what was sent to whom, what failed and why; resend."""

    list_display = ["created_at", "to", "kind", "subject", "status", "attempts", "short_error", "sent_at"]
    list_filter = ["status", "kind", "language", "created_at", "conference"]
    search_fields = ["to", "subject", "message_id"]
    date_hierarchy = "created_at"
    actions = ["resend"]
    readonly_fields = [
        "conference",
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
        "message_text",
    ]
    fieldsets = [
        (None, {"fields": ["to", "reply_to", "subject", "kind", "language", "conference"]}),
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
        (_("Message"), {"fields": ["message_id", "attachment_names", "message_text"]}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # emails are written by what they report, never by hand

    def has_change_permission(self, request: HttpRequest, obj: OutgoingEmail | None = None) -> bool:
        # An email is a record of what was sent: viewed, never edited. Resending is an action.
        return obj is None and super().has_change_permission(request)

    @admin.display(description=_("last error"))
    def short_error(self, email: OutgoingEmail) -> str:
        return Truncator(email.last_error).chars(80)

    @admin.display(description=_("text"))
    def message_text(self, email: OutgoingEmail) -> str:
        if rendering.is_confidential(email.kind):
            return _("Not shown: an account email can hold a link that gives access to the account.")
        if email.context is not None and not email.body_text:
            return _("Written when it is sent.")
        return email.body_text

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
