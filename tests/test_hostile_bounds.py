"""Bad values over HTTP: each refused with a typed error naming the field, nothing stored, and the
region-wide lists still answer — identically on SQLite and PostgreSQL."""
import json

import pytest

from exchange.models import Asset, OfficeSpace
from kernel.models import AuditEvent
from tests import factories as f
from tests import factories_exchange as fx

REGISTER_ASSET = """mutation($input: RegisterAssetInput!) { registerAsset(input: $input) {
    asset { id originalValue location } errors { field code message } } }"""
REGISTER_OFFICE = """mutation($input: RegisterOfficeSpaceInput!) { registerOfficeSpace(input: $input) {
    officeSpace { id areaM2 } errors { field code message } } }"""
LISTS = """{ assets { totalCount edges { node { id description originalValue } } }
    officeSpaces { totalCount edges { node { id areaM2 floor } } } }"""


@pytest.fixture
def world(region_world):
    fx.standard_set(region_world["region"], own_window_days=0)
    f.AssetClassFactory()
    return region_world


def post(client, query, variables):
    response = client.post("/graphql/", json.dumps({"query": query, "variables": variables}),
                           content_type="application/json")
    return response.status_code, response.json()


def asset_input(**overrides):
    return {"assetClassCode": "2010104", "description": "台式计算机", "originalValue": "4500.00",
            "acquiredOn": "2020-01-01", **overrides}


def office_input(**overrides):
    return {"building": "1号楼", "floor": "3", "rooms": "301", "areaM2": "40.00", "availableFrom": "2026-01-01",
            **overrides}


def assert_lists_answer(client, world):
    for role in ("coordinator", "auditor"):
        client.force_login(world["users"][role])
        status, result = post(client, LISTS, {})
        assert status == 200 and "errors" not in result, result


MONEY_CASES = ["1e400", "NaN", "Infinity", "-Infinity", "12.345"]


@pytest.mark.parametrize("value", MONEY_CASES)
def test_non_amounts_are_refused_by_the_money_scalar(client, world, value):
    """originalValue is a Money input: what is not an amount with at most 2 decimals never reaches a resolver."""
    client.force_login(world["users"]["staff_a"])
    status, result = post(client, REGISTER_ASSET, {"input": asset_input(originalValue=value)})
    codes = [e["extensions"]["code"].lower() for e in result.get("errors", [])]
    if status == 400:
        assert codes and "internal" not in codes, result
    else:
        assert [e["field"] for e in result["data"]["registerAsset"]["errors"]] == ["originalValue"], result
    assert not Asset.objects.exists()
    assert_lists_answer(client, world)


ASSET_CASES = [
    ({"originalValue": "1000000000000000"}, "originalValue", "LIMIT_EXCEEDED"),
    ({"description": "长" * 100_000}, "description", "LIMIT_EXCEEDED"),
    ({"description": "a\x00b"}, "description", "INVALID"),
    ({"description": "bell\x07"}, "description", "INVALID"),
    ({"unit": "台" * 17}, "unit", "LIMIT_EXCEEDED"),
    ({"unit": "\x00"}, "unit", "INVALID"),
    ({"location": {"type": "Point", "coordinates": [999, 999]}}, "location", "INVALID"),
    ({"location": {"type": "Point", "coordinates": [181, -91]}}, "location", "INVALID"),
    ({"location": {"type": "Point", "coordinates": [0, 0]}}, "location", "INVALID"),
    ({"location": {"type": "Point", "coordinates": [116.4, 39.9]}}, "location", "INVALID"),  # Beijing: not in region
    ({"location": {"type": "Polygon", "coordinates": [[[121, 31], [121.1, 31], [121.1, 31.1], [121, 31]]]}},
     "location", "INVALID"),
]


@pytest.mark.parametrize("overrides,field,code", ASSET_CASES, ids=[c[1] + ":" + repr(c[0])[:40] for c in ASSET_CASES])
def test_bad_asset_values_are_typed_and_store_nothing(client, world, overrides, field, code):
    client.force_login(world["users"]["staff_a"])
    status, result = post(client, REGISTER_ASSET, {"input": asset_input(**overrides)})
    assert status == 200, result
    payload = result["data"]["registerAsset"]
    assert payload["asset"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)], payload
    assert not Asset.objects.exists() and not AuditEvent.objects.exists()
    assert_lists_answer(client, world)


OFFICE_CASES = [
    ({"areaM2": "1000000000000000"}, "areaM2", "LIMIT_EXCEEDED"),
    ({"areaM2": "1.005"}, "areaM2", "INVALID"),
    ({"areaM2": "NaN"}, "areaM2", "INVALID"),
    ({"floor": "9" * 21}, "floor", "LIMIT_EXCEEDED"),
    ({"rooms": "\x1b[31m"}, "rooms", "INVALID"),
    ({"building": "楼" * 201}, "building", "LIMIT_EXCEEDED"),
]


@pytest.mark.parametrize("overrides,field,code", OFFICE_CASES, ids=[c[1] for c in OFFICE_CASES])
def test_bad_office_values_are_typed_and_store_nothing(client, world, overrides, field, code):
    client.force_login(world["users"]["staff_a"])
    status, result = post(client, REGISTER_OFFICE, {"input": office_input(**overrides)})
    payload = result["data"]["registerOfficeSpace"]
    assert payload["officeSpace"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)], payload
    assert not OfficeSpace.objects.exists()
    assert_lists_answer(client, world)


def test_area_with_two_decimals_and_newlines_and_tabs_are_fine(client, world):
    client.force_login(world["users"]["staff_a"])
    _, result = post(client, REGISTER_OFFICE, {"input": office_input(areaM2="12.50", rooms="301\t302\n303")})
    assert result["data"]["registerOfficeSpace"]["errors"] == []
    assert OfficeSpace.objects.get().area_m2 == pytest.approx(12.5)


def test_location_outside_the_jurisdiction_needs_a_reason(client, world):
    client.force_login(world["users"]["staff_a"])
    hangzhou = {"type": "Point", "coordinates": [120.16, 30.27]}  # in the region, not in Shanghai
    _, refused = post(client, REGISTER_ASSET, {"input": asset_input(location=hangzhou)})
    assert [(e["field"], e["code"]) for e in refused["data"]["registerAsset"]["errors"]] == [("location", "INVALID")]
    _, kept = post(client, REGISTER_ASSET, {"input": asset_input(location=hangzhou,
                                                                 locationOverrideReason="存放于杭州仓库")})
    assert kept["data"]["registerAsset"]["errors"] == []
    event = AuditEvent.objects.get(action="asset.registered")
    assert event.after["location_override_reason"] == "存放于杭州仓库"


def test_non_finite_floats_in_query_arguments_are_typed(client, world):
    client.force_login(world["users"]["coordinator"])
    for km in ("NaN", "Infinity"):
        body = '{"query": "query($km: Float!) { jurisdictionsWithin(lon: 121, lat: 31, km: $km) { km } }", ' \
               f'"variables": {{"km": {km}}}}}'
        response = client.post("/graphql/", body, content_type="application/json")
        codes = [e["extensions"]["code"].lower() for e in response.json().get("errors", [])]
        assert codes and "internal" not in codes, response.content


@pytest.mark.parametrize("args,code", [("offset: -5", "invalid_query"),  # there is no offset any more
                                       ('after: "YXJyYXljb25uZWN0aW9uOi0xMA=="', "invalid_cursor"),
                                       ('before: "bm9uc2Vuc2U="', "invalid_cursor")])
def test_bad_paging_arguments_are_typed(client, world, args, code):
    client.force_login(world["users"]["coordinator"])
    _, result = post(client, f"{{ listings({args}) {{ totalCount }} }}", {})
    assert [e["extensions"]["code"].lower() for e in result["errors"]] == [code], result


def test_token_name_refuses_nul_and_overlong(client, world):
    """A NUL anywhere in an input is refused at the door; a name past max_length when it is saved."""
    client.force_login(world["users"]["bureau_a"])
    _, result = post(client, """mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) {
        errors { field code } } }""", {"input": {"jurisdictionCode": "310000", "name": "x\x00y"}})
    assert result["data"]["createApiToken"]["errors"] == [{"field": "name", "code": "INVALID"}]
    _, result = post(client, """mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) {
        errors { field code } } }""", {"input": {"jurisdictionCode": "310000", "name": "n" * 101}})
    assert result["data"]["createApiToken"]["errors"] == [{"field": "name", "code": "LIMIT_EXCEEDED"}]
