# The outgoing emails move here from registration, table, rows and permissions included:
# the table is renamed, and the content type (which permissions and the admin's log point
# to) changes app. registration's 0002 then forgets the model. On a new database the table
# is created by registration's 0001 first, so both paths meet here.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="registration", model="outgoingemail").update(app_label="outbox")


def move_content_type_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="outbox", model="outgoingemail").update(app_label="registration")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("registration", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE registration_outgoingemail RENAME TO outbox_outgoingemail",
                    "ALTER TABLE outbox_outgoingemail RENAME TO registration_outgoingemail",
                ),
                migrations.RunPython(move_content_type, move_content_type_back),
            ],
            state_operations=[
                migrations.CreateModel(
                    name="OutgoingEmail",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("kind", models.CharField(max_length=40, verbose_name="kind")),
                        ("to", models.EmailField(max_length=254, verbose_name="to")),
                        ("reply_to", models.EmailField(blank=True, max_length=254, verbose_name="reply to")),
                        ("subject", models.CharField(max_length=300, verbose_name="subject")),
                        ("body_text", models.TextField(verbose_name="text")),
                        ("body_html", models.TextField(blank=True, verbose_name="HTML")),
                        ("attachments", models.JSONField(blank=True, default=list, verbose_name="attachments")),
                        ("language", models.CharField(default="en", max_length=10, verbose_name="language")),
                        ("message_id", models.CharField(max_length=200, unique=True, verbose_name="Message-ID")),
                        ("dedup_key", models.CharField(blank=True, editable=False, max_length=200, null=True, unique=True)),
                        ("status", models.CharField(choices=[("queued", "Queued"), ("sending", "Sending"), ("sent", "Sent"), ("failed", "Failed")], default="queued", max_length=20, verbose_name="status")),
                        ("attempts", models.PositiveIntegerField(default=0, verbose_name="attempts")),
                        ("last_error", models.TextField(blank=True, verbose_name="last error")),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name="created")),
                        ("next_attempt_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="next attempt")),
                        ("last_attempt_at", models.DateTimeField(blank=True, null=True, verbose_name="last attempt")),
                        ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="sent")),
                        ("registration", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="registration.registration", verbose_name="registration")),
                    ],
                    options={
                        "verbose_name": "outgoing email",
                        "verbose_name_plural": "outgoing emails",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [
                            models.Index(condition=models.Q(("status", "queued")), fields=["next_attempt_at"], name="outgoing_email_queued_due"),
                            models.Index(condition=models.Q(("status", "sending")), fields=["last_attempt_at"], name="outgoing_email_sending"),
                            models.Index(fields=["-created_at", "-id"], name="outgoing_email_newest_first"),
                        ],
                        "constraints": [
                            models.CheckConstraint(condition=models.Q(("status__in", ["queued", "sending", "sent", "failed"])), name="outgoing_email_status_valid"),
                        ],
                    },
                ),
            ],
        ),
    ]
