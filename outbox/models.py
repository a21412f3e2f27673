from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutgoingEmail(models.Model):
    """One email to send, saved in the transaction of the change it reports; a task delivers
    it (outbox.emails). Either written in full when queued, or (with a `context`) written
    by its kind's renderer when it is sent (outbox.rendering)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    # The conference the email is about, if any: organisers see their conferences' emails.
    conference = models.ForeignKey(
        "agenda.Conference",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="emails",
        verbose_name=_("conference"),
    )
    kind = models.CharField(_("kind"), max_length=40)
    to = models.EmailField(_("to"))
    reply_to = models.EmailField(_("reply to"), blank=True)
    # Blank until sent for an email written at send time; its bodies stay blank for good
    # when its kind is confidential (a link that grants access to an account).
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body_text = models.TextField(_("text"), blank=True)
    body_html = models.TextField(_("HTML"), blank=True)
    # [{"filename": ..., "content": ..., "mimetype": ...}], text content only (calendar files).
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    # What the kind's renderer needs to write the email at send time (ids, never secrets);
    # None for an email written when it was queued.
    context = models.JSONField(null=True, blank=True, editable=False)
    language = models.CharField(_("language"), max_length=10, default=settings.LANGUAGE_CODE)
    message_id = models.CharField(_("Message-ID"), max_length=200, unique=True)
    # Makes an email that must go out once per occasion (a reminder) idempotent.
    dedup_key = models.CharField(max_length=200, unique=True, null=True, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    # A queued email is handed to the workers again (by the sweep) once this is past:
    # the time of the last hand-over, or of the next retry after a transient failure.
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "sending", "sent", "failed"]), name="outgoing_email_status_valid"
            ),
        ]
        indexes = [
            # The sweep's two questions, on the few rows that are not done.
            models.Index(fields=["next_attempt_at"], condition=Q(status="queued"), name="outgoing_email_queued_due"),
            models.Index(fields=["last_attempt_at"], condition=Q(status="sending"), name="outgoing_email_sending"),
            models.Index(fields=["-created_at", "-id"], name="outgoing_email_newest_first"),
            # A conference's emails of one kind by status: the progress of a message to attendees.
            models.Index(fields=["conference", "kind", "status"], name="outgoing_email_conference_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"
