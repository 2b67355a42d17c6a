"""Bulk inserts for set-based services.

On PostgreSQL `insert` sends the rows with COPY: COPY fires the same row and statement triggers and checks the
same constraints as INSERT, but its rows are encoded by psycopg's C code, where a bulk INSERT of 1,000 rows
with JSON columns spends most of its time quoting each JSON string into an array literal in Python. The
primary keys are drawn from the table's sequence first (one statement), so the caller has them, in the order
of the rows. For a few rows, and elsewhere (SQLite), it is `bulk_create` (one INSERT … RETURNING: one round
trip instead of two).
"""
from django.db import connection

COPY_FROM = 20  # rows


def insert(model, objs, *, with_pk=True):
    """Insert the unsaved instances `objs` of `model` and return them; with `with_pk` their primary keys are
    set, ascending in the order given (without it the rows take their identity default, also in order)."""
    objs = list(objs)
    if not objs:
        return objs
    if connection.vendor != "postgresql" or len(objs) < COPY_FROM:
        return model._default_manager.bulk_create(objs)
    meta = model._meta
    fields = [f for f in meta.concrete_fields if with_pk or not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        if with_pk:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s) ORDER BY 1",
                           [meta.db_table, meta.pk.column, len(objs)])
            for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = pk
        for obj in objs:
            obj._prepare_related_fields_for_save(operation_name="insert")
        sql = f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN"
        with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:  # Django's error classes
            for obj in objs:
                copy.write_row([f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields])
    for obj in objs:
        obj._state.adding, obj._state.db = False, connection.alias
    return objs
