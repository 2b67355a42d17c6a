"""Vendor-specific SQL for invariants held by the database (used from migrations).

`append_only(table)` makes a table refuse UPDATE and DELETE on both SQLite/SpatiaLite and PostgreSQL
(on SQLite `INSERT OR REPLACE` deletes through the DELETE trigger too: kernel.sqlite turns on
recursive_triggers). `no_truncate(*tables)` adds PostgreSQL's statement-level guard: TRUNCATE fires no row
trigger, so without it a table owner could empty a table the row triggers protect.
"""
from django.db import migrations


def _append_only_sql(vendor, table):
    if vendor == "postgresql":
        return [
            f"""CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION '{table} is append-only (% refused)', TG_OP USING ERRCODE = 'P0001'; END;
                $$ LANGUAGE plpgsql""",
            f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}",
            f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION {table}_append_only()""",
        ]
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_update",
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only (UPDATE refused)'); END""",
        f"DROP TRIGGER IF EXISTS {table}_no_delete",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only (DELETE refused)'); END""",
    ]


def _drop_sql(vendor, table):
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}",
                f"DROP FUNCTION IF EXISTS {table}_append_only()"]
    return [f"DROP TRIGGER IF EXISTS {table}_no_update", f"DROP TRIGGER IF EXISTS {table}_no_delete"]


def run_vendor_sql(builder, *args):
    def run(apps, schema_editor):
        for statement in builder(schema_editor.connection.vendor, *args):
            schema_editor.execute(statement, params=None)

    return run


def append_only(table):
    return migrations.RunPython(run_vendor_sql(_append_only_sql, table), run_vendor_sql(_drop_sql, table))


def _no_truncate_sql(vendor, *tables):
    if vendor != "postgresql":
        return []  # SQLite has no TRUNCATE: DELETE without WHERE runs the row triggers
    statements = ["""CREATE OR REPLACE FUNCTION gwc_refuse_truncate() RETURNS trigger AS $$
                     BEGIN RAISE EXCEPTION '% is protected (TRUNCATE refused)', TG_TABLE_NAME USING ERRCODE = 'P0001';
                     END; $$ LANGUAGE plpgsql"""]
    for table in tables:
        statements += [f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
                       f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
                           FOR EACH STATEMENT EXECUTE FUNCTION gwc_refuse_truncate()"""]
    return statements


def _drop_no_truncate_sql(vendor, *tables):
    if vendor != "postgresql":
        return []
    return [f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}" for table in tables]


def no_truncate(*tables):
    return migrations.RunPython(run_vendor_sql(_no_truncate_sql, *tables),
                                run_vendor_sql(_drop_no_truncate_sql, *tables))
