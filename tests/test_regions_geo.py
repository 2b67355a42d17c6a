"""Real geography: the YRD fixture, point-in-jurisdiction, distances (same on SpatiaLite and PostGIS), the
idempotent boundary import command."""
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.gis.geos import Point
from django.core.management import CommandError, call_command

from kernel.geo import geodesic_km
from regions import demo, selectors
from regions.models import Jurisdiction
from tests import factories as f

FIXTURE = str(demo.FIXTURE)


@pytest.fixture
def yrd(db):
    demo.load_geography()
    region = demo.load_region()
    demo.load_agencies()
    demo.load_users(region)
    from django.contrib.auth import get_user_model

    return {"region": region, "user": get_user_model().objects.get(username="sh_bureau")}


def test_fixture_has_the_four_provinces_and_41_cities_with_outlines(yrd):
    assert Jurisdiction.objects.filter(level="province").count() == 4
    cities = Jurisdiction.objects.filter(level="city").count() + 1  # Shanghai is a province-level city
    assert cities == 41
    assert not Jurisdiction.objects.filter(boundary__isnull=True).exists()
    assert Jurisdiction.objects.get(code="330100").parent.code == "330000"


@pytest.mark.parametrize("lon, lat, code", [
    (121.475, 31.232, "310000"),  # People's Square, Shanghai
    (120.155, 30.274, "330100"),  # Hangzhou centre: the city, not the province
    (118.797, 32.060, "320100"),  # Nanjing
    (117.227, 31.821, "340100"),  # Hefei
])
def test_point_resolves_to_the_most_specific_jurisdiction(yrd, lon, lat, code):
    assert selectors.jurisdiction_at(yrd["user"], lon, lat).code == code


def test_point_outside_the_region_resolves_to_nothing(yrd):
    assert selectors.jurisdiction_at(yrd["user"], 116.40, 39.90) is None  # Beijing


def test_vincenty_matches_the_reference_geodesic():
    # Vincenty (1975) test line Flinders Peak -> Buninyong: 54 972.271 m
    km = geodesic_km(Point(144.42486789, -37.95103342), Point(143.92649554, -37.65282114))
    assert km == Decimal("54.972")


def test_distances_between_jurisdictions_and_agencies(yrd):
    user = yrd["user"]
    km = selectors.distance_between_jurisdictions(user, "310000", "330100")
    assert Decimal("120") < km < Decimal("260")  # representative points, not city centres
    assert selectors.distance_between_jurisdictions(user, "330100", "310000") == km
    from regions.models import Agency

    sh = Agency.objects.get(code="11310000MB0001001A")
    hz = Agency.objects.get(code="11330100MB0002001C")
    # People's Square to Wulin Square area: about 165 km on the ellipsoid
    assert Decimal("160") < selectors.distance_between_agencies(user, sh.pk, hz.pk) < Decimal("170")


def test_jurisdictions_within_a_distance_nearest_first(yrd):
    found = selectors.jurisdictions_within(yrd["user"], 121.475, 31.232, 100, level="city")
    codes = [j.code for j, _ in found]
    assert "320500" in codes  # Suzhou
    assert "330100" not in codes and "340100" not in codes
    kms = [km for _, km in found]
    assert kms == sorted(kms) and all(km <= 100 for km in kms)


def test_import_command_is_idempotent_and_reports_counts(db):
    out = StringIO()
    call_command("import_boundaries", FIXTURE, stdout=out)
    assert "created 44, updated 0" in out.getvalue()
    out = StringIO()
    call_command("import_boundaries", FIXTURE, stdout=out)
    assert "created 0, updated 0, unchanged 44" in out.getvalue()


def test_import_updates_a_changed_name(db, tmp_path):
    data = json.loads(open(FIXTURE, encoding="utf-8").read())
    call_command("import_boundaries", FIXTURE, stdout=StringIO())
    next(ft for ft in data["features"] if ft["properties"]["code"] == "330100")["properties"]["name_en"] = "HZ"
    path = tmp_path / "changed.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = StringIO()
    call_command("import_boundaries", str(path), stdout=out)
    assert "created 0, updated 1" in out.getvalue()
    assert Jurisdiction.objects.get(code="330100").name_en == "HZ"


@pytest.mark.parametrize("content", [
    "not json",
    json.dumps({"features": [{"properties": {"code": "999999", "name_zh": "x", "name_en": "x", "level": "city"},
                              "geometry": {"type": "Point", "coordinates": [1, 2]}}]}),
    json.dumps({"features": [
        {"properties": {"code": "999998", "name_zh": "好", "name_en": "ok", "level": "city"}, "geometry": None},
        {"properties": {"code": "12", "name_zh": "坏", "name_en": "bad", "level": "city"}, "geometry": None}]}),
])
def test_bad_file_changes_nothing(db, tmp_path, content):
    f.JurisdictionFactory(code="310000", name_zh="上海市", name_en="Shanghai")
    path = tmp_path / "bad.geojson"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match="nothing changed"):
        call_command("import_boundaries", str(path), stdout=StringIO())
    assert list(Jurisdiction.objects.values_list("code", flat=True)) == ["310000"]
