from django.core.management import call_command
from django.db import migrations


def create_table(apps, schema_editor):
    call_command("createcachetable", "rate_limit_fallback", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    """The database cache table where the rate limits count while Redis is down
    (conference/cache.py; settings.CACHES["rate_limits"])."""

    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.RunPython(create_table, migrations.RunPython.noop),
        migrations.RunSQL(migrations.RunSQL.noop, "DROP TABLE IF EXISTS rate_limit_fallback"),
    ]
