"""Nearest-first listings on PostGIS from a statement compiled once per principal.

`listings_for(user, near=point)` builds the permission filter, the joins and the KNN order through the ORM on
every call; building and compiling that query costs more than PostgreSQL takes to plan and run it. Here the
same queryset is compiled once per (principal, filters, limit) with a stand-in point, the point's
parameters are found in the compiled statement, and each search runs the statement with the real point as a
server-side prepared statement (PostgreSQL plans it once per connection; the time the windows are judged at
is the database's `now()`, so no other parameter changes). Rows become the same model instances, with the
same reference rows and search distances attached, as `listings_for` gives.

Prepared statements live on the connection: behind a transaction-mode connection pooler (PgBouncer) they
need its prepared-statement support.
"""
import dataclasses
from collections import OrderedDict
from threading import Lock

import psycopg
from django.contrib.gis.db.backends.postgis.adapter import PostGISAdapter
from django.contrib.gis.geos import Point
from django.db import connection
from django.db.models.query import get_related_populators

from regions.permissions import get_principal

STATEMENTS = 256  # compiled statements kept per process (least recently used dropped)
STAND_IN = (179.000123456789, -89.000987654321)  # a point no search sends, to find the point's parameters


class _PreparedCursor(psycopg.Cursor):
    """A server-side-binding cursor whose statements PostgreSQL prepares (Django's cursors bind client-side
    and never prepare)."""

    def execute(self, query, params=None, **kwargs):
        kwargs.setdefault("prepare", True)
        return super().execute(query, params, **kwargs)


class Statement:
    """One compiled nearest-first query: SQL, its parameters with the stand-in point's slots marked, and how
    its rows become model instances (as Django's ModelIterable makes them)."""

    def __init__(self, queryset):
        compiler = queryset.query.get_compiler(using=queryset.db)
        self.sql, params = compiler.as_sql()
        stand_in = PostGISAdapter(Point(*STAND_IN, srid=4326))
        self.slots = [("point" if p == stand_in else "lon" if p == STAND_IN[0] else "lat" if p == STAND_IN[1]
                       else None) for p in params]
        if self.slots.count("point") < 1:
            raise ValueError("the queryset does not order by the stand-in point")
        self.params, self.db, self.compiler = list(params), queryset.db, compiler
        select, klass_info = compiler.select, compiler.klass_info
        self.converters = compiler.get_converters([s[0] for s in select])
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [f[0].target.attname for f in select[self.start:self.end]]
        self.populators = get_related_populators(klass_info, select, self.db)
        self.annotations = list(compiler.annotation_col_map.items())

    def run(self, point):
        point = Point(point.x, point.y, srid=4326)
        values = {"point": PostGISAdapter(point), "lon": point.x, "lat": point.y, None: None}
        params = [values[slot] if slot else p for slot, p in zip(self.slots, self.params, strict=True)]
        connection.ensure_connection()
        with connection._prepare_cursor(_PreparedCursor(connection.connection)) as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        found = []
        for row in rows:
            obj = self.model.from_db(self.db, self.init_list, row[self.start:self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            found.append(obj)
        return found


_statements: OrderedDict = OrderedDict()
_lock = Lock()


def statement(key, build):
    """The compiled statement for `key`, compiled from `build()` (a queryset near the stand-in point) once."""
    with _lock:
        found = _statements.get(key)
        if found is not None:
            _statements.move_to_end(key)
            return found
    found = Statement(build())
    with _lock:
        _statements[key] = found
        while len(_statements) > STATEMENTS:
            _statements.popitem(last=False)
    return found


def scope_key(principal):
    """What the permission filter is made of: the principal's sets and roles (two users alike share a
    statement)."""
    return tuple((f.name, getattr(getattr(principal, f.name), "pk", getattr(principal, f.name)))
                 for f in dataclasses.fields(principal) if f.name != "user_id")


def nearest(user, point, limit, build, filters=()):
    """The `limit` listings nearest `point` that `build(stand_in_point)` (the listings_for queryset with
    `filters` applied) selects for this user."""
    key = (scope_key(get_principal(user)), connection.alias, tuple(filters), limit)
    return statement(key, lambda: build(Point(*STAND_IN, srid=4326))[:limit]).run(point)
