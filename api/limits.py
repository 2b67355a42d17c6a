"""Query limits (OWASP GraphQL guidance), checked before anything is executed.

- depth: the deepest chain of nested fields, fragments included (introspection `__…` fields are not
  counted; introspection has its own switch);
- cost: the number of nodes a query can return. Every connection field (a field with `first`/`last`
  arguments) costs its page size (`first`/`last`, default 50) times the page sizes of the connections it
  is nested in; other fields cost nothing (the depth limit bounds them);
- introspection: refused unless `settings.GRAPHQL_INTROSPECTION`.

Every refusal is a GraphQL error with `extensions.code` (`limit_exceeded` with `extensions.limit`, or
`introspection_disabled`) and the request is answered with HTTP 400 before any resolver runs.
"""
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from graphql.type import GraphQLInterfaceType, GraphQLObjectType
from graphql.validation import specified_rules

from api.connection import DEFAULT_PAGE_SIZE
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    ValidationRule,
    VariableNode,
    get_named_type,
    is_introspection_type,
)

PAGE_ARGUMENTS = ("first", "last")


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
            if field is not None and all(arg in field.args for arg in PAGE_ARGUMENTS):
                inner = multiplier * _page_size(selection, variables, defaults)
                result.cost += inner
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
                    f"Query cost {found.cost} (nodes it may return: page sizes of nested connections multiplied) "
                    f"exceeds the maximum of {max_cost}; ask for smaller pages.", node, "cost", max_cost,
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
    """`X-RateLimit-Limit/Remaining/Reset` (Reset: Unix time the window ends) for the caller's current window,
    sent on every response, not only on 429."""
    allowed, period = parse_rate(settings.GRAPHQL_TOKEN_RATE)
    now = time.time() if now is None else now
    window = int(now // period)
    used = cache.get(f"gql-rate:{caller}:{window}", 0)
    return {"X-RateLimit-Limit": str(allowed), "X-RateLimit-Remaining": str(max(0, allowed - used)),
            "X-RateLimit-Reset": str((window + 1) * period)}


def charge(caller: str, operations: int = 1, now=None, rate=None) -> int | None:
    """Count `operations` against the caller's fixed window (django cache) at `rate` (default
    GRAPHQL_TOKEN_RATE). Returns None when allowed, or the seconds to wait (Retry-After) when the window's
    allowance is used up."""
    allowed, period = parse_rate(rate or settings.GRAPHQL_TOKEN_RATE)
    now = time.time() if now is None else now
    window = int(now // period)
    key = f"gql-rate:{caller}:{window}"
    cache.add(key, 0, timeout=period + 1)
    try:
        used = cache.incr(key, operations)
    except ValueError:  # expired between add and incr
        cache.set(key, operations, timeout=period + 1)
        used = operations
    if used > allowed:
        return max(1, int((window + 1) * period - now + 0.999))
    return None
