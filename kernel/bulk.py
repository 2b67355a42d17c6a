"""Bulk inserts for set-based services.

On PostgreSQL `insert` sends the rows with COPY: COPY fires the same row and statement triggers and checks the
same constraints as INSERT, but its rows are encoded by psycopg's C code, where a bulk INSERT of 1,000 rows
with JSON columns spends most of its time quoting each JSON string into an array literal in Python. The
primary keys are drawn from the table's sequence first (one statement), so the caller has them, in the order
of the rows. For a few rows, and elsewhere (SQLite), it is `bulk_create` (one INSERT … RETURNING: one round
trip instead of two).

On PostgreSQL a service may also send rows as one JSON parameter (`json_insert`): the statement can then join
others in a single round trip (`ledger.services.batch` posts transactions, legs, breakdowns and audit events
that way), the keys drawn beforehand with `draw_ids`.
"""
import json
from datetime import date, datetime, time
from decimal import Decimal
from json.encoder import encode_basestring
from uuid import UUID

from django.db import connection
from django.db.models import JSONField

COPY_FROM = 20  # rows


def insert(model, objs, *, with_pk=True):
    """Insert the unsaved instances `objs` of `model` and return them; with `with_pk` their primary keys are
    set, ascending in the order given, unless they all have one already (without it the rows take their
    identity default, also in order)."""
    objs = list(objs)
    if not objs:
        return objs
    if connection.vendor != "postgresql" or len(objs) < COPY_FROM:
        return model._default_manager.bulk_create(objs)
    meta = model._meta
    fields = [f for f in meta.concrete_fields if with_pk or not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    if with_pk and any(obj.pk is None for obj in objs):
        draw_ids((model, objs))
    with connection.cursor() as cursor:
        for obj in objs:
            obj._prepare_related_fields_for_save(operation_name="insert")
        sql = f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN"
        with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:  # Django's error classes
            for obj in objs:
                copy.write_row([f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields])
    for obj in objs:
        obj._state.adding, obj._state.db = False, connection.alias
    return objs


def draw_ids(*batches):
    """Set the primary keys of the unsaved instances of each (model, objs), drawn from the tables' sequences in
    one statement (PostgreSQL), ascending in the order given."""
    sql, params = draw_ids_sql(*((model, len(objs)) for model, objs in batches))
    if sql:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        for i, (_, objs) in enumerate(batches):
            for obj, pk in zip(objs, keys_of(rows, i), strict=True):
                obj.pk = pk


def draw_ids_sql(*counts):
    """(SQL, params) of one statement drawing n keys from the sequence of each (model, n), for a caller that
    sends it with others (then `keys_of`); SQL is None when there is nothing to draw."""
    draws = [(i, model, n) for i, (model, n) in enumerate(counts) if n]
    if not draws:
        return None, []
    sql = " UNION ALL ".join(
        f"(SELECT {i}, nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s) ORDER BY 2)"
        for i, _, _ in draws)
    return sql, [p for _, model, n in draws for p in (model._meta.db_table, model._meta.pk.column, n)]


def keys_of(rows, i):
    """The keys `draw_ids_sql`'s rows drew for its i-th (model, n), ascending."""
    return sorted(pk for k, pk in rows if k == i)


def _json(value):
    """A column's value as JSON (the text that jsonb_populate_recordset casts to the column's type)."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, (datetime, date, time)):
        return f'"{value.isoformat()}"'
    if isinstance(value, (Decimal, UUID)):
        return f'"{value}"'
    return json.dumps(value, allow_nan=False)


def _encoder(field):
    if isinstance(field, JSONField):  # as the ORM saves it: with the field's encoder; None is SQL NULL
        return lambda value: "null" if value is None else json.dumps(value, cls=field.encoder)
    return _json


def json_insert(model, objs, *, with_pk=True):
    """(SQL, parameter) of one INSERT of the instances `objs` sent as one JSON array (PostgreSQL): the same
    row and statement triggers and constraints as any INSERT. With `with_pk` their keys must be set (see
    `draw_ids`); without, the rows take their identity default."""
    meta = model._meta
    fields = [f for f in meta.concrete_fields if with_pk or not f.primary_key]
    encoders = [(encode_basestring(f.column), f, _encoder(f)) for f in fields]
    rows = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="insert")
        rows.append("{" + ",".join(f"{name}:{encode(f.pre_save(obj, True))}" for name, f, encode in encoders) + "}")
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"INSERT INTO {table} ({columns}) SELECT {columns} FROM jsonb_populate_recordset(NULL::{table}, %s)"
    return sql, "[" + ",".join(rows) + "]"


def saved(objs):
    """Mark instances inserted by SQL of this module as saved (as bulk_create leaves them)."""
    for obj in objs:
        obj._state.adding, obj._state.db = False, connection.alias
    return objs
