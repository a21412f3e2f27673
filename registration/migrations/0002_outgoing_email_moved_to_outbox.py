# The outgoing emails now belong to the outbox app (outbox's 0001 renamed the table).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("registration", "0001_initial"),
        ("outbox", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="OutgoingEmail")],
        ),
    ]
