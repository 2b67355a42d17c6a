"""The database cache table `gwc_cache` that holds the rate-limit counters when no Redis is configured (the
production default, config/settings.py): made by the migrations, so a deployment cannot start without it
(`createcachetable` is idempotent; on PostgreSQL the owner creates it and the application's role is granted
it with every other table)."""
from django.core.management import call_command
from django.db import migrations

TABLE = "gwc_cache"


def create(apps, schema_editor):
    call_command("createcachetable", TABLE, database=schema_editor.connection.alias, verbosity=0)


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):

    dependencies = [("kernel", "0003_audit_checkpoint")]

    operations = [migrations.RunPython(create, drop)]
