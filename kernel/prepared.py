"""Statements compiled once and prepared by PostgreSQL: the nearest-first searches.

Building and compiling a nearest-first listing query through the ORM (permission filter, joins, KNN order)
costs more than PostgreSQL takes to plan and run it. A `Statement` is the queryset compiled once, near a
stand-in point; the point's parameters are found in the compiled SQL, and each search runs the statement with
the real point, as a server-side prepared statement (PostgreSQL plans it once per connection). Callers key
statements by what the SQL is made of (the principal's scope, the filters, the limit), and build them with the
time left to the database (`now()`), so that nothing else in the parameters changes from one search to the next.
Rows become the model instances Django's ModelIterable makes, finished as the queryset's iterable class
finishes them (its `finish(rows)`, when it has one), made cheaper where that changes nothing a caller sees:
- geometry columns stay the EWKB PostgreSQL sent until the attribute is first read (GeoDjango's SpatialProxy
  builds the GEOS object then, as it does for any geometry assigned as hex);
- instances are made as `Model.from_db` makes them but without running `Model.__init__` field by field
  (when no `pre_init`/`post_init` receiver listens for the model: otherwise through `from_db`);
- the instances of one model read together are each other's peers (kernel.peers): a field the query
  deferred is loaded for all of them at its first read, in one query.

Prepared statements live on the connection: behind a transaction-mode connection pooler (PgBouncer) they
need its prepared-statement support. Django opens psycopg connections with `prepare_threshold=None`, with
which psycopg prepares nothing, not even `execute(..., prepare=True)`; `prepared_cursor` raises the threshold
out of reach instead, so that exactly the statements asked for are prepared (Django's own client-side-binding
cursors never prepare).
"""
from collections import OrderedDict
from threading import Lock

import psycopg
from django.contrib.gis.db.backends.postgis.adapter import PostGISAdapter
from django.contrib.gis.db.models.proxy import SpatialProxy
from django.contrib.gis.geos import Point
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.expressions import Col
from django.db.models.signals import post_init, pre_init

from kernel.peers import PEERS

STATEMENTS = 256  # compiled statements kept per process (least recently used dropped)
# points no search sends, to find the point's parameters in the compiled SQL
STAND_IN, OTHER_STAND_IN = (179.000123456789, -89.000987654321), (-179.000567891234, 10.000345678912)


def _slots(params, point):
    """For each parameter: "point" (the point's geometry), "lon", "lat" (its coordinates) or None."""
    geometry = PostGISAdapter(Point(*point, srid=4326))
    return [("point" if p == geometry else "lon" if p == point[0] else "lat" if p == point[1] else None)
            for p in params]


class PreparedCursor(psycopg.Cursor):
    """A server-side-binding cursor whose statements PostgreSQL prepares (Django's cursors bind client-side
    and never prepare).

    psycopg leaves `_query` (which Django reads to log the SQL: the query log, CaptureQueriesContext) empty
    when it runs an already prepared statement; here it is then made from the statement and its parameters,
    when read."""

    _sent = None

    def execute(self, query, params=None, **kwargs):
        kwargs.setdefault("prepare", True)
        found = super().execute(query, params, **kwargs)
        self._sent = (query, params)
        return found

    @property
    def _query(self):
        if self._sent_query is None and self._sent is not None:
            self._sent_query = self._convert_query(*self._sent)
        return self._sent_query

    @_query.setter
    def _query(self, value):
        self._sent_query, self._sent = value, None


ONLY_WHEN_ASKED = 2**31 - 1  # a prepare_threshold no statement reaches by repetition


def prepared_cursor(using=DEFAULT_DB_ALIAS):
    """A Django cursor on `using` (logged and wrapped as any other) whose statements PostgreSQL prepares."""
    db = connections[using]
    db.ensure_connection()
    if db.connection.prepare_threshold is None:
        db.connection.prepare_threshold = ONLY_WHEN_ASKED
    return db._prepare_cursor(PreparedCursor(db.connection))


class NotPreparable(Exception):
    """The point shapes more of the query than its own parameters (e.g. a distance prefilter in degrees)."""


class Statement:
    """One query compiled near a stand-in point: SQL, its parameters with the point's slots marked, and how
    its rows become model instances (as Django's ModelIterable makes them). `build(point)` is compiled near
    two stand-ins: where anything but the point's own parameters differs, the query is NotPreparable."""

    def __init__(self, build):
        queryset = build(Point(*STAND_IN, srid=4326))
        compiler = queryset.query.get_compiler(using=queryset.db)
        self.sql, params = compiler.as_sql()
        self.slots = _slots(params, STAND_IN)
        other_sql, other = build(Point(*OTHER_STAND_IN, srid=4326)).query.get_compiler(using=queryset.db).as_sql()
        other_slots = _slots(other, OTHER_STAND_IN)
        if ("point" not in self.slots or other_sql != self.sql or other_slots != self.slots
                or any(slot is None and a != b for slot, a, b in zip(self.slots, params, other, strict=True))):
            raise NotPreparable(self.sql[:200])
        self.params, self.db, self.compiler = list(params), queryset.db, compiler
        select, klass_info = compiler.select, compiler.klass_info
        self.converters = {i: c for i, c in compiler.get_converters([s[0] for s in select]).items()
                           if not _lazy_geometry(select[i][0])}
        self.reader = _Reader(klass_info, select, self.db)
        self.annotations = list(compiler.annotation_col_map.items())
        self.finish = getattr(queryset._iterable_class, "finish", None)

    def run(self, point):
        if point.srid != 4326 or point.hasz:
            point = Point(point.x, point.y, srid=4326)
        values = {"point": PostGISAdapter(point), "lon": point.x, "lat": point.y, None: None}
        params = [values[slot] if slot else p for slot, p in zip(self.slots, self.params, strict=True)]
        with prepared_cursor(self.db) as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = list(self.compiler.apply_converters(rows, self.converters))
        found = self.reader.read(rows, self.annotations)
        return self.finish(found) if self.finish else found


def _lazy_geometry(expression):
    """Whether the column is a model's geometry field, which its SpatialProxy builds on first read."""
    return (isinstance(expression, Col) and getattr(expression.target, "geom_type", None) is not None
            and isinstance(getattr(expression.target.model, expression.target.attname, None), SpatialProxy))


class _Reader:
    """How the columns of one model (and, recursively, of the models it selects related) become instances:
    Django's ModelIterable and RelatedPopulator, with instances made as `Model.from_db` would make them."""

    def __init__(self, klass_info, select, db):
        if klass_info.get("from_parent"):  # multi-table inheritance: columns out of the model's order
            raise NotPreparable(klass_info["model"]._meta.label)
        fields = klass_info["select_fields"]
        self.model, self.db = klass_info["model"], db
        self.start, self.end = fields[0], fields[-1] + 1
        self.attnames = [f[0].target.attname for f in select[self.start:self.end]]
        self.pk_index = self.attnames.index(self.model._meta.pk.attname)
        self.local_setter, self.remote_setter = klass_info.get("local_setter"), klass_info.get("remote_setter")
        self.related = [_Reader(info, select, db) for info in klass_info.get("related_klass_infos", [])]
        self.deferred = len(self.attnames) < len(self.model._meta.concrete_fields)
        self.plain = not (pre_init.has_listeners(self.model) or post_init.has_listeners(self.model)
                          or self.model.from_db.__func__ is not Model.from_db.__func__)

    def make(self, values):
        if not self.plain:
            return self.model.from_db(self.db, self.attnames, values)
        obj = self.model.__new__(self.model)
        state = obj._state = ModelState()
        state.adding, state.db = False, self.db
        obj.__dict__.update(zip(self.attnames, values, strict=True))
        return obj

    def read(self, rows, annotations=()):
        """The instances of `rows` (with the annotations set on them), and their related instances."""
        found = [self.make(row[self.start:self.end]) for row in rows]
        for name, position in annotations:
            for obj, row in zip(found, rows, strict=True):
                setattr(obj, name, row[position])
        self._relate(found, rows)
        return found

    def _relate(self, found, rows):
        if self.deferred:
            PEERS.join(found)
        for reader in self.related:
            first, last, pk = reader.start, reader.end, reader.start + reader.pk_index
            related = [None if row[pk] is None else reader.make(row[first:last]) for row in rows]
            for obj, other in zip(found, related, strict=True):
                reader.local_setter(obj, other)
                if other is not None:
                    reader.remote_setter(other, obj)
            present = [(other, row) for other, row in zip(related, rows, strict=True) if other is not None]
            reader._relate([other for other, _ in present], [row for _, row in present])


_statements: OrderedDict = OrderedDict()
_lock = Lock()


def statement(key, build):
    """The statement for `key`, compiled once from `build(point)` (a queryset near the point), or None when
    the query is not preparable (also remembered); the least recently used are dropped beyond STATEMENTS."""
    with _lock:
        if key in _statements:
            _statements.move_to_end(key)
            return _statements[key]
    try:
        found = Statement(build)
    except NotPreparable:
        found = None
    with _lock:
        _statements[key] = found
        while len(_statements) > STATEMENTS:
            _statements.popitem(last=False)
    return found


def statement_for(key):
    """The statement compiled for `key` (None when none is, or when the query was not preparable)."""
    return _statements.get(key)
