"""Keyset cursors: opaque, tagged with their connection and order, stable while rows are added before them;
`totalCount` is counted only when selected; there is no `offset`."""
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from exchange.models import ApprovalStep, Transfer
from tests import factories_exchange as fx
from tests.factories import gid
from tests.test_exchange_services import request

TRANSFERS = """query($first: Int, $after: String, $last: Int, $before: String) {
  transfers(first: $first, after: $after, last: $last, before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } } }"""
STEPS = """query($first: Int, $after: String, $orderBy: ApprovalStepOrder) {
  approvalSteps(first: $first, after: $after, orderBy: $orderBy) {
    pageInfo { hasNextPage endCursor } edges { node { id } } } }"""
LISTINGS = """query($first: Int, $after: String, $near: Geometry) {
  listings(first: $first, after: $after, near: $near) { pageInfo { hasNextPage endCursor } edges { node { id } } } }"""


@pytest.fixture
def world(region_world):
    region_world["standards"] = fx.standard_set(region_world["region"], own_window_days=0)
    for i in range(6):
        request(region_world, fx.open_listing(region_world, description=f"台式机 {i}"))
    return region_world


def page(gql, query, name, **variables):
    result = gql.execute(query, variables)
    assert "errors" not in result, result
    return result["data"][name]


def ids(connection_page):
    return [e["node"]["id"] for e in connection_page["edges"]]


def walk(gql, query, name, size, **variables):
    seen, after = [], None
    while True:
        current = page(gql, query, name, first=size, after=after, **variables)
        seen += ids(current)
        if not current["pageInfo"]["hasNextPage"]:
            return seen
        after = current["pageInfo"]["endCursor"]


def test_rows_added_before_the_cursor_do_not_shift_the_next_page(gql, world):
    gql.login(world["users"]["coordinator"])
    everything = ids(page(gql, TRANSFERS, "transfers", first=50))
    assert everything == [gid(t) for t in Transfer.objects.order_by("-allocated_at", "-id")]
    first = page(gql, TRANSFERS, "transfers", first=2)
    assert ids(first) == everything[:2] and first["pageInfo"]["hasNextPage"]
    for i in range(3):  # newer transfers sort first, i.e. before the cursor
        request(world, fx.open_listing(world, description=f"新 {i}"))
    second = page(gql, TRANSFERS, "transfers", first=2, after=first["pageInfo"]["endCursor"])
    assert ids(second) == everything[2:4] and second["pageInfo"]["hasPreviousPage"]
    back = page(gql, TRANSFERS, "transfers", last=2, before=second["pageInfo"]["startCursor"])
    assert ids(back) == everything[:2] and back["pageInfo"]["hasPreviousPage"]  # the three new ones


def test_walking_pages_with_ties_visits_every_row_once_in_order(gql, world):
    now = timezone.now()
    ApprovalStep.objects.update(opened_at=now, yellow_at=now + timedelta(days=1), due_at=now + timedelta(days=2))
    gql.login(world["users"]["coordinator"])
    for order in ("LIGHT", "DUE_AT", "OPENED_AT_DESC"):
        everything = ids(page(gql, STEPS, "approvalSteps", first=100, orderBy=order))
        assert len(everything) == ApprovalStep.objects.count() >= 12
        assert walk(gql, STEPS, "approvalSteps", 5, orderBy=order) == everything, order


def test_nearest_first_pages_follow_the_distance_order(gql, world):
    for i in range(4):
        fx.open_listing(world, description=f"书柜 {i}")
    gql.login(world["users"]["staff_b"])
    near = {"type": "Point", "coordinates": [121.0, 31.0]}
    everything = ids(page(gql, LISTINGS, "listings", first=100, near=near))
    # the 4 open listings and the 6 the world's requests of agency B were allocated (a requester sees those)
    assert len(everything) == 10 and walk(gql, LISTINGS, "listings", 1, near=near) == everything


@pytest.mark.parametrize("foreign", ["listings", "other order", "other point", "tampered", "offset style"])
def test_a_cursor_of_another_list_order_or_point_is_invalid_cursor(gql, world, foreign):
    fx.open_listing(world, description="书柜")
    gql.login(world["users"]["coordinator"])
    near = {"type": "Point", "coordinates": [121.0, 31.0]}
    cursors = {
        "listings": page(gql, LISTINGS, "listings", first=1, near=near)["pageInfo"]["endCursor"],
        "other order": page(gql, STEPS, "approvalSteps", first=1, orderBy="DUE_AT")["pageInfo"]["endCursor"],
        "tampered": page(gql, TRANSFERS, "transfers", first=1)["pageInfo"]["endCursor"][:-3] + "abc",
        "offset style": "YXJyYXljb25uZWN0aW9uOjE=",
    }
    if foreign == "other point":
        cursor = page(gql, LISTINGS, "listings", first=1, near=near)["pageInfo"]["endCursor"]
        result = gql.execute(LISTINGS, {"first": 1, "after": cursor,
                                        "near": {"type": "Point", "coordinates": [120.0, 30.0]}})
    elif foreign == "other order":
        result = gql.execute(STEPS, {"first": 1, "after": cursors[foreign], "orderBy": "LIGHT"})
    else:
        result = gql.execute(TRANSFERS, {"first": 1, "after": cursors[foreign]})
    error, = result["errors"]
    assert error["extensions"] == {"code": "INVALID_CURSOR", "field": "after"}


def test_no_offset_argument(gql, world):
    gql.login(world["users"]["coordinator"])
    result = gql.execute("{ transfers(offset: 2) { edges { node { id } } } }", status=400)
    assert result["errors"][0]["extensions"]["code"] == "INVALID_QUERY"


def test_total_count_is_counted_only_when_selected(gql, world):
    gql.login(world["users"]["coordinator"])

    def sql_of(query):
        with CaptureQueriesContext(connection) as queries:
            result = gql.execute(query)
        assert "errors" not in result, result
        return [q["sql"] for q in queries.captured_queries if "exchange_transfer" in q["sql"]], result

    without, _ = sql_of("{ transfers(first: 2) { edges { node { id } } } }")
    with_count, result = sql_of("{ transfers(first: 2) { totalCount edges { node { id } } } }")
    assert not any("COUNT(" in q.upper() for q in without)
    assert sum("COUNT(" in q.upper() for q in with_count) == 1
    assert result["data"]["transfers"]["totalCount"] == Transfer.objects.count() == 6


def test_total_count_is_exact_up_to_the_cap_and_an_estimate_above(gql, world, monkeypatch):
    from api import connection as paging

    gql.login(world["users"]["coordinator"])
    query = "{ transfers(first: 1) { totalCount } }"
    monkeypatch.setattr(paging, "TOTAL_COUNT_EXACT", 6)
    assert page(gql, query, "transfers")["totalCount"] == 6
    monkeypatch.setattr(paging, "TOTAL_COUNT_EXACT", 2)
    with CaptureQueriesContext(connection) as queries:
        counted = page(gql, query, "transfers")["totalCount"]
    assert counted >= 3  # "more than 2": never a figure below the cap + 1
    if connection.vendor == "postgresql":
        assert any(q["sql"].upper().startswith("EXPLAIN") for q in queries.captured_queries)
    else:
        assert counted == 3
    counting = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counting) == 1 and "LIMIT 3" in counting[0].upper()


@pytest.mark.parametrize("pad", [20, 1])
def test_nearest_first_pages_are_exact_with_ties_whichever_way_they_are_read(gql, world, monkeypatch, pad):
    """On PostGIS a KNN page is read in `<->` order and ordered by (distance, pk) in Python; with ties past
    the pad it falls back to the full order. Either way every listing comes once, nearest first, ties by pk."""
    from api import connection as paging
    from exchange.models import Listing

    monkeypatch.setattr(paging, "KNN_TIE_PAD", pad)
    for i in range(4):
        fx.open_listing(world, description=f"同址 {i}")  # same agency point: distance ties
    gql.login(world["users"]["coordinator"])
    near = {"type": "Point", "coordinates": [121.0, 31.0]}
    seen, after = [], None
    while True:
        result = page(gql, LISTINGS, "listings", first=2, after=after, near=near)
        seen += ids(result)
        if not result["pageInfo"]["hasNextPage"]:
            break
        after = result["pageInfo"]["endCursor"]
    listings = {gid(x): x for x in Listing.objects.all()}
    assert len(seen) == len(set(seen)) == len(listings)
    from django.contrib.gis.geos import Point

    from kernel.geo import geodesic_m

    point = Point(121.0, 31.0, srid=4326)
    expected = sorted(listings, key=lambda g: (round(geodesic_m(point, listings[g].location)), listings[g].pk))
    assert [round(geodesic_m(point, listings[g].location)) for g in seen] == \
        [round(geodesic_m(point, listings[g].location)) for g in expected]
    tied = [g for g in seen if listings[g].location == listings[seen[0]].location]
    assert tied == sorted(tied, key=lambda g: listings[g].pk)
