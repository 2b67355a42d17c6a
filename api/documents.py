"""Parsed and validated GraphQL documents, cached per process.

Member cities' systems send the same few operations (graphql/operations/) over and over; lexing, parsing and
running the standard validation rules over a document cost more than executing a typical page of it. A
document is parsed once per query text, and validated once per (query text, the limits that apply: the
request's scalar variables, which page sizes and `simplify` may name, and the introspection switch).
Both caches are bounded LRUs, so a client sending endless distinct documents only evicts its own.
"""
import json
from functools import lru_cache

from django.conf import settings
from graphene_django.settings import graphene_settings

from api import limits
from graphql import GraphQLError, parse, validate

CACHED_DOCUMENTS = 512


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _parsed(query, max_tokens):
    try:
        return parse(query, max_tokens=max_tokens), None
    except GraphQLError as exc:
        return None, exc


def parse_document(query):
    """(document, None) or (None, the syntax or token-limit error) for a query text."""
    return _parsed(query, settings.GRAPHQL_MAX_TOKENS)


def size_error(query):
    """The limit error for a document over GRAPHQL_MAX_TOKENS tokens or GRAPHQL_MAX_FIELDS selections, else
    None (a syntax error is reported by the normal path), checked before the standard validation rules, some
    of which are quadratic in the number of fields."""
    document, error = parse_document(query)
    if error is not None:
        if "Parsing aborted" in error.message or "token" in error.message.lower():
            return limits.limit_error(error.message, None, "tokens", settings.GRAPHQL_MAX_TOKENS, None)
        return None
    fields = limits.count_fields(document)
    if fields > settings.GRAPHQL_MAX_FIELDS:
        return limits.limit_error(f"The query selects {fields} fields (aliases included); the maximum is "
                                  f"{settings.GRAPHQL_MAX_FIELDS}.", None, "fields", settings.GRAPHQL_MAX_FIELDS,
                                  fields)
    return None


def _limit_variables(variables):
    """The variables the limits can read (page sizes, `simplify`: scalars), as a hashable key."""
    scalars = {k: v for k, v in (variables or {}).items() if not isinstance(v, dict | list)}
    return json.dumps(scalars, sort_keys=True, default=str)


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _validated(schema, query, limit_variables, introspection, max_cost, max_depth):
    document, _ = parse_document(query)
    return tuple(validate(schema, document, limits.validation_rules(json.loads(limit_variables)),
                          max_errors=graphene_settings.MAX_VALIDATION_ERRORS))


def validation_errors(schema, query, variables):
    """The validation errors of a parsed query (standard rules, depth and cost, introspection switch)."""
    return list(_validated(schema, query, _limit_variables(variables), settings.GRAPHQL_INTROSPECTION,
                           settings.GRAPHQL_MAX_COST, settings.GRAPHQL_MAX_DEPTH))
