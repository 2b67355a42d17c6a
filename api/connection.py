"""Relay connections paged by keyset, with `totalCount` counted only when it is asked for.

- Page size: default 50, hard maximum 200; a larger `first`/`last` is a typed error, never a silent cut.
- Cursors are opaque, signed (django.core.signing) and tagged with the connection (`Query.listings`) and its
  order: they hold the order-key values of a row and its pk, so a page starts right after that row whatever
  rows were added or removed before it. A cursor from another connection, order or search point, or a tampered
  one, is `invalid_cursor`. There is no `offset`.
- Null order keys sort last in both directions, the same on SQLite and PostgreSQL.
"""
import datetime
import hashlib
import json
import time
from decimal import Decimal
from functools import reduce

import graphene
from django.conf import settings
from django.contrib.gis.db.models.functions import GeometryDistance
from django.contrib.gis.db.models.sql.conversion import DistanceField
from django.contrib.gis.geos import GEOSGeometry, Point
from django.core import signing
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connections
from django.db.models import Expression, F, FloatField, OrderBy, Q, QuerySet
from django.db.models.expressions import ExpressionWrapper
from graphene_django.filter import DjangoFilterConnectionField

from graphql import GraphQLError
from kernel import prepared
from kernel.errors import InvalidCursor, ValidationFailed
from regions.permissions import get_principal, scope_key

DEFAULT_PAGE_SIZE = 50
CURSOR_SALT = "gwc.cursor"
TOTAL_COUNT_EXACT = 10_000
ESTIMATE_TRUSTED = 100_000  # planner estimates above this are answered without counting
ESTIMATE_TTL = 30.0  # seconds a huge list's estimate is reused for the same search (any point)


def max_page_size():
    return settings.GRAPHENE.get("RELAY_CONNECTION_MAX_LIMIT", 200)


class CountableConnection(graphene.relay.Connection):
    class Meta:
        abstract = True

    total_count = graphene.Int(required=True, description=(
        f"Number of items matching the filters, counted only when selected. Exact up to {TOTAL_COUNT_EXACT:,}; "
        f"above that an estimate (PostgreSQL's planner estimate, never below {TOTAL_COUNT_EXACT + 1:,}), and the "
        f"estimate alone, without counting, where the planner expects more than {ESTIMATE_TRUSTED:,} items (the "
        f"same search's estimate is reused for {ESTIMATE_TTL:g} s), so a count of a huge list costs no scan."))

    def resolve_total_count(root, info):
        return total_count(root.iterable, getattr(root, "count_key", None))


_estimates: dict = {}


def total_count(queryset, key=None):
    """The exact count up to TOTAL_COUNT_EXACT (a bounded `COUNT(*)` over a LIMIT subquery); above it the
    planner's row estimate on PostgreSQL (at least TOTAL_COUNT_EXACT + 1), TOTAL_COUNT_EXACT + 1 elsewhere.
    On a PostgreSQL table of more than ESTIMATE_TRUSTED rows the planner is asked first, and when it expects
    more than ESTIMATE_TRUSTED matches its estimate is the answer (one planning, no count), reused for
    ESTIMATE_TTL seconds under `key` (a search whose count does not depend on its point, see keyset_page)."""
    if key is not None and key in _estimates and time.monotonic() - _estimates[key][1] < ESTIMATE_TTL:
        return _estimates[key][0]
    queryset = queryset() if callable(queryset) else queryset  # a connection may build it only when counted
    rows = queryset.order_by().values("pk")
    postgres = queryset.db is not None and connections[queryset.db].vendor == "postgresql"
    estimate = None
    if postgres and table_rows(queryset.model, queryset.db) > ESTIMATE_TRUSTED:
        estimate = planner_rows(rows)
        if estimate > ESTIMATE_TRUSTED:
            if key is not None:
                if len(_estimates) > 1024:
                    _estimates.clear()
                _estimates[key] = (estimate, time.monotonic())
            return estimate
    bounded = rows[:TOTAL_COUNT_EXACT + 1].count()
    if bounded <= TOTAL_COUNT_EXACT or not postgres:
        return bounded
    return max(bounded, planner_rows(rows) if estimate is None else estimate)


def planner_rows(queryset):
    return int(json.loads(queryset.explain(format="json"))[0]["Plan"]["Plan Rows"])


_table_rows: dict = {}


def table_rows(model, db):
    """PostgreSQL's row estimate of the model's table (pg_class.reltuples), read at most once a minute."""
    key = (db, model._meta.db_table)
    found = _table_rows.get(key)
    if found is None or time.monotonic() - found[1] > 60:
        with connections[db].cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
            row = cursor.fetchone()
        found = _table_rows[key] = (max(0, int(row[0])) if row else 0, time.monotonic())
    return found[0]


# --- order keys -------------------------------------------------------------------------------------------

class Key:
    """One order key: the expression annotated as `alias`, its direction and whether it can be NULL."""

    def __init__(self, alias, expression, descending, nullable, signature):
        self.alias, self.expression, self.descending, self.nullable = alias, expression, descending, nullable
        self.signature = signature  # what the key means (an annotation's full expression, e.g. the search point)

    def order(self, reverse=False):
        descending = self.descending != reverse
        nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
        return OrderBy(F(self.alias), descending=descending, **(nulls if self.nullable else {}))

    def beyond(self, value, forward):
        """Rows strictly after (`forward`) or before the value in this key's order, nulls last."""
        greater = forward != self.descending
        if value is None:
            return Q(pk__in=[]) if forward else Q(**{f"{self.alias}__isnull": False})
        strictly = Q(**{f"{self.alias}__{'gt' if greater else 'lt'}": value})
        return strictly | Q(**{f"{self.alias}__isnull": True}) if forward and self.nullable else strictly

    def equal(self, value):
        return Q(**{f"{self.alias}__isnull": True}) if value is None else Q(**{self.alias: value})


def _expand(model, name, descending, depth=0):
    """A model ordering entry as [(lookup, descending)]: a relation orders by the related model's ordering."""
    try:
        field = model._meta.get_field(name.split("__")[0])
    except FieldDoesNotExist:
        return [(name, descending)]
    related = field.related_model if field.is_relation and "__" not in name else None
    if related is None or not related._meta.ordering or depth > 2:
        return [(name, descending)]
    expanded = []
    for entry in related._meta.ordering:
        flip = isinstance(entry, str) and entry.startswith("-")
        expanded += _expand(related, entry.lstrip("-"), descending != flip, depth + 1) if isinstance(entry, str) \
            else []
    return [(f"{name}__{lookup}", desc) for lookup, desc in expanded] or [(name, descending)]


def _nullable(model, lookup):
    parts = lookup.split("__")
    for index, part in enumerate(parts):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return index > 0  # a transform on a field: be safe
        if getattr(field, "null", False):
            return True
        if field.is_relation and index < len(parts) - 1:
            model = field.related_model
    return False


def _signature(expression):
    """A stable description of an order expression: its shape and parameters, a search point by its WKT, a
    moment ("now" in a light rank) as such, so the same order in the next request has the same signature."""
    if isinstance(expression, F):
        return expression.name
    value = getattr(expression, "value", None)
    if isinstance(value, GEOSGeometry):
        shown = value.ewkt
    elif isinstance(value, datetime.datetime | datetime.date):
        shown = "moment"
    else:
        shown = repr(value) if value is not None else ""
    children = ",".join(_signature(e) for e in expression.get_source_expressions() if e is not None) \
        if hasattr(expression, "get_source_expressions") else ""
    return f"{type(expression).__name__}({shown}{children})"


def order_keys(queryset):
    """The queryset's order as Keys, ending with the pk (a total order, as keyset paging needs)."""
    model = queryset.model
    entries = list(queryset.query.order_by) or (list(model._meta.ordering) if queryset.query.default_ordering
                                                else [])
    keys, seen = [], set()
    for entry in entries:
        if isinstance(entry, str):
            if entry == "?":
                continue
            descending, name = entry.startswith("-"), entry.lstrip("-")
            annotation = queryset.query.annotations.get(name)
            if annotation is not None:
                expression = F(name)
                if isinstance(annotation.output_field, DistanceField):
                    expression = ExpressionWrapper(F(name), output_field=FloatField())
                pairs = [(expression, descending, False, f"{name}={_signature(annotation)}")]
            else:
                pairs = [(F(field), desc, _nullable(model, lookup), field)
                         for lookup, desc in _expand(model, name, descending)
                         for field in ["pk" if lookup in ("pk", model._meta.pk.name) else lookup]]
        elif isinstance(entry, OrderBy):
            pairs = [(entry.expression, entry.descending, False, _signature(entry.expression))]
        elif isinstance(entry, Expression):
            pairs = [(entry, False, False, _signature(entry))]
        else:
            continue
        for expression, descending, nullable, signature in pairs:
            if signature in seen:
                continue
            seen.add(signature)
            keys.append(Key(f"cursor_k{len(keys)}", expression, descending, nullable, signature))
    if "pk" not in seen:
        keys.append(Key(f"cursor_k{len(keys)}", F("pk"), False, False, "pk"))
    return keys


# --- cursors ----------------------------------------------------------------------------------------------

def _dump(value):
    if isinstance(value, datetime.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    if hasattr(value, "m") and not isinstance(value, int | float | str):  # a Distance measure
        return value.m
    return value


def _load(value):
    if isinstance(value, dict):
        (tag, text), = value.items()
        return {"dt": datetime.datetime.fromisoformat, "d": datetime.date.fromisoformat, "n": Decimal}[tag](text)
    return value


def connection_tag(info, keys):
    order = hashlib.sha256("|".join(f"{k.descending}:{k.signature}" for k in keys).encode()).hexdigest()[:16]
    return f"{info.parent_type.name}.{info.field_name}:{order}"


def encode_cursor(tag, values):
    return signing.dumps({"t": tag, "k": [_dump(v) for v in values]}, salt=CURSOR_SALT, compress=True)


class Cursor:
    """A row's cursor, signed only when it is written out (most clients read only `pageInfo.endCursor`)."""

    __slots__ = ("tag", "values", "_text")

    def __init__(self, tag, values):
        self.tag, self.values, self._text = tag, values, None

    def __str__(self):
        if self._text is None:
            self._text = encode_cursor(self.tag, self.values)
        return self._text


def decode_cursor(cursor, tag, keys, argument):
    try:
        data = signing.loads(cursor, salt=CURSOR_SALT)
        values = [_load(v) for v in data["k"]]
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise InvalidCursor(field=argument) from exc
    if data.get("t") != tag or len(values) != len(keys):
        raise InvalidCursor(field=argument)
    return values


def beyond(keys, values, forward):
    """Rows strictly after (`forward`) or before the row with these key values, in the keys' order."""
    terms, equal = [], Q()
    for key, value in zip(keys, values, strict=True):
        terms.append(equal & key.beyond(value, forward))
        equal &= key.equal(value)
    return reduce(lambda a, b: a | b, terms)


def keyset_page(connection, queryset, info, args, rebuild=None):
    """One page of `queryset` as a `connection` (Relay arguments first/after/last/before). `rebuild(point)`,
    given for a connection searched from a point (`near`), makes the same queryset near another point: the
    first page is then read from a statement compiled once (kernel.prepared)."""
    if not isinstance(queryset, QuerySet):
        raise TypeError(f"{info.field_name}: keyset paging needs a QuerySet, got {type(queryset).__name__}")
    keys = order_keys(queryset)
    tag = connection_tag(info, keys)
    rows = _annotated(queryset, keys)
    after, before = args.get("after"), args.get("before")
    if after:
        rows = rows.filter(beyond(keys, decode_cursor(after, tag, keys, "after"), True))
    if before:
        rows = rows.filter(beyond(keys, decode_cursor(before, tag, keys, "before"), False))
    size, last = _forward_size(args), args.get("last")
    prepared_page = None
    if size is not None:
        if rebuild is not None and not after and not before:
            prepared_page = (_search_key(info, args), rebuild, args["near"])
        page = _knn_page(rows.db, keys, size + 1, prepared_page, rows)
        if page is None:
            page = list(rows.order_by(*(k.order() for k in keys))[:size + 1])
        page, has_previous, has_next = _trimmed(page, size, last, bool(after))
    else:
        page = list(rows.order_by(*(k.order(reverse=True) for k in keys))[:last + 1])
        has_previous, has_next = len(page) > last, bool(before)
        page = page[:last][::-1]
    result = _connection(connection, page, keys, tag, has_previous, has_next, queryset)
    if prepared_page is not None and prepared.statement_for(_page_key(prepared_page[0], size + 2)) is not None:
        # the page's first read (one row past it) compiled: the point enters it only through its own
        # parameters, which counting drops, so the count is the same from any point
        result.count_key = ("count", prepared_page[0])
        point = _ewkt(args["near"])
        if any(point in k.signature for k in keys):
            _searches[prepared_page[0]] = (rows.db, keys, point)
    return result


def _forward_size(args):
    """The size of a page read forwards (`first`, or the default when neither `first` nor `last` is given),
    or None when the page is read backwards (`last` alone)."""
    first = args.get("first")
    if first is None and args.get("last") is not None:
        return None
    return DEFAULT_PAGE_SIZE if first is None else first


def _trimmed(page, size, last, has_previous):
    """A forward page read one row past `size`: (its rows, has_previous, has_next), the last `last` of them
    when `last` is given too."""
    has_next, page = len(page) > size, page[:size]
    if last is not None and len(page) > last:
        page, has_previous = page[len(page) - last:], True
    return page, has_previous, has_next


def _connection(connection, page, keys, tag, has_previous, has_next, iterable):
    edges = [connection.Edge(node=row, cursor=Cursor(tag, [getattr(row, k.alias) for k in keys]))
             for row in page]
    page_info = graphene.relay.PageInfo(start_cursor=edges[0].cursor if edges else None,
                                        end_cursor=edges[-1].cursor if edges else None,
                                        has_previous_page=has_previous, has_next_page=has_next)
    result = connection(edges=edges, page_info=page_info)
    result.iterable = iterable
    return result


_searches: dict = {}  # search key → (database, order keys, their point) of a search whose first page compiled


def _ewkt(point):
    """The point as the search's order keys name it in their signatures (listings_for's 4326 point)."""
    return Point(point.x, point.y, srid=4326).ewkt


def known_search_page(connection, info, args, rebuild, build):
    """The first page of a search from a point whose statement is already compiled (kernel.prepared), read
    without building its queryset: the same search (field, scope, every argument but the point) built,
    validated and compiled before, and the point enters the statement only through its own parameters.
    `build()` makes the queryset if `totalCount` needs it. None when the search is not known yet, or the
    point is not a point (the usual path says why)."""
    point, size = args.get("near"), _forward_size(args)
    if (point is None or size is None or args.get("after") or args.get("before")
            or getattr(point, "geom_type", None) != "Point"):
        return None
    search = _search_key(info, args)
    known = _searches.get(search)
    if known is None or prepared.statement_for(_page_key(search, size + 2)) is None:
        return None
    db, keys, known_point = known
    here = _ewkt(point)  # the keys of this search, from this point: what its cursors are tagged with
    keys = [Key(k.alias, k.expression, k.descending, k.nullable, k.signature.replace(known_point, here))
            for k in keys]
    tag = connection_tag(info, keys)
    page = _knn_page(db, keys, size + 1, (search, rebuild, point))
    if page is None:
        return None
    page, has_previous, has_next = _trimmed(page, size, args.get("last"), False)
    result = _connection(connection, page, keys, tag, has_previous, has_next, build)
    result.count_key = ("count", search)
    return result


KNN_TIE_PAD = 20


def _annotated(queryset, keys):
    return queryset.annotate(**{k.alias: k.expression for k in keys})


def _search_key(info, args):
    """What a connection's search is made of: the field, the caller's scope and the arguments but the point."""
    others = json.dumps({k: v for k, v in args.items() if k != "near"}, sort_keys=True, default=str)
    return (info.parent_type.name, info.field_name, scope_key(get_principal(info.context.user)), others)


def _page_key(search, limit):
    return ("page", search, limit)


def _knn_rows(queryset, limit):
    """The queryset's first `limit` rows in KNN order, with its order keys annotated (near its own point: a
    statement compiled from it must carry no other search's point)."""
    keys = order_keys(queryset)
    return _annotated(queryset, keys).order_by(keys[0].order())[:limit]


def _knn_read(rows, keys, limit, prepared_page):
    """`limit` rows in KNN order: from the statement compiled for the search when it is preparable."""
    if prepared_page is not None:
        search, rebuild, point = prepared_page
        found = prepared.statement(_page_key(search, limit), lambda p: _knn_rows(rebuild(p), limit))
        if found is not None:
            return found.run(point)
    if rows is None:
        rows = _annotated(rebuild(point), keys)
    return list(rows.order_by(keys[0].order())[:limit])


def _knn_page(db, keys, n, prepared_page=None, rows=None):
    """The first `n` rows in (distance, pk) order when the order is a PostGIS KNN distance: PostgreSQL walks
    the GiST index only for `ORDER BY location <-> point` alone (with `, id` it sorts every row), so the page
    is read in distance order with one row more and ordered by (distance, pk) here; exact unless the page's
    last distance ties with that row's, when it is read again with KNN_TIE_PAD rows more; still tied: None
    (the caller runs the full order)."""
    if (len(keys) != 2 or keys[1].signature != "pk" or keys[0].descending or db is None
            or connections[db].vendor != "postgresql" or not isinstance(keys[0].expression, GeometryDistance)):
        return None
    distance = keys[0].alias
    for extra in (1, KNN_TIE_PAD):
        fetched = sorted(_knn_read(rows, keys, n + extra, prepared_page),
                         key=lambda row: (getattr(row, distance), row.pk))
        # rows not read lie at least as far as the farthest read: exact when that is beyond the page's last
        if len(fetched) < n + extra or getattr(fetched[n - 1], distance) < getattr(fetched[-1], distance):
            return fetched[:n]
    return None


class PagedConnectionField(DjangoFilterConnectionField):
    """DjangoFilterConnectionField with the project's page-size rules and keyset cursors (no `offset`)."""

    @property
    def args(self):
        args = super().args
        args.pop("offset", None)
        return args

    @args.setter
    def args(self, args):
        self._base_args = args

    @classmethod
    def connection_resolver(cls, resolver, connection, default_manager, queryset_resolver, max_limit,
                            enforce_first_or_last, root, info, **args):
        limit = max_page_size()
        for name in ("first", "last"):
            value = args.get(name)
            if value is not None and (value < 0 or value > limit):
                raise GraphQLError(
                    f"`{name}` must be between 0 and {limit} on `{info.field_name}` (got {value}).",
                    extensions={"code": "limit_exceeded", "field": name},
                )

        def build(changed=args):
            iterable = resolver(root, info, **changed)
            try:
                return queryset_resolver(connection, default_manager if iterable is None else iterable, info,
                                         changed)
            except ValidationError as exc:  # a filter value the filterset refused
                raise ValidationFailed(" ".join(exc.messages)) from exc

        rebuild = None
        if args.get("near") is not None:
            def rebuild(point):
                return build({**args, "near": point})
            known = known_search_page(connection, info, args, rebuild, build)
            if known is not None:
                return known
        return keyset_page(connection, build(), info, args, rebuild)
