"""SQL as the database owner with triggers out of the way: what an attacker (or a DBA) with the owner's
rights could do, which the application's own role cannot (kernel/pgroles.py). PostgreSQL only; the rows
touched must be committed (use a transactional test)."""
import psycopg
from django.conf import settings
from django.db import connection


def run_as_owner(*statements):
    """Each statement is (sql, params)."""
    owner = settings.DATABASE_OWNER or connection.settings_dict
    params = connection.get_connection_params()
    with psycopg.connect(host=params.get("host"), port=params.get("port"), dbname=connection.settings_dict["NAME"],
                         user=owner["USER"], password=owner.get("PASSWORD") or None, autocommit=True) as raw:
        with raw.transaction():
            raw.execute("SET LOCAL session_replication_role = replica")
            for sql, values in statements:
                raw.execute(sql, values)
