"""Regions over GraphQL: geography with GeoJSON, agencies, standards in force and their editing, `me`;
lists keep a constant number of SQL queries whatever the page size."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from regions import demo
from regions.models import AssetClassNorm, OfficeSpaceNorm, StandardSet
from tests import factories as f
from tests.conftest import OPERATIONS
from tests.factories import gid


def _op(name):
    return (OPERATIONS / f"{name}.graphql").read_text(encoding="utf-8")


@pytest.fixture
def yrd(db):
    region = demo.load_all()
    region.two_factor_required = False  # the demo coordinator signs in by force_login; TOTP: test_two_factor.py
    region.save(update_fields=["two_factor_required"])
    from django.contrib.auth import get_user_model

    users = {u.username: u for u in get_user_model().objects.all()}
    return {"region": region, "users": users}


def test_peoples_square_and_hangzhou_centre_resolve_over_graphql(yrd, gql):
    gql.login(yrd["users"]["hz_edu"])
    sh = gql.operation("JurisdictionAt", {"lon": 121.475, "lat": 31.232})["data"]["jurisdictionAt"]
    assert sh["code"] == "310000" and sh["nameEn"] == "Shanghai" and sh["centroid"]["type"] == "Point"
    hz = gql.operation("JurisdictionAt", {"lon": 120.155, "lat": 30.274})["data"]["jurisdictionAt"]
    assert hz["code"] == "330100" and hz["parent"]["code"] == "330000"
    assert gql.operation("JurisdictionAt", {"lon": 116.4, "lat": 39.9})["data"]["jurisdictionAt"] is None


def test_demo_region_lists_41_cities_with_geojson_outlines(yrd, gql):
    gql.login(yrd["users"]["auditor"])
    result = gql.operation("Jurisdictions", {"region": "yrd", "first": 100})
    assert result["data"]["jurisdictions"]["totalCount"] == 4  # members are the provinces
    cities = gql.execute("query { jurisdictions(level: CITY, first: 100) { totalCount edges { node { code "
                         "boundarySimplified } } } }")["data"]["jurisdictions"]
    assert cities["totalCount"] == 40  # + Shanghai (province-level city) = 41
    assert all(e["node"]["boundarySimplified"]["type"] == "MultiPolygon" for e in cities["edges"])


def test_distance_and_within_over_graphql(yrd, gql):
    from regions.models import Agency

    gql.login(yrd["users"]["sh_bureau"])
    sh, hz = (Agency.objects.get(code=c) for c in ("11310000MB0001001A", "11330100MB0002001C"))
    km = gql.operation("AgenciesDistance", {"from": gid(sh), "to": gid(hz)})["data"]["distanceKm"]
    assert 160 < km < 170
    near = gql.operation("JurisdictionsWithin", {"lon": 121.475, "lat": 31.232, "km": 100, "level": "CITY"})
    assert "320500" in [r["jurisdiction"]["code"] for r in near["data"]["jurisdictionsWithin"]]
    bad = gql.execute("query { distanceKm(fromAgency: \"1\") }")
    assert bad["errors"][0]["extensions"]["code"] == "INVALID"


def test_standards_in_force_on_a_date(yrd, gql):
    gql.login(yrd["users"]["hz_edu"])
    old = gql.operation("StandardsInForce", {"region": "yrd", "on": "2010-06-01"})["data"]["standardsInForce"]
    new = gql.operation("StandardsInForce", {"region": "yrd", "on": "2020-06-01"})["data"]["standardsInForce"]
    assert old["effectiveFrom"] == "1999-01-01" and new["effectiveFrom"] == "2014-12-01"
    county_head = {(n["level"], n["rank"]): n["areaM2"] for n in new["officeNorms"]}[("COUNTY", "HEAD")]
    old_county_head = {(n["level"], n["rank"]): n["areaM2"] for n in old["officeNorms"]}[("COUNTY", "HEAD")]
    assert Decimal(county_head) == 30 and Decimal(old_county_head) == 20
    desktop = next(c for c in new["classNorms"] if c["classCode"] == "2010104")
    assert Decimal(desktop["priceCap"]) == 5000 and not new["editable"]
    missing = gql.operation("StandardsInForce", {"region": "yrd", "on": "1990-01-01"})
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_coordinator_versions_standards_over_graphql(yrd, gql):
    gql.login(yrd["users"]["coordinator"])
    on = (timezone.localdate() + timedelta(days=15)).isoformat()
    created = gql.operation("StandardsCreateVersion", {"input": {
        "regionCode": "yrd", "effectiveFrom": on, "fields": {"title": "2027 修订", "approvalWorkingDays": 3},
        "classNorms": [{"classCode": "2010104", "priceCap": "5500.00"}]}})["data"]["createStandardVersion"]
    assert created["errors"] == [] and created["standardSet"]["editable"]
    assert created["standardSet"]["approvalWorkingDays"] == 3
    new_id = created["standardSet"]["id"]
    edited = gql.operation("StandardsEditFuture", {"input": {"standardSetId": new_id,
                                                             "fields": {"handlingFee": "250.00"}}})
    assert edited["data"]["editFutureStandard"]["errors"] == []
    assert Decimal(edited["data"]["editFutureStandard"]["standardSet"]["handlingFee"]) == 250
    in_force = StandardSet.objects.get(effective_from=date(2014, 12, 1))
    refused = gql.operation("StandardsEditFuture", {"input": {"standardSetId": gid(in_force),
                                                              "fields": {"handlingFee": "1.00"}}})
    assert refused["data"]["editFutureStandard"]["errors"][0]["code"] == "INVALID_STATE"
    in_force.refresh_from_db()
    assert in_force.handling_fee == Decimal("200.00")
    assert AssetClassNorm.objects.get(standard_set=in_force, class_code="2010104").price_cap == Decimal("5000.00")
    bad = gql.operation("StandardsCreateVersion", {"input": {
        "regionCode": "yrd", "effectiveFrom": (timezone.localdate() + timedelta(days=40)).isoformat(),
        "officeNorms": [{"level": "CITY", "rank": "NOPE", "areaM2": "9"}]}}, status=400)
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_QUERY" and "PostRank" in bad["errors"][0]["message"]
    assert StandardSet.objects.count() == 3


def test_me_lists_roles_with_scopes(yrd, gql):
    gql.login(yrd["users"]["hz_edu"])
    me = gql.operation("RegionMe")["data"]["me"]
    assert me["username"] == "hz_edu" and not me["viaToken"] and me["tokenScopes"] is None
    assert me["roles"] == [{"role": "AGENCY_STAFF", "regionCode": None, "jurisdictionCode": None,
                            "agencyCode": "11330100MB0002002D", "agencyName": "杭州市教育局"}]
    gql.login(yrd["users"]["coordinator"])
    assert gql.operation("RegionMe")["data"]["me"]["roles"][0]["regionCode"] == "yrd"


@pytest.mark.parametrize("query", [
    "query($n: Int) { jurisdictions(first: $n) { totalCount edges { node { code parent { code } centroid } } } }",
    "query($n: Int) { agencies(first: $n) { edges { node { code totalHeadcount headcounts { rank count } "
    "jurisdiction { code } } } } }",
    "query($n: Int) { standardSets(first: $n) { edges { node { title region { code } officeNorms { rank } "
    "classNorms { classCode } rentNorms { jurisdictionCode } } } } }",
])
def test_regions_lists_have_constant_query_counts(region_world, gql, assert_num_queries_constant, query):
    for i in range(4):
        a = f.AgencyFactory(jurisdiction=region_world["city_a"])
        f.JurisdictionFactory(parent=region_world["city_a"], level="county")
        ss = f.StandardSetFactory(region=region_world["region"], effective_from=date(2000 + i, 1, 1))
        OfficeSpaceNorm.objects.create(standard_set=ss, level="city", rank="staff", area_m2=9)
        AssetClassNorm.objects.create(standard_set=ss, class_code="2010104", min_service_years=6)
        from regions.models import RentNorm

        RentNorm.objects.create(standard_set=ss, jurisdiction=region_world["city_a"], rent_per_m2_month=10)
        assert a.pk
    gql.login(region_world["users"]["coordinator"])
    assert_num_queries_constant(query, lambda n: {"n": n})
