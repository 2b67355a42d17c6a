"""The GraphQL contract for member cities: limits refuse abusive requests with typed errors, errors never
leak exception text, every error has an `extensions.code`, browser sessions need CSRF."""
import json
import logging

import graphene
import pytest
from django.core.cache import caches
from django.test import Client

from api.limits import CONNECTION_COST as C
from api.limits import charge, parse_rate, query_limits_rule
from graphql import parse, validate
from regions.models import ApiToken
from regions.services.tokens import create_token

JURISDICTIONS = "query J($first: Int) { jurisdictions(first: $first) { totalCount edges { node { code } } } }"


@pytest.fixture(autouse=True)
def fresh_cache():
    for alias in ("default", "ratelimit"):
        caches[alias].clear()
    yield
    for alias in ("default", "ratelimit"):
        caches[alias].clear()


def post(client, body, **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post("/graphql/", data, content_type="application/json", **headers)


def codes(body):
    return [error["extensions"]["code"] for error in body["errors"]]


def nested_parents(levels):
    inner = "code"
    for _ in range(levels):
        inner = f"parent {{ {inner} }}"
    return inner


# --- depth ---------------------------------------------------------------------------------------------


def test_query_deeper_than_the_maximum_is_refused(gql, region_world, settings):
    settings.GRAPHQL_MAX_DEPTH = 10
    gql.login(region_world["users"]["staff_a"])
    # jurisdictions > edges > node > 7 × parent > code = depth 11
    query = f"{{ jurisdictions {{ edges {{ node {{ {nested_parents(7)} }} }} }} }}"
    body = gql.execute(query, status=400)
    assert codes(body) == ["LIMIT_EXCEEDED"]
    assert body["errors"][0]["extensions"]["limit"] == "depth"
    assert body["errors"][0]["extensions"]["actual"] == 11
    assert "data" not in body


def test_query_at_the_maximum_depth_runs(gql, region_world, settings):
    settings.GRAPHQL_MAX_DEPTH = 10
    gql.login(region_world["users"]["staff_a"])
    body = gql.execute(f"{{ jurisdictions {{ edges {{ node {{ {nested_parents(6)} }} }} }} }}")
    assert "errors" not in body, body
    assert body["data"]["jurisdictions"]["edges"]


def test_depth_counts_fields_inside_fragments(gql, region_world, settings):
    settings.GRAPHQL_MAX_DEPTH = 10
    gql.login(region_world["users"]["staff_a"])
    query = f"""
        query {{ jurisdictions {{ edges {{ ...Edge }} }} }}
        fragment Edge on JurisdictionEdge {{ node {{ ... on Jurisdiction {{ ...Deep }} }} }}
        fragment Deep on Jurisdiction {{ {nested_parents(7)} }}
    """
    body = gql.execute(query, status=400)
    assert body["errors"][0]["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "depth", "maximum": 10,
                                               "actual": 11}


# --- cost ------------------------------------------------------------------------------------------------


class Leaf(graphene.ObjectType):
    name = graphene.String()


class LeafConnection(graphene.relay.Connection):
    class Meta:
        node = Leaf


class Branch(graphene.ObjectType):
    leaves = graphene.relay.ConnectionField(LeafConnection)


class BranchConnection(graphene.relay.Connection):
    class Meta:
        node = Branch


class CostQuery(graphene.ObjectType):
    branches = graphene.relay.ConnectionField(BranchConnection)
    leaf = graphene.Field(Leaf)


COST_SCHEMA = graphene.Schema(query=CostQuery).graphql_schema


def cost_of(query, variables=None, maximum=0):
    """The cost reported by the limits rule when the maximum is 0 (so it always reports)."""
    from django.test import override_settings

    with override_settings(GRAPHQL_MAX_COST=maximum, GRAPHQL_MAX_DEPTH=100):
        errors = validate(COST_SCHEMA, parse(query), [query_limits_rule(variables)])
    return errors[0].extensions["actual"] if errors else None


def test_cost_multiplies_nested_page_sizes_with_default_50():
    assert cost_of("{ branches(first: 10) { edges { node { leaves(first: 20) { edges { node { name } } } } } } }") \
        == (10 + C) + 10 * (20 + C)
    assert cost_of("{ branches { edges { node { leaves { edges { node { name } } } } } } }") == (50 + C) + 50 * (50 + C)
    assert cost_of("{ leaf { name } }", maximum=-1) == 0


def test_cost_reads_variables_defaults_last_and_fragments():
    query = """query Q($n: Int = 7, $m: Int) { a: branches(first: $n) { ...B } b: branches(last: $m) { ...B } }
               fragment B on BranchConnection { edges { node { leaves(first: 3) { edges { node { name } } } } } }"""
    assert cost_of(query, {"m": 2}) == (7 + C + 7 * (3 + C)) + (2 + C + 2 * (3 + C))
    assert cost_of(query, {"n": 100, "m": None}) == (100 + C + 100 * (3 + C)) + (50 + C + 50 * (3 + C))


def test_fragment_fan_out_is_measured_quickly():
    # 30 levels of fragments each spreading the next twice: 2**30 leaves if expanded naively.
    fragments = "".join(f"fragment F{i} on CostQuery {{ ...F{i + 1} ...F{i + 1} }}\n" for i in range(30))
    query = "{ ...F0 }\n" + fragments + "fragment F30 on CostQuery { branches(first: 1) { edges { cursor } } }"
    assert cost_of(query) == 2 ** 30 * (1 + C)


def test_query_over_the_cost_limit_is_refused(gql, region_world, settings):
    settings.GRAPHQL_MAX_COST = 149 + 2 * C
    gql.login(region_world["users"]["staff_a"])
    # two connections: 100 + the default page size 50 = 150, and each connection's own cost
    body = gql.execute("{ a: jurisdictions(first: 100) { totalCount } b: jurisdictions { totalCount } }",
                       status=400)
    assert body["errors"][0]["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "cost", "maximum": 149 + 2 * C,
                                               "actual": 150 + 2 * C}
    settings.GRAPHQL_MAX_COST = 150 + 2 * C
    assert "errors" not in gql.execute("{ a: jurisdictions(first: 100) { totalCount } b: jurisdictions "
                                       "{ totalCount } }")


def test_page_size_from_variables_counts_against_the_cost(gql, region_world, settings):
    settings.GRAPHQL_MAX_COST = 99 + C
    gql.login(region_world["users"]["staff_a"])
    assert codes(gql.execute(JURISDICTIONS, {"first": 100}, status=400)) == ["LIMIT_EXCEEDED"]
    assert "errors" not in gql.execute(JURISDICTIONS, {"first": 99})


# --- batching --------------------------------------------------------------------------------------------


def test_batch_within_the_limit_answers_each_operation(gql, region_world, settings):
    settings.GRAPHQL_MAX_BATCH = 2
    gql.client.force_login(region_world["users"]["staff_a"])
    response = post(gql.client, [{"query": JURISDICTIONS, "variables": {"first": 1}, "id": "one"},
                                 {"query": "{ jurisdiction(code: \"330100\") { nameEn } }", "id": "two"}])
    assert response.status_code == 200
    first, second = response.json()
    assert first["id"] == "one" and len(first["data"]["jurisdictions"]["edges"]) == 1
    assert second["id"] == "two" and second["data"]["jurisdiction"]["nameEn"] == "Hangzhou"


def test_batch_over_the_limit_is_refused(gql, region_world, settings):
    settings.GRAPHQL_MAX_BATCH = 2
    gql.client.force_login(region_world["users"]["staff_a"])
    response = post(gql.client, [{"query": JURISDICTIONS}] * 3)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "batch",
                                                          "maximum": 2, "actual": 3}


def test_empty_batch_and_non_object_bodies_are_bad_requests(client, db):
    for body in ([], [1, 2], "3", "not json {"):
        response = post(client, body if isinstance(body, str) else json.dumps(body))
        assert response.status_code == 400, body
        assert codes(response.json()) == ["BAD_REQUEST"]


# --- introspection ---------------------------------------------------------------------------------------


def test_introspection_is_refused_when_disabled(gql, region_world, settings):
    settings.GRAPHQL_INTROSPECTION = False
    gql.login(region_world["users"]["staff_a"])
    body = gql.execute("{ __schema { queryType { name } } }", status=400)
    assert codes(body) == ["INTROSPECTION_DISABLED"]
    body = gql.execute('{ __type(name: "Jurisdiction") { name } }', status=400)
    assert codes(body) == ["INTROSPECTION_DISABLED"]
    assert gql.execute("{ __typename }")["data"] == {"__typename": "Query"}


def test_introspection_works_when_enabled(gql, region_world, settings):
    settings.GRAPHQL_INTROSPECTION = True
    gql.login(region_world["users"]["staff_a"])
    assert gql.execute("{ __schema { queryType { name } } }")["data"]["__schema"]["queryType"]["name"] == "Query"


# --- body size -------------------------------------------------------------------------------------------


def test_body_larger_than_the_maximum_is_refused_with_413(client, db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post(client, {"query": "{ __typename }", "variables": {"pad": "x" * 2000}})
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert response.json()["errors"][0]["extensions"]["limit"] == "body_size"
    assert post(client, {"query": "{ __typename }"}).status_code == 200


# --- rate limit ------------------------------------------------------------------------------------------


def test_rate_parsing():
    assert parse_rate("600/m") == (600, 60)
    assert parse_rate("10/5s") == (10, 5)
    assert parse_rate("1000/hour") == (1000, 3600)
    with pytest.raises(ValueError):
        parse_rate("lots")


def test_rate_window_slides(settings):
    settings.GRAPHQL_TOKEN_RATE = "2/m"
    assert charge("test:1", now=60.0) is None
    assert charge("test:1", now=61.0) is None
    assert charge("test:1", now=90.0) == 30  # over within its own window: wait for the next one
    assert charge("test:1", now=179.0) is None  # the previous window has (almost) slid out


def test_a_burst_at_a_window_boundary_does_not_pass_twice_the_rate(settings):
    settings.GRAPHQL_TOKEN_RATE = "10/m"
    for second in range(110, 120):
        assert charge("test:2", now=float(second)) is None
    wait = charge("test:2", now=121.0)  # a fixed window would allow ten more here
    assert wait is not None and 1 <= wait <= 60


def test_another_door_counts_with_its_own_key_and_rate():
    assert charge("verify:ip:10.0.0.1", now=60.0, rate="1/m") is None
    assert charge("verify:ip:10.0.0.1", now=61.0, rate="1/m") == 59
    assert charge("verify:ip:10.0.0.2", now=61.0, rate="1/m") is None


def test_token_over_its_rate_gets_429_with_retry_after(gql, region_world, settings):
    settings.GRAPHQL_TOKEN_RATE = "3/m"
    bureau = region_world["users"]["bureau_a"]
    _token, key = _token_for(bureau, region_world["city_a"])
    gql.token(key)
    for _ in range(3):
        assert "errors" not in gql.execute(JURISDICTIONS)
    response = post(gql.client, {"query": JURISDICTIONS}, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["extensions"]["retryAfter"] >= 1
    # Keyed by caller: the same person through a session, and another token, are counted separately.
    gql.login(bureau)
    assert "errors" not in gql.execute(JURISDICTIONS)
    _other, other_key = _token_for(bureau, region_world["city_a"])
    assert "errors" not in gql.token(other_key).execute(JURISDICTIONS)


def test_batch_operations_each_count_against_the_rate(gql, region_world, settings):
    settings.GRAPHQL_TOKEN_RATE = "3/m"
    gql.client.force_login(region_world["users"]["staff_a"])
    assert post(gql.client, [{"query": "{ __typename }"}] * 3).status_code == 200
    assert post(gql.client, {"query": "{ __typename }"}).status_code == 429


def _token_for(user, jurisdiction):
    from django.db import transaction

    with transaction.atomic():
        return create_token(user, jurisdiction, name="city system", can_write=True)


# --- errors ----------------------------------------------------------------------------------------------


def test_unexpected_query_error_is_opaque_and_logged_with_the_request_id(gql, region_world, monkeypatch, caplog):
    def broken(user):
        raise RuntimeError("password=hunter2 in the connection string")

    monkeypatch.setattr("regions.selectors.jurisdictions_for", broken)
    gql.login(region_world["users"]["staff_a"])
    with caplog.at_level(logging.ERROR, logger="exchange.graphql"):
        response = post(gql.client, {"query": JURISDICTIONS})
    assert response.status_code == 200
    body = response.json()
    assert "hunter2" not in response.content.decode()
    error = body["errors"][0]
    request_id = response["X-Request-Id"]
    assert error["extensions"] == {"code": "INTERNAL", "requestId": request_id}
    assert request_id in error["message"] and error["path"] == ["jurisdictions"]
    assert body["data"] == {"jurisdictions": None}
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged and "hunter2" in str(logged[0].exc_info[1])


def test_client_request_id_is_echoed_and_garbage_replaced(client, db):
    response = post(client, {"query": "{ __typename }"}, HTTP_X_REQUEST_ID="city-sys-42")
    assert response["X-Request-Id"] == "city-sys-42"
    response = post(client, {"query": "{ __typename }"}, HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert response["X-Request-Id"] != "bad id\nwith newline" and len(response["X-Request-Id"]) == 32


def test_unexpected_mutation_error_is_opaque(gql, region_world, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr("regions.services.tokens.create_token", broken)
    gql.login(region_world["users"]["bureau_a"])
    body = gql.execute('mutation { createApiToken(input: {jurisdictionCode: "310000", name: "x"}) '
                       "{ key errors { field code message } } }")
    errors = body["data"]["createApiToken"]["errors"]
    assert [e["code"] for e in errors] == ["INTERNAL"]
    assert "secret" not in json.dumps(body) and "request id" in errors[0]["message"]
    assert not ApiToken.objects.exists()


def test_domain_error_in_a_mutation_is_typed_and_changes_nothing(gql, region_world):
    gql.login(region_world["users"]["bureau_a"])
    body = gql.execute('mutation { createApiToken(input: {jurisdictionCode: "330100", name: "x"}) '
                       "{ key errors { field code message } } }")
    assert body["data"]["createApiToken"]["errors"][0]["code"] == "PERMISSION_DENIED"
    assert body["data"]["createApiToken"]["key"] is None
    assert not ApiToken.objects.exists()


def test_every_error_has_a_code(gql, region_world):
    gql.login(region_world["users"]["staff_a"])
    assert codes(gql.execute("{ jurisdictions { ", status=400)) == ["INVALID_QUERY"]
    assert codes(gql.execute("{ nosuchfield }", status=400)) == ["INVALID_QUERY"]
    assert codes(gql.execute('{ node(id: "not-base64!") { id } }')) == ["NOT_FOUND"]
    assert codes(gql.execute('{ jurisdiction(code: "999999") { code } }')) == ["NOT_FOUND"]
    response = gql.client.get("/graphql/", {"query": 'mutation { revokeApiToken(input: {tokenId: "1"}) { errors '
                                                     "{ code } } }"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 405 and codes(response.json()) == ["METHOD_NOT_ALLOWED"]


def test_unknown_token_is_401_with_code(client, db):
    response = post(client, {"query": "{ __typename }"}, HTTP_AUTHORIZATION="Bearer gwc_nope")
    assert response.status_code == 401 and codes(response.json()) == ["NOT_AUTHENTICATED"]


# --- CSRF for browser sessions ---------------------------------------------------------------------------


def test_session_post_needs_the_csrf_token_but_api_tokens_do_not(region_world):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(region_world["users"]["staff_a"])
    response = post(browser, {"query": JURISDICTIONS})
    assert response.status_code == 403 and codes(response.json()) == ["CSRF_FAILED"]
    browser.get("/graphql/", HTTP_ACCEPT="text/html")  # GraphiQL page sets the csrftoken cookie
    token = browser.cookies["csrftoken"].value
    assert "errors" not in post(browser, {"query": JURISDICTIONS}, HTTP_X_CSRFTOKEN=token).json()

    _token, key = _token_for(region_world["users"]["bureau_a"], region_world["city_a"])
    system = Client(enforce_csrf_checks=True)
    assert "errors" not in post(system, {"query": JURISDICTIONS}, HTTP_AUTHORIZATION=f"Bearer {key}").json()


def test_rate_limits_live_in_a_shared_cache():
    """Redis when a Redis URL is configured; the database cache in production; memory in development."""
    import json
    import os
    import subprocess
    import sys

    from django.conf import settings

    code = ("import django, json; django.setup(); from django.conf import settings as s; "
            "print(json.dumps(s.CACHES['ratelimit']['BACKEND']))")

    def backend(**env):
        clean = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "CACHE_URL")}
        out = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, capture_output=True, text=True,
                             check=True, env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env})
        return json.loads(out.stdout.strip().splitlines()[-1])

    assert backend(CELERY_BROKER_URL="redis://127.0.0.1:6390/0").endswith("RedisCache")
    assert backend(DJANGO_ENV="production", SECRET_KEY="x" * 50, ALLOWED_HOSTS="gwc.example").endswith(
        "DatabaseCache")
    assert backend().endswith("LocMemCache")
