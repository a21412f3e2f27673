# An email names the conference it is about (if any) instead of a registration: the outbox
# knows no registrations, and organisers see the emails of their conferences.

import django.db.models.deletion
from django.db import migrations, models


def conference_from_registration(apps, schema_editor):
    schema_editor.execute(
        "UPDATE outbox_outgoingemail AS email SET conference_id = registration.conference_id "
        "FROM registration_registration AS registration WHERE email.registration_id = registration.id"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("agenda", "0003_content_in_several_languages"),
        ("outbox", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="outgoingemail",
            name="conference",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="emails",
                to="agenda.conference",
                verbose_name="conference",
            ),
        ),
        migrations.RunPython(conference_from_registration, migrations.RunPython.noop),
        migrations.RemoveField(model_name="outgoingemail", name="registration"),
    ]
