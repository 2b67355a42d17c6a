"""Nearest-first listings from the compiled statement (exchange.selectors.nearest_listings) are the listings
`listings_for(user, near=point)` gives, in the same order, for every role; the statement is compiled once per
scope and runs as one query; what changes in the data is seen at once."""
import math
import random
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.db import connection

from exchange import selectors
from exchange.models import Listing
from exchange.services import items
from kernel import prepared
from kernel.geo import geodesic_m
from tests import factories_exchange as fx
from tests.conftest import count_queries
from tests.factories import pk_of

ROLES = ["coordinator", "auditor", "bureau_a", "bureau_b", "staff_a", "staff_b"]


@pytest.fixture
def spread(region_world):
    """Listings of both cities at seeded points: city A's in their own-jurisdiction window (seen in city A
    only), city B's past it (seen region-wide), and one withdrawn."""
    fx.standard_set(region_world["region"], own_window_days=5)
    rng = random.Random(7)
    made = []
    for i in range(24):
        city = "a" if i % 2 else "b"
        point = Point(120.0 + rng.random() * 1.6, 30.0 + rng.random() * 1.4, srid=4326)
        item = fx.asset(region_world[f"agency_{city}"], location=point)
        made.append(items.mark_idle(region_world["users"][f"staff_{city}"], asset=item))
    Listing.objects.filter(agency=region_world["agency_b"]).update(
        own_window_ends_at=Listing.objects.get(pk=made[0].pk).opened_at)
    made[3].status = Listing.Status.WITHDRAWN
    made[3].save(update_fields=["status"])
    return region_world


@pytest.fixture
def with_office(spread):
    """`spread` and an office space of city A listed amid its assets."""
    staff = spread["users"]["staff_a"]
    space = items.register_office_space(staff, agency=spread["agency_a"], building="东楼", floor="5F", rooms="501",
                                        area_m2=Decimal("86.00"), available_from=date(2026, 1, 1),
                                        location=Point(120.8, 30.7, srid=4326), location_override_reason="测试")
    spread["office_listing"] = items.mark_idle(staff, office_space=space)
    return spread


def mercator_distance(a, b):
    """The distance PostGIS's `<->` between ST_Transform(·, 3857) points measures (spherical Mercator)."""
    def project(p):
        return 6378137 * math.radians(p.x), 6378137 * math.log(math.tan(math.pi / 4 + math.radians(p.y) / 2))
    (ax, ay), (bx, by) = project(a), project(b)
    return math.hypot(ax - bx, ay - by)


def points():
    rng = random.Random(11)
    return [Point(119.8 + rng.random() * 2, 29.8 + rng.random() * 1.8, srid=4326) for _ in range(4)]


@pytest.mark.parametrize("role", ROLES)
def test_the_same_listings_in_the_same_order_as_listings_for(spread, role):
    user = spread["users"][role]
    for point in points():
        expected = list(selectors.listings_for(user, near=point)[:7])
        found = selectors.nearest_listings(user, point, limit=7)
        assert [x.pk for x in found] == [x.pk for x in expected]
        assert [x.agency.name_zh for x in found] == [x.agency.name_zh for x in expected]
        assert [x.asset.asset_class.code for x in found] == [x.asset.asset_class.code for x in expected]
        assert [x.jurisdiction.code for x in found] == [x.jurisdiction.code for x in expected]
        for x in found:
            assert x.search_km == pytest.approx(geodesic_m(point, x.location) / 1000, abs=1e-9)


def test_scopes_see_their_own_listings(spread):
    point = points()[0]
    seen = {role: {x.agency_id for x in selectors.nearest_listings(spread["users"][role], point, limit=30)}
            for role in ("staff_a", "staff_b")}
    assert seen["staff_a"] == {spread["agency_a"].pk, spread["agency_b"].pk}  # B's are past their own window
    assert seen["staff_b"] == {spread["agency_b"].pk}  # A's are still in theirs


def test_filters_apply(spread):
    point = points()[1]
    user = spread["users"]["coordinator"]
    found = selectors.nearest_listings(user, point, limit=30, status=Listing.Status.OPEN)
    assert found and all(x.status == Listing.Status.OPEN for x in found)
    assert len(found) == Listing.objects.filter(status=Listing.Status.OPEN).count()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the compiled statement is PostGIS-only")
def test_compiled_once_per_scope_one_query_each_and_data_changes_seen(spread, django_assert_num_queries):
    prepared._statements.clear()
    user = spread["users"]["coordinator"]
    first, second = points()[:2]
    selectors.nearest_listings(user, first, limit=5)
    assert len(prepared._statements) == 1
    with django_assert_num_queries(1):
        found = selectors.nearest_listings(user, second, limit=5)
    Listing.objects.filter(pk=found[0].pk).update(status=Listing.Status.WITHDRAWN)
    again = selectors.nearest_listings(user, second, limit=5, status=Listing.Status.OPEN)
    assert found[0].pk not in {x.pk for x in again}
    selectors.nearest_listings(spread["users"]["staff_b"], first, limit=5)
    assert len(prepared._statements) == 3  # another filter, another scope


def test_the_graphql_search_pages_through_the_compiled_statement(spread, gql):
    """SearchNearbyListings' first page (read from the compiled statement on PostGIS) and the pages after it
    are the listings_for order, whatever the point; a distance limit, which the point shapes, still works."""
    prepared._statements.clear()
    user = spread["users"]["coordinator"]
    gql.login(user)
    for point in points()[:2]:
        near = {"type": "Point", "coordinates": [point.x, point.y]}
        shown, after = [], None
        while True:
            data = gql.operation("SearchNearbyListings", {"near": near, "first": 5, "after": after})
            assert "errors" not in data, data
            connection_ = data["data"]["listings"]
            shown += [pk_of(edge["node"]["id"]) for edge in connection_["edges"]]
            if not connection_["pageInfo"]["hasNextPage"]:
                break
            after = connection_["pageInfo"]["endCursor"]
        # the connection's order: distance (on PostGIS `<->` in Web Mercator, on its index), then pk
        found = selectors.listings_for(user, near=point).filter(status=Listing.Status.OPEN)
        expected = (sorted(found, key=lambda x: (mercator_distance(x.location, point), x.pk))
                    if connection.vendor == "postgresql" else list(found.order_by("distance_m", "pk")))
        assert shown == [x.pk for x in expected]
        limited = gql.operation("SearchNearbyListings", {"near": near, "first": 50, "withinKm": 40})
        assert {pk_of(e["node"]["id"]) for e in limited["data"]["listings"]["edges"]} == {
            x.pk for x in expected if x.search_km <= 40}
    if connection.vendor == "postgresql":
        pages = {key[1][3]: found for key, found in prepared._statements.items() if key[0] == "page"}
        assert all(found is not None for args, found in pages.items() if "within_km" not in args)
        # the distance limit (a prefilter in degrees that the point shapes): not preparable, read the usual way
        assert [found for args, found in pages.items() if "within_km" in args] == [None]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="estimates are PostgreSQL's planner's")
def test_a_huge_searchs_estimate_is_reused_from_any_point(spread, gql, monkeypatch):
    """Above ESTIMATE_TRUSTED the planner's estimate answers totalCount; the same search from another point
    reuses it (its count does not depend on the point), a search with a distance limit does not."""
    from api import connection as paging

    asked = []

    def planner_rows(queryset):  # the planner, as on a table of a million listings
        asked.append(str(queryset.query))
        return 10**6

    monkeypatch.setattr(paging, "table_rows", lambda model, db: 10**7)
    monkeypatch.setattr(paging, "planner_rows", planner_rows)
    paging._estimates.clear()
    gql.login(spread["users"]["coordinator"])

    def estimates(variables):
        before = len(asked)
        data = gql.operation("SearchNearbyListings", variables)
        assert "errors" not in data and data["data"]["listings"]["totalCount"] == 10**6, data
        return len(asked) - before

    near = [{"type": "Point", "coordinates": [p.x, p.y]} for p in points()[:3]]
    assert estimates({"near": near[0], "first": 5}) == 1
    assert estimates({"near": near[1], "first": 5}) == 0
    assert estimates({"near": near[2], "first": 5, "withinKm": 500}) == 1
    assert estimates({"near": near[1], "first": 5, "withinKm": 500}) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statements are compiled on PostgreSQL only")
def test_a_known_search_from_another_point_is_read_without_building_it(spread, gql, monkeypatch):
    """Once a search's first page compiled, the same search from another point runs the statement without
    building its queryset (no listings_for), and answers what the usual path answers: the same edges,
    cursors that page on, and an exact totalCount (the queryset is built then, for the count alone)."""
    prepared._statements.clear()
    user = spread["users"]["coordinator"]
    gql.login(user)
    first, second = ({"type": "Point", "coordinates": [p.x, p.y]} for p in points()[:2])
    assert "errors" not in gql.operation("SearchNearbyListings", {"near": first, "first": 5})
    built = []
    original = selectors.listings_for
    monkeypatch.setattr(selectors, "listings_for", lambda *a, **k: built.append(k) or original(*a, **k))
    without_count = gql.execute(
        "query ($near: Geometry) { listings(near: $near, status: OPEN, first: 5) { edges { node { id } } } }",
        {"near": second})
    assert "errors" not in without_count and built == [], without_count
    data = gql.operation("SearchNearbyListings", {"near": second, "first": 5})
    assert "errors" not in data, data
    page = data["data"]["listings"]
    assert len(built) == 1  # for totalCount only
    assert [e["node"]["id"] for e in page["edges"]] == [
        e["node"]["id"] for e in without_count["data"]["listings"]["edges"]]
    point = Point(*second["coordinates"], srid=4326)
    expected = sorted(original(user, near=point).filter(status=Listing.Status.OPEN),
                      key=lambda x: (mercator_distance(x.location, point), x.pk))
    assert [pk_of(e["node"]["id"]) for e in page["edges"]] == [x.pk for x in expected[:5]]
    assert page["totalCount"] == len(expected)
    following = gql.operation("SearchNearbyListings", {"near": second, "first": 5,
                                                       "after": page["pageInfo"]["endCursor"]})
    assert [pk_of(e["node"]["id"]) for e in following["data"]["listings"]["edges"]] == [
        x.pk for x in expected[5:10]]
    # a cursor from one point does not page another point's search
    other = gql.operation("SearchNearbyListings", {"near": first, "first": 5,
                                                   "after": page["pageInfo"]["endCursor"]})
    assert other["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"
    built.clear()
    gql.login(spread["users"]["staff_a"])  # another scope: another search, built the usual way
    assert "errors" not in gql.operation("SearchNearbyListings", {"near": second, "first": 5})
    assert len(built) >= 1


def test_a_card_reads_what_it_shows_and_the_rest_of_the_page_loads_in_one_query(with_office):
    """Rows carry the card's fields; a field the card does not read is loaded, at its first read, for every
    row of the page in one query (not one per row), with the values a full read gives."""
    user = with_office["users"]["coordinator"]
    point = Point(120.8, 30.7, srid=4326)
    found = selectors.nearest_listings(user, point, limit=20)
    assert len(found) >= 10 and found[0].pk == with_office["office_listing"].pk
    full = {x.pk: x for x in selectors.listings_for(user, near=point)}
    with count_queries() as ctx:
        card = [(x.title, x.quantity_available, x.window_at(), x.location.coords, x.agency.name_zh,
                 x.jurisdiction.code, x.asset.condition if x.asset_id else x.office_space.building,
                 x.asset.original_value if x.asset_id else x.office_space.area_m2) for x in found]
    assert len(ctx) == 0
    assert card == [(f.title, f.quantity_available, f.window_at(), f.location.coords, f.agency.name_zh,
                     f.jurisdiction.code, f.asset.condition if f.asset_id else f.office_space.building,
                     f.asset.original_value if f.asset_id else f.office_space.area_m2)
                    for f in (full[x.pk] for x in found)]
    with count_queries() as ctx:
        rest = [(x.search_text, x.opened_at, x.created_by_id) for x in found]
    assert len(ctx) == 1
    assert rest == [(full[x.pk].search_text, full[x.pk].opened_at, full[x.pk].created_by_id) for x in found]
    with count_queries() as ctx:
        assets = [(x.asset.description, x.asset.location) for x in found if x.asset_id]
        offices = [x.office_space.rooms for x in found if x.office_space_id]
    assert len(ctx) == 2  # one per model, whatever the page's size
    assert assets == [(full[x.pk].asset.description, full[x.pk].asset.location) for x in found if x.asset_id]
    assert offices == ["501"]


def test_an_explicit_refresh_of_a_card_row_reads_that_row(spread):
    found = selectors.nearest_listings(spread["users"]["coordinator"], points()[0], limit=5)
    Listing.objects.filter(pk=found[0].pk).update(quantity_available=0)
    with count_queries() as ctx:
        found[0].refresh_from_db(fields=["quantity_available"])
    assert len(ctx) == 1 and found[0].quantity_available == 0 and found[1].quantity_available == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the compiled statement is PostGIS-only")
def test_the_statements_geometry_is_built_at_its_first_read(spread):
    """The location stays the EWKB PostGIS sent until read; then it is the point a full read gives."""
    user = spread["users"]["coordinator"]
    point = points()[0]
    found = selectors.nearest_listings(user, point, limit=5)
    assert all(isinstance(x.__dict__["location"], str) for x in found)
    expected = {x.pk: x.location for x in selectors.listings_for(user, near=point)}
    assert [(x.location.srid, x.location.coords) for x in found] == [
        (expected[x.pk].srid, expected[x.pk].coords) for x in found]


def test_nearest_first_is_the_order_of_the_km_shown(region_world):
    """At 30° N a degree of longitude is 0.87 of a degree of latitude: a listing 9 km east lies farther in
    degrees than one 10 km north, yet nearer. The search ranks by distance (Web Mercator's `<->` on
    PostGIS, the geodesic on SQLite), so the order is the order of the km shown."""
    fx.standard_set(region_world["region"])
    here = Point(120.5, 30.5, srid=4326)
    per_degree_lon, per_degree_lat = 95.97, 110.86  # km at 30.5° N (WGS84)
    places = {"9 km east": (9 / per_degree_lon, 0), "10 km north": (0, 10 / per_degree_lat),
              "14 km west": (-14 / per_degree_lon, 0), "13 km south": (0, -13 / per_degree_lat)}
    staff = region_world["users"]["staff_a"]
    for name, (dlon, dlat) in places.items():
        item = fx.asset(region_world["agency_a"], location=Point(here.x + dlon, here.y + dlat, srid=4326))
        listing = items.mark_idle(staff, asset=item)
        Listing.objects.filter(pk=listing.pk).update(title=name)
    found = selectors.nearest_listings(region_world["users"]["coordinator"], here, limit=4)
    assert [x.title for x in found] == ["9 km east", "10 km north", "13 km south", "14 km west"]
    km = [x.search_km for x in found]
    assert km == sorted(km) and abs(km[0] - 9) < 0.05 and abs(km[1] - 10) < 0.05


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the index is PostGIS's")
def test_the_nearest_first_order_is_the_indexs_expression(spread):
    """The compiled order is the very expression of the GiST index (migration 0012), so PostgreSQL walks the
    index instead of sorting every listing (the planner is told to avoid a scan where it can)."""
    here = points()[0]
    queryset = selectors.listings_for(spread["users"]["coordinator"], near=here)[:20]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        plan = queryset.explain()
    assert "listing_location_mercator" in plan and "Sort" not in plan, plan


def test_a_nearby_search_asking_more_than_the_card_runs_the_same_queries_at_any_page_size(
        spread, gql, assert_num_queries_constant):
    """A search from a point reads the card's fields; fields beyond them (openedAt, the asset's description)
    come for the whole page in one query per model, with the stored values."""
    gql.login(spread["users"]["coordinator"])
    query = ("query ($near: Geometry, $first: Int) { listings(near: $near, first: $first) { edges { node { "
             "id title openedAt asset { description unit } } } } }")
    near = {"type": "Point", "coordinates": [120.6, 30.6]}
    assert_num_queries_constant(query, lambda n: {"near": near, "first": n}, small=2, large=20)
    edges = gql.execute(query, {"near": near, "first": 20})["data"]["listings"]["edges"]
    stored = {x.pk: x for x in Listing.objects.select_related("asset")}
    assert len(edges) == 20
    for edge in edges:
        listing = stored[pk_of(edge["node"]["id"])]
        assert edge["node"]["openedAt"] == listing.opened_at.isoformat()
        assert edge["node"]["asset"] == {"description": listing.asset.description, "unit": listing.asset.unit}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the compiled statement is PostGIS-only")
def test_postgresql_prepares_the_statement_once_and_runs_it_again(spread):
    """The statement is a server-side prepared statement reused from one search to the next (Django opens
    connections with psycopg's preparing off; kernel.prepared.prepared_cursor turns it on for its cursors)."""
    prepared._statements.clear()
    user = spread["users"]["coordinator"]
    for point in points():
        selectors.nearest_listings(user, point, limit=5)
    (found,) = prepared._statements.values()
    head = found.sql[:found.sql.index("%s")]
    with connection.cursor() as cursor:
        cursor.execute("SELECT generic_plans + custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
                       [head.replace("%", "\\%").replace("_", "\\_") + "%"])
        runs = [n for (n,) in cursor.fetchall()]
    assert runs and max(runs) >= len(points())
    with count_queries() as ctx:  # the query log shows the prepared statement's SQL
        selectors.nearest_listings(user, points()[0], limit=5)
    assert [q["sql"][:len(head)] for q in ctx.captured_queries] == [head]


def test_a_pages_distances_are_computed_together_at_the_first_read_of_one(spread):
    point = points()[2]
    found = selectors.nearest_listings(spread["users"]["coordinator"], point, limit=8)
    assert not any("search_m" in vars(x) for x in found)
    assert found[3].search_km == pytest.approx(geodesic_m(point, found[3].location) / 1000, abs=1e-9)
    assert all("search_m" in vars(x) for x in found)
    del found[:3]  # rows let go of are not kept alive by the page
    assert [x.search_km for x in found] == pytest.approx([geodesic_m(point, x.location) / 1000 for x in found],
                                                         abs=1e-9)
