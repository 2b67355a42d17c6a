"""Query limits (OWASP GraphQL guidance), checked before anything is executed, and a time budget while it runs.

- depth: the deepest chain of nested fields, fragments included (introspection `__…` fields are not
  counted; introspection has its own switch);
- cost: an estimate of the rows and bytes a query makes the server produce. Every list field costs:
  a connection (a field with `first`/`last`) its page size (`first`/`last`, default 50) plus
  CONNECTION_COST for its count and page queries — `first: 0` included; a plain list (e.g.
  `jurisdictionsWithin`) LIST_COST at the root and NESTED_LIST_COST inside objects, or its entry in
  FIELD_COSTS; a geometry field its size
  (GEOMETRY_COSTS: a point 1, a simplified outline 50, a full-resolution boundary 5000 unless `simplify`
  is given). Children cost as many times as their parent list may repeat them;
- size: at most GRAPHQL_MAX_FIELDS field selections (aliases included) and GRAPHQL_MAX_TOKENS tokens
  (api.documents.size_error),
  checked before the standard validation rules, some of which are quadratic in the number of fields;
- introspection: refused unless `settings.GRAPHQL_INTROSPECTION`;
- time: a request may run for GRAPHQL_TIME_BUDGET seconds (`time_budget`: statement_timeout on
  PostgreSQL, a progress handler on SQLite, and a resolver check), after which it ends with
  `limit_exceeded` (`limit: "time"`).

Every refusal is a GraphQL error with `extensions.code` (`limit_exceeded` with `extensions.limit`, or
`introspection_disabled`); the checks before execution answer with HTTP 400 before any resolver runs.
"""
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection
from graphql.type import GraphQLInterfaceType, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLScalarType
from graphql.validation import specified_rules

from api.connection import DEFAULT_PAGE_SIZE
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationType,
    ValidationRule,
    VariableNode,
    get_named_type,
    is_introspection_type,
)
from kernel.sqlite import set_statement_timeout

PAGE_ARGUMENTS = ("first", "last")
CONNECTION_COST = 25  # a COUNT and a page query, whatever the page size
LIST_COST = 100  # a plain list field at the root without a declared cost
NESTED_LIST_COST = 10  # a plain list inside an object (an object's steps, photos, norms: a few rows each)
FIELD_COSTS = {"Query.jurisdictionsWithin": 400}  # lists that may return every jurisdiction
GEOMETRY_COSTS = {"Point": 1, "boundarySimplified": 50, "boundary": 5000, "boundary:simplified": 50}
DEFAULT_GEOMETRY_COST = 50


@dataclass
class Measure:
    depth: int = 0
    cost: int = 0


def _page_size(node: FieldNode, variables: dict, defaults: dict) -> int:
    sizes = []
    for argument in node.arguments or ():
        if argument.name.value not in PAGE_ARGUMENTS:
            continue
        value = argument.value
        if isinstance(value, VariableNode):
            name = value.name.value
            size = variables.get(name, defaults.get(name)) if name in variables or name in defaults else None
        elif isinstance(value, IntValueNode):
            size = int(value.value)
        else:
            size = None
        if isinstance(size, int) and not isinstance(size, bool) and size >= 0:
            sizes.append(size)
    return max(sizes) if sizes else DEFAULT_PAGE_SIZE


def _fields_of(graphql_type):
    if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType):
        return graphql_type.fields
    return {}


def _argument(node: FieldNode, name, variables):
    for argument in node.arguments or ():
        if argument.name.value == name:
            value = argument.value
            if isinstance(value, VariableNode):
                return variables.get(value.name.value)
            return getattr(value, "value", None)
    return None


def _geometry_cost(parent_type, node, variables):
    name = node.name.value
    if name == "boundary":
        simplify = _argument(node, "simplify", variables)
        try:
            full = simplify is not None and float(simplify) == 0
        except (TypeError, ValueError):
            full = False
        return GEOMETRY_COSTS["boundary"] if full else GEOMETRY_COSTS["boundary:simplified"]
    if name in GEOMETRY_COSTS:
        return GEOMETRY_COSTS[name]
    return GEOMETRY_COSTS["Point"] if name in ("location", "centroid") else DEFAULT_GEOMETRY_COST


def _is_list(field_type):
    while isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    return isinstance(field_type, GraphQLList)


def field_cost(parent_type, field, node, variables, defaults):
    """(cost of this field, how many times its children may repeat) — see the module docstring."""
    if all(arg in field.args for arg in PAGE_ARGUMENTS):
        size = _page_size(node, variables, defaults)
        return size + CONNECTION_COST, max(size, 1)
    named = get_named_type(field.type)
    if isinstance(named, GraphQLScalarType) and named.name == "Geometry":
        return _geometry_cost(parent_type, node, variables), 1
    if _is_list(field.type):
        if parent_type.name.endswith("Connection") and node.name.value == "edges":
            return 0, 1  # the connection field already counted its page
        root = parent_type.name in ("Query", "Mutation")
        size = FIELD_COSTS.get(f"{parent_type.name}.{node.name.value}", LIST_COST if root else NESTED_LIST_COST)
        return size, size
    return 0, 1


def measure(context, selection_set, parent_type, variables, defaults, multiplier=1, depth=0, memo=None) -> Measure:
    """Depth and cost of a selection set (see the module docstring). Each named fragment is measured once
    (cost is linear in the multiplier, depth additive), so fragment fan-out cannot make this slow."""
    memo = {} if memo is None else memo
    result = Measure(depth=depth)
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            if name.startswith("__"):
                continue
            field = _fields_of(parent_type).get(name)
            inner = multiplier
            if field is not None:
                cost, repeat = field_cost(parent_type, field, selection, variables, defaults)
                result.cost += multiplier * cost
                inner = multiplier * repeat
            result.depth = max(result.depth, depth + 1)
            if selection.selection_set is not None:
                child_type = get_named_type(field.type) if field is not None else None
                child = measure(context, selection.selection_set, child_type, variables, defaults, inner,
                                depth + 1, memo)
                result.depth, result.cost = max(result.depth, child.depth), result.cost + child.cost
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            inner_type = context.schema.get_type(condition.name.value) if condition else parent_type
            child = measure(context, selection.selection_set, inner_type, variables, defaults, multiplier, depth,
                            memo)
            result.depth, result.cost = max(result.depth, child.depth), result.cost + child.cost
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = context.get_fragment(name)
            if fragment is None:  # unknown: another rule reports it
                continue
            if name not in memo:
                memo[name] = None  # in progress: a cycle (reported by another rule) counts as nothing
                memo[name] = measure(context, fragment.selection_set,
                                     context.schema.get_type(fragment.type_condition.name.value), variables,
                                     defaults, 1, 0, memo)
            found = memo[name]
            if found is not None:
                result.depth = max(result.depth, depth + found.depth)
                result.cost += multiplier * found.cost
    return result


def count_fields(document):
    """Field selections written in the document (aliases and fragment bodies counted once each)."""
    count = 0
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, FieldNode):
            count += 1
        for key in node.keys:
            value = getattr(node, key, None)
            if isinstance(value, list | tuple):
                stack.extend(v for v in value if hasattr(v, "keys"))
            elif hasattr(value, "keys") and not isinstance(value, str):
                stack.append(value)
    return count


def limit_error(message, nodes, limit, maximum, actual):
    return GraphQLError(message, nodes, extensions={"code": "limit_exceeded", "limit": limit,
                                                    "maximum": maximum, "actual": actual})


def query_limits_rule(variables=None):
    """A validation rule class bound to the request's variables (page sizes are often variables)."""
    variables = dict(variables or {})

    class QueryLimitsRule(ValidationRule):
        def enter_operation_definition(self, node, *_args):
            root = self.context.schema.get_root_type(node.operation)
            defaults = {}
            for definition in node.variable_definitions or ():
                if isinstance(definition.default_value, IntValueNode):
                    defaults[definition.variable.name.value] = int(definition.default_value.value)
            found = measure(self.context, node.selection_set, root, variables, defaults)
            max_depth, max_cost = settings.GRAPHQL_MAX_DEPTH, settings.GRAPHQL_MAX_COST
            if found.depth > max_depth:
                self.report_error(limit_error(
                    f"Query depth {found.depth} exceeds the maximum of {max_depth}.", node, "depth", max_depth,
                    found.depth))
            if found.cost > max_cost:
                self.report_error(limit_error(
                    f"Query cost {found.cost} (an estimate of the rows and geometry it makes the server produce: "
                    f"every list and geometry field, nested ones multiplied) exceeds the maximum of {max_cost}; "
                    "ask for fewer fields, smaller pages or simplified geometry.", node, "cost", max_cost,
                    found.cost))
            return self.SKIP

    return QueryLimitsRule


class NoIntrospectionRule(ValidationRule):
    """graphql-core's NoSchemaIntrospectionCustomRule with a typed error code."""

    def enter_field(self, node, *_args):
        graphql_type = get_named_type(self.context.get_type())
        if graphql_type is not None and is_introspection_type(graphql_type):
            self.report_error(GraphQLError(
                f"Introspection is disabled on this server (field `{node.name.value}`); the schema is published "
                "as graphql/schema.graphql.", node, extensions={"code": "introspection_disabled"}))
            return self.SKIP  # one error per introspection field, not one per nested field


def validation_rules(variables=None):
    """graphql-core's standard rules plus ours (a rules list given to `validate` replaces the standard
    ones, so they must be included here)."""
    rules = [*specified_rules, query_limits_rule(variables)]
    if not settings.GRAPHQL_INTROSPECTION:
        rules.append(NoIntrospectionRule)
    return rules


# --- time budget -----------------------------------------------------------------------------------------

_deadline = threading.local()
SQLITE_PROGRESS_STEPS = 10_000  # virtual-machine steps between two looks at the clock


def over_budget(exc):
    """True for the database's own refusal once the budget is spent: SQLite's interrupt (progress handler)
    or PostgreSQL's query_canceled (statement_timeout, SQLSTATE 57014)."""
    seen = exc
    while seen is not None:
        if getattr(seen, "sqlstate", None) == "57014" or str(seen) == "interrupted":
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def budget_error(nodes=None, path=None):
    seconds = settings.GRAPHQL_TIME_BUDGET
    return GraphQLError(f"The request ran longer than its time budget of {seconds} s; ask for less.", nodes,
                        path=path, extensions={"code": "limit_exceeded", "limit": "time", "maximum": seconds})


@contextmanager
def time_budget(seconds=None):
    """Run the block within `seconds` of wall time (settings.GRAPHQL_TIME_BUDGET): the database stops a
    statement that would run past it, and TimeBudgetMiddleware stops resolving fields after it."""
    seconds = settings.GRAPHQL_TIME_BUDGET if seconds is None else seconds
    deadline = time.monotonic() + seconds
    _deadline.at = deadline
    connection.ensure_connection()
    raw = connection.connection
    configured = getattr(connection, "gwc_statement_timeout", None)  # set when it connected
    custom = connection.vendor == "postgresql" and seconds != configured
    try:
        if connection.vendor == "sqlite":
            raw.set_progress_handler(lambda: int(time.monotonic() > deadline), SQLITE_PROGRESS_STEPS)
        elif custom:  # every connection already has the default (kernel.sqlite.configure)
            set_statement_timeout(connection, seconds)
        yield
    finally:
        _deadline.at = None
        if connection.vendor == "sqlite" and connection.connection is raw:
            raw.set_progress_handler(None, 0)
        elif custom and connection.connection is raw and not connection.needs_rollback:
            try:
                set_statement_timeout(connection, configured)
            except DatabaseError:  # inside an outer transaction the cancelled statement aborted it
                connection.needs_rollback = connection.in_atomic_block


class TimeBudgetMiddleware:
    """Graphene middleware: no query field is resolved once the request's time budget is spent (a mutation's
    payload is still answered: its typed errors say what happened)."""

    def resolve(self, next_, root, info, **args):
        deadline = getattr(_deadline, "at", None)
        if (deadline is not None and time.monotonic() > deadline
                and info.operation.operation != OperationType.MUTATION):
            raise budget_error()
        return next_(root, info, **args)


# --- rate limit -------------------------------------------------------------------------------------------

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """"600/m" -> (600, 60); also "10/5s", "1000/h"."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*([smhd])\w*\s*", rate or "")
    if match is None:
        raise ValueError(f"bad rate {rate!r}; use e.g. 600/m")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _UNITS[unit]


def caller_key(request):
    """Who is calling, for rate limits and idempotency keys: the API token, else the user, else the address."""
    user = getattr(request, "user", None)
    token = getattr(user, "api_token", None)
    if token is not None:
        return f"token:{token.pk}"
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{request.META.get('REMOTE_ADDR', '?')}"


def rate_headers(caller: str, now=None) -> dict:
    """`X-RateLimit-Limit/Remaining/Reset` (Reset: Unix time the current window ends) for the caller's sliding
    window, sent on every response, not only on 429."""
    store = caches["ratelimit"]
    allowed, period = parse_rate(settings.GRAPHQL_TOKEN_RATE)
    now = time.time() if now is None else now
    window = int(now // period)
    counts = store.get_many([f"gql-rate:{caller}:{window - 1}", f"gql-rate:{caller}:{window}"])
    previous, current = (counts.get(f"gql-rate:{caller}:{w}", 0) for w in (window - 1, window))
    return _headers(allowed, period, window, _used(previous, current, now, window, period))


def _used(previous, current, now, window, period):
    """The sliding window's count: the previous fixed window weighs by the share of it still inside it."""
    return previous * (1 - (now - window * period) / period) + current


def _headers(allowed, period, window, used):
    return {"X-RateLimit-Limit": str(allowed), "X-RateLimit-Remaining": str(max(0, int(allowed - used))),
            "X-RateLimit-Reset": str((window + 1) * period)}


def _bump(store, key, amount, timeout):
    try:
        return store.incr(key, amount)
    except ValueError:  # the window's first request (or the key expired)
        if store.add(key, amount, timeout=timeout):
            return amount
        return store.incr(key, amount)  # another worker added it first


def charge(caller: str, operations: int = 1, now=None, rate=None) -> int | None:
    """Count `operations` against the caller's sliding window of `rate` (default GRAPHQL_TOKEN_RATE) in the
    shared `ratelimit` cache (Redis, or the database cache: every worker process sees the same counts); any
    door may use it with its own caller key (the certificate verification: "verify:ip:<address>"). The window
    slides: the previous fixed window's count weighs by the share of it still inside the last `period`
    seconds, so a burst at a window boundary cannot pass twice the rate. Returns None when allowed, or the
    seconds to wait (Retry-After)."""
    return meter(caller, operations, now, rate)[0]


def meter(caller: str, operations: int = 1, now=None, rate=None):
    """`charge`, and the X-RateLimit headers (see rate_headers) after it, counted in the same reads."""
    store = caches["ratelimit"]
    allowed, period = parse_rate(rate or settings.GRAPHQL_TOKEN_RATE)
    now = time.time() if now is None else now
    window = int(now // period)
    previous = store.get(f"gql-rate:{caller}:{window - 1}", 0)
    current = _bump(store, f"gql-rate:{caller}:{window}", operations, 2 * period + 1)
    used = _used(previous, current, now, window, period)
    return _wait(allowed, period, now, window, previous, current, used), _headers(allowed, period, window, used)


def _wait(allowed, period, now, window, previous, current, used):
    if used > allowed:
        if current > allowed:  # this window alone is over: wait for the next one
            return max(1, int((window + 1) * period - now + 0.999))
        # the previous window's weight fades linearly: wait until enough of it has slid out
        fade = (used - allowed) / previous * period if previous else 1
        return max(1, int(fade + 0.999))
    return None
