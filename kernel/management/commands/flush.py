"""Django's `flush`, able to empty a *test* database despite the protections (transactional tests flush
after each test). PostgreSQL: TRUNCATE is refused to the application's role and by statement triggers, so
a test database (name `test_…`) is flushed over an owner connection with triggers off
(`session_replication_role = replica`, which needs a superuser owner, as in scripts/test-postgis.sh).
SQLite: the DELETE guards are set aside for the flush and created again. Any other database is flushed as
Django does it, and the protected tables refuse."""
from pathlib import Path

from django.conf import settings
from django.core.management.commands.flush import Command as DjangoFlush
from django.core.management.sql import sql_flush
from django.db import connections


class Command(DjangoFlush):
    def handle(self, **options):
        connection = connections[options["database"]]
        name = str(connection.settings_dict["NAME"] or "")
        if connection.vendor == "sqlite" and ("memorydb" in name or Path(name).name.startswith("test_")):
            return self.flush_sqlite_test_database(connection, options)
        if connection.vendor != "postgresql" or not settings.DATABASE_OWNER or not name.startswith("test_"):
            return super().handle(**options)
        import psycopg  # noqa: PLC0415 - the PostgreSQL driver, needed only on PostgreSQL

        statements = sql_flush(self.style, connection, reset_sequences=options.get("reset_sequences", True),
                               allow_cascade=options.get("allow_cascade", False))
        owner = settings.DATABASE_OWNER
        params = connection.get_connection_params()
        with psycopg.connect(host=params.get("host"), port=params.get("port"), dbname=name, user=owner["USER"],
                             password=owner.get("PASSWORD") or None, autocommit=True) as raw:
            with raw.transaction():
                raw.execute("SET LOCAL session_replication_role = replica")
                for statement in statements:
                    raw.execute(statement)
        if not options.get("inhibit_post_migrate"):
            from django.core.management.sql import emit_post_migrate_signal

            emit_post_migrate_signal(options.get("verbosity", 1), False, options["database"])

    def flush_sqlite_test_database(self, connection, options):
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%BEFORE DELETE%'"
                           " AND sql LIKE '%RAISE(ABORT%'")
            guards = cursor.fetchall()
            for trigger, _sql in guards:
                cursor.execute(f'DROP TRIGGER "{trigger}"')
        try:
            return super().handle(**options)
        finally:
            with connection.cursor() as cursor:
                for _trigger, sql in guards:
                    cursor.execute(sql)
