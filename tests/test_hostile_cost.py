"""Cost and time: aliases of cheap-looking lists, plain lists and full-resolution geometry are refused
before execution; a query that runs too long ends with a typed `limit_exceeded` (time) on both databases."""
import json
import time

import pytest
from django.db import connection
from graphql_relay import to_global_id

from api.limits import CONNECTION_COST, FIELD_COSTS, GEOMETRY_COSTS
from tests import factories_exchange as fx


def post(client, query, variables=None):
    response = client.post("/graphql/", json.dumps({"query": query, "variables": variables or {}}),
                           content_type="application/json")
    return response.status_code, response.json()


@pytest.fixture
def coordinator(client, region_world):
    client.force_login(region_world["users"]["coordinator"])
    return client


def test_a_thousand_aliases_are_refused_before_validation(coordinator):
    query = "{ " + " ".join(f"a{i}: listings(first: 0) {{ totalCount }}" for i in range(1000)) + " }"
    post(coordinator, "{ me { username } }")  # the first request imports the schema: not what is timed
    started = time.monotonic()
    status, body = post(coordinator, query)
    assert status == 400 and time.monotonic() - started < 5
    assert body["errors"][0]["extensions"]["code"].lower() == "limit_exceeded"
    assert body["errors"][0]["extensions"]["limit"] in ("tokens", "fields")
    query = "{ " + " ".join(f"a{i}: listings(first: 0) {{ totalCount }}" for i in range(600)) + " }"
    status, body = post(coordinator, query)
    assert status == 400 and body["errors"][0]["extensions"] == {
        "code": "LIMIT_EXCEEDED", "limit": "fields", "maximum": 500, "actual": 1200}


def test_first_zero_still_costs_its_queries(coordinator, settings):
    settings.GRAPHQL_MAX_COST = 200 * CONNECTION_COST - 1
    query = "{ " + " ".join(f"a{i}: listings(first: 0) {{ totalCount }}" for i in range(200)) + " }"
    status, body = post(coordinator, query)
    assert status == 400
    assert body["errors"][0]["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "cost",
                                               "maximum": 200 * CONNECTION_COST - 1, "actual": 200 * CONNECTION_COST}


def test_aliases_of_a_plain_list_are_refused(coordinator):
    query = "{ " + " ".join(f"a{i}: jurisdictionsWithin(lon: 121, lat: 31, km: 5000) {{ km }}"
                            for i in range(100)) + " }"
    status, body = post(coordinator, query)
    assert status == 400 and body["errors"][0]["extensions"]["limit"] == "cost"
    assert body["errors"][0]["extensions"]["actual"] == 100 * FIELD_COSTS["Query.jurisdictionsWithin"]


def test_full_resolution_boundaries_cost_their_size(coordinator, settings):
    full = "{ " + " ".join(f'a{i}: jurisdiction(code: "310000") {{ boundary(simplify: 0) }}' for i in range(10)) + " }"
    status, body = post(coordinator, full)
    assert status == 400 and body["errors"][0]["extensions"]["actual"] == 10 * GEOMETRY_COSTS["boundary"]
    simplified = full.replace("(simplify: 0)", "")
    status, body = post(coordinator, simplified)
    assert status == 200 and "errors" not in body, body


def outer_ring(geojson):
    return geojson["coordinates"][0][0] if geojson["type"] == "MultiPolygon" else geojson["coordinates"][0]


def test_boundary_is_simplified_and_rounded_by_default(coordinator, region_world):
    from django.contrib.gis.geos import MultiPolygon, Polygon

    city = region_world["city_a"]
    ring = [(121.0 + 0.4 * i / 400, 31.0 + 1e-7 * (i % 2)) for i in range(401)] + [(121.4, 31.4), (121.0, 31.4),
                                                                                   (121.0, 31.0)]
    city.boundary = MultiPolygon(Polygon(ring), srid=4326)
    city.save()
    query = '{ jurisdiction(code: "310000") { boundary full: boundary(simplify: 0, precision: 8) } }'
    _, body = post(coordinator, query)
    shaped, full = (outer_ring(body["data"]["jurisdiction"][k]) for k in ("boundary", "full"))
    assert len(shaped) < 10 < len(full)
    assert all(len(str(x).split(".")[-1]) <= 5 for x, _y in shaped)
    for args in ("simplify: -1", "simplify: 5", "precision: 12"):
        _, body = post(coordinator, f'{{ jurisdiction(code: "310000") {{ boundary({args}) }} }}')
        assert body["errors"][0]["extensions"]["code"].lower() == "invalid", body


SLOW_SQL = {"sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) "
                      "SELECT count(*) FROM c",
            "postgresql": "SELECT pg_sleep(30)"}


@pytest.mark.django_db(transaction=True)  # as in production: a query runs outside any transaction
def test_a_runaway_query_ends_with_a_typed_time_limit(coordinator, region_world, settings, monkeypatch):
    from regions import selectors

    def slow(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute(SLOW_SQL[connection.vendor])
        return []

    monkeypatch.setattr(selectors, "jurisdictions_within", slow)
    settings.GRAPHQL_TIME_BUDGET = 0.5
    started = time.monotonic()
    status, body = post(coordinator, "{ jurisdictionsWithin(lon: 121, lat: 31, km: 10) { km } }")
    assert time.monotonic() - started < 5
    assert status == 200
    assert body["errors"][0]["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "time", "maximum": 0.5}
    # the connection is usable again, without the budget
    settings.GRAPHQL_TIME_BUDGET = 10
    status, body = post(coordinator, '{ jurisdiction(code: "310000") { code } }')
    assert body == {"data": {"jurisdiction": {"code": "310000"}}}


def test_a_runaway_mutation_ends_with_a_typed_time_limit(client, region_world, settings, monkeypatch):
    from exchange.services import items

    fx.standard_set(region_world["region"], own_window_days=0)
    listing = fx.open_listing(region_world)
    original = items.withdraw_listing

    def slow(*args, **kwargs):
        original(*args, **kwargs)
        with connection.cursor() as cursor:
            cursor.execute(SLOW_SQL[connection.vendor])

    monkeypatch.setattr(items, "withdraw_listing", slow)
    settings.GRAPHQL_TIME_BUDGET = 0.5
    client.force_login(region_world["users"]["staff_a"])
    _, body = post(client, """mutation($input: WithdrawListingInput!) { withdrawListing(input: $input) {
        errors { code } } }""", {"input": {"listingId": to_global_id("Listing", listing.pk), "reason": "测试"}})
    assert body["data"]["withdrawListing"], body
    assert body["data"]["withdrawListing"]["errors"] == [{"code": "LIMIT_EXCEEDED"}], body
    listing.refresh_from_db()
    assert listing.status == "open"  # rolled back


def test_a_cached_document_is_judged_again_for_each_page_size(coordinator, settings):
    """Documents are parsed and validated once per process (api.documents), but the cost depends on the
    variables: the same document passes with a small page and is refused with a large one, in any order."""
    settings.GRAPHQL_MAX_COST = 60
    query = ("query Page($first: Int) { a: listings(first: $first) { totalCount } "
             "b: listings(first: $first) { totalCount } }")
    for first, allowed in ((5, True), (40, False), (5, True), (40, False)):
        status, body = post(coordinator, query, {"first": first})
        assert (status == 200 and "errors" not in body) is allowed, body
        if not allowed:
            assert body["errors"][0]["extensions"]["limit"] == "cost"
    settings.GRAPHQL_MAX_COST = 10_000  # a setting changed at run time applies to cached documents too
    status, body = post(coordinator, query, {"first": 40})
    assert status == 200 and "errors" not in body, body
