"""Two PostgreSQL roles: the owner (runs migrations, owns every table, trigger and function) and the
application's role, which owns nothing. The application therefore cannot ALTER TABLE … DISABLE TRIGGER,
DROP TRIGGER, TRUNCATE or change the schema, so the append-only triggers (kernel/dbtriggers.py) hold
against it.

`DATABASE_URL` names the application's role and `DATABASE_OWNER_URL` the owner; `GWC_DB_AS_OWNER=1`
(`make setup`, `scripts/test-postgis.sh`) makes a command connect as the owner, which is how migrations
run. After every migration the owner grants the application its privileges (`grant_app_role`).
"""
from django.conf import settings
from django.db import connection, connections


def _quote(name):
    return '"' + name.replace('"', '""') + '"'


def grant_app_role(sender=None, using="default", **kwargs):
    """post_migrate receiver: privileges of the application's role (idempotent)."""
    if sender is not None and getattr(sender, "label", "kernel") != "kernel":
        return  # post_migrate is sent once per app; every table exists by then, granting once is enough
    connection = connections[using]
    app_role = getattr(settings, "DATABASE_APP_ROLE", "")
    if connection.vendor != "postgresql" or not app_role or connection.settings_dict.get("USER") == app_role:
        return
    role = _quote(app_role)
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
        cursor.execute(f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {role}")
        # Tables the owner creates later outside a migration (createcachetable's rate-limit table) too.
        cursor.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES "
                       f"TO {role}")
        cursor.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}")


def create_app_role(using="default", password=None):
    """Create the application's login role if missing (run as the owner, which needs CREATEROLE)."""
    connection = connections[using]
    app_role = settings.DATABASE_APP_ROLE
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app_role])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE ROLE {_quote(app_role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"
                           + (" PASSWORD %s" if password else ""), [password] if password else None)
        cursor.execute(f"GRANT CONNECT ON DATABASE {_quote(connection.settings_dict['NAME'])} TO {_quote(app_role)}")


def _set_user(user, password):
    for target in (connection.settings_dict, settings.DATABASES["default"]):
        target["USER"], target["PASSWORD"] = user, password
    connection.close()


def use_owner():
    """Connect as the owner from now on (test database creation and teardown)."""
    owner = settings.DATABASE_OWNER
    _set_user(owner["USER"], owner.get("PASSWORD", ""))


def use_app_role():
    _set_user(settings.DATABASE_APP_ROLE, settings.DATABASE_APP_PASSWORD)
