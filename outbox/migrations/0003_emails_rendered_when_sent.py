# Emails can be written when they are sent, from a small context; links that grant access
# to an account (password reset, address verification) are no longer stored: those already
# in the outbox are erased, and those not yet sent are not sent (the person asks again).

from django.db import migrations, models

# The allauth emails that carried such a link when they were stored in full.
ACCESS_LINK_KINDS = ["account_password_reset_key", "account_email_confirmation", "account_email_confirmation_signup"]


def erase_access_links(apps, schema_editor):
    OutgoingEmail = apps.get_model("outbox", "OutgoingEmail")
    emails = OutgoingEmail.objects.filter(kind__in=ACCESS_LINK_KINDS)
    emails.filter(status__in=["queued", "sending"]).update(
        status="failed", last_error="Not sent: its link was erased; the person can ask again."
    )
    emails.update(body_text="", body_html="")


class Migration(migrations.Migration):
    dependencies = [("outbox", "0002_conference")]

    operations = [
        migrations.AddField(
            model_name="outgoingemail",
            name="context",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name="outgoingemail",
            name="subject",
            field=models.CharField(blank=True, max_length=300, verbose_name="subject"),
        ),
        migrations.AlterField(
            model_name="outgoingemail",
            name="body_text",
            field=models.TextField(blank=True, verbose_name="text"),
        ),
        migrations.RunPython(erase_access_links, migrations.RunPython.noop, elidable=True),
    ]
