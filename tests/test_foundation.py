"""The thin slice: settings, health check, GraphQL endpoint reading jurisdictions, geometry scalar,
page-size limits and query-count stability."""
import pytest
from django.conf import settings

from api.scalars import Geometry


def test_locale_and_time_zone():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert ("en", "English") in [(code, str(name)) for code, name in settings.LANGUAGES]
    assert settings.TIME_ZONE == "Asia/Shanghai" and settings.USE_TZ


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["broker"] == "eager"


def test_geometry_scalar_round_trips_geojson():
    point = Geometry.parse_value({"type": "Point", "coordinates": [121.475, 31.232]})
    assert point.srid == 4326 and (point.x, point.y) == (121.475, 31.232)
    assert Geometry.serialize(point) == {"type": "Point", "coordinates": [121.475, 31.232]}


def test_geometry_scalar_rejects_garbage():
    from graphql import GraphQLError

    with pytest.raises(GraphQLError):
        Geometry.parse_value({"type": "Point", "coordinates": "north"})


def test_anonymous_cannot_read(gql, region_world):
    result = gql.operation("Jurisdictions", {"region": "yrd-test"})
    assert result["data"] is None or result["data"]["jurisdictions"] is None
    assert result["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"


def test_jurisdictions_query_returns_geojson(gql, region_world):
    gql.login(region_world["users"]["staff_a"])
    result = gql.operation("Jurisdictions", {"region": "yrd-test"})
    assert "errors" not in result, result
    page = result["data"]["jurisdictions"]
    assert page["totalCount"] == 2
    codes = {edge["node"]["code"] for edge in page["edges"]}
    assert codes == {"310000", "330100"}
    node = page["edges"][0]["node"]
    assert node["centroid"]["type"] == "Point"
    assert node["boundarySimplified"]["type"] == "MultiPolygon"


def test_page_size_above_maximum_is_a_typed_error(gql, region_world):
    gql.login(region_world["users"]["staff_a"])
    result = gql.operation("Jurisdictions", {"first": 201})
    assert result["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"


def test_jurisdictions_query_count_is_constant(gql, region_world, assert_num_queries_constant):
    from tests.factories import JurisdictionFactory, MembershipFactory

    for _ in range(120):
        child = JurisdictionFactory(parent=region_world["city_a"])
        MembershipFactory(region=region_world["region"], jurisdiction=child)
    gql.login(region_world["users"]["staff_a"])
    query = (settings.BASE_DIR / "graphql" / "operations" / "Jurisdictions.graphql").read_text()
    assert_num_queries_constant(query, lambda n: {"region": "yrd-test", "first": n}, maximum=8)
