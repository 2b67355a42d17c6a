"""Pragmas for every SQLite connection (the embedded default):

- journal_mode=WAL: readers never block the writer nor wait for it;
- busy_timeout: a writer waits up to SQLITE_BUSY_TIMEOUT seconds for the lock instead of failing at once;
- recursive_triggers=ON: `INSERT OR REPLACE` deletes the row it replaces *through* the DELETE triggers,
  so the append-only guards refuse it (without it, REPLACE deletes silently);
- foreign_keys=ON is Django's own.

SpatiaLite's own metadata triggers do not work with recursive_triggers: a new database file gets it only
once its metadata exists, and migrations (table rebuilds) run with it off; it is on again after them.
"""
from django.conf import settings
from django.db import connections
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate, pre_migrate


def configure(sender, connection, **kwargs):
    if connection.vendor == "postgresql":
        _statement_timeout(connection)
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA busy_timeout = {int(settings.SQLITE_BUSY_TIMEOUT * 1000)}")
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'geometry_columns'")
        if cursor.fetchone():  # a new file: SpatiaLite's InitSpatialMetadata must run without it first
            cursor.execute("PRAGMA recursive_triggers = ON")
        cursor.execute("PRAGMA journal_mode = WAL")  # in-memory databases answer "memory"; nothing to do


def _statement_timeout(connection):
    """PostgreSQL: the application's connections stop any statement running past GRAPHQL_TIME_BUDGET
    (api.limits.time_budget); the owner's (migrations) are not limited."""
    if connection.settings_dict.get("USER") == (settings.DATABASE_OWNER or {}).get("USER", object()):
        return
    apply_time_budget(connection)


def apply_time_budget(connection):
    """statement_timeout = GRAPHQL_TIME_BUDGET on this PostgreSQL connection, remembered on it."""
    set_statement_timeout(connection, settings.GRAPHQL_TIME_BUDGET)
    connection.gwc_statement_timeout = settings.GRAPHQL_TIME_BUDGET


def set_statement_timeout(connection, seconds):
    """PostgreSQL stops any statement of this connection's session running past `seconds` (0: never)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', %s, false)", [f"{int((seconds or 0) * 1000)}ms"])


def _recursive_triggers(using, on):
    connection = connections[using]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA recursive_triggers = {'ON' if on else 'OFF'}")


def before_migrate(sender, using="default", **kwargs):
    _recursive_triggers(using, False)


def after_migrate(sender, using="default", **kwargs):
    _recursive_triggers(using, True)


def connect():
    connection_created.connect(configure, dispatch_uid="kernel.sqlite.configure")
    pre_migrate.connect(before_migrate, dispatch_uid="kernel.sqlite.before_migrate")
    post_migrate.connect(after_migrate, dispatch_uid="kernel.sqlite.after_migrate")
