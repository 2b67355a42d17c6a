"""Property: random values thrown at every input of every mutation (from the schema itself) get a typed
error or succeed — never `internal` — and the region-wide lists still answer afterwards."""
import json
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.schema import schema
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from regions.models import RoleBinding
from tests import factories as f
from tests import factories_exchange as fx

NASTY_TEXT = st.sampled_from([
    "", " ", "..", "../../etc/passwd", "a\x00b", "\x01\x02", "\u202e", "x" * 301, "y" * 100_001, "=1+2",
    "<script>alert(1)</script>", "\ud800", "台" * 17, "good", "new", "2010104", "310000", "yrd-test", "\n\t",
])
NASTY_DECIMAL = st.sampled_from(["1e400", "NaN", "Infinity", "-Infinity", "-0.001", "1.005", "1000000000000000",
                                 "0", "-1", "12.34", "0.01", "99999999999999999999", "1E-30", "abc", "1,5"])
NASTY_ID = st.sampled_from(["-1", "0", "1", "2", "3", "999999999999", "arrayconnection:-10", "QXNzZXQ6MQ==",
                            "QXNzZXQ6LTE=", "bm90OmFuaWQ=", "", "..", "\x00"])
GEOMETRY = st.one_of(
    st.builds(lambda x, y: {"type": "Point", "coordinates": [x, y]},
              st.floats(allow_nan=False, allow_infinity=False, width=32), st.floats(allow_nan=False, width=32)),
    st.sampled_from([
        {"type": "Point", "coordinates": [999, 999]}, {"type": "Point", "coordinates": [181, -91]},
        {"type": "Point", "coordinates": [0, 0]}, {"type": "Point", "coordinates": [121.47, 31.23]},
        {"type": "Polygon", "coordinates": [[[120, 30], [121, 30], [121, 31], [120, 30]]]},
        {"type": "Point", "coordinates": []}, {"type": "LineString", "coordinates": [[1, 2], [1, 2]]},
        "POINT(1 2)", "garbage", {"type": "Point"},
    ]))


def scalar(named):
    name = named.name
    if name == "String":
        return st.one_of(NASTY_TEXT, st.text(max_size=40))
    if name == "Int":
        return st.one_of(st.integers(-(2**31), 2**31 - 1), st.sampled_from([0, -5, 1, 2, 2**31 - 1]))
    if name == "Float":
        return st.floats(allow_nan=True, allow_infinity=True)
    if name == "Boolean":
        return st.booleans()
    if name == "ID":
        return NASTY_ID
    if name == "Decimal":
        return st.one_of(NASTY_DECIMAL, st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str))
    if name == "Date":
        return st.one_of(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)).map(str),
                         st.sampled_from(["2026-02-30", "yesterday", str(date.today() + timedelta(days=30))]))
    if name == "Geometry":
        return GEOMETRY
    return st.one_of(NASTY_TEXT, st.integers())


def values_for(graphql_type, depth=0):
    if isinstance(graphql_type, GraphQLNonNull):
        return values_for(graphql_type.of_type, depth)
    if isinstance(graphql_type, GraphQLList):
        return st.lists(values_for(graphql_type.of_type, depth + 1), max_size=2)
    if isinstance(graphql_type, GraphQLEnumType):
        return st.sampled_from(list(graphql_type.values))
    if isinstance(graphql_type, GraphQLInputObjectType):
        return input_object(graphql_type, depth + 1)
    assert isinstance(graphql_type, GraphQLScalarType)
    return scalar(graphql_type)


def input_object(input_type, depth=0):
    required, optional = {}, {}
    for name, field in input_type.fields.items():
        if name == "clientMutationId":
            continue
        target = required if isinstance(field.type, GraphQLNonNull) else optional
        target[name] = values_for(field.type, depth)
    return st.fixed_dictionaries(required, optional=optional if depth < 3 else {})


MUTATIONS = {name: field for name, field in schema.graphql_schema.mutation_type.fields.items()}
LISTS = """{ assets(first: 50) { totalCount edges { node { id description originalValue location } } }
  officeSpaces(first: 50) { totalCount edges { node { id areaM2 floor } } }
  listings(first: 50) { totalCount edges { node { id title distanceKm } } }
  transfers(first: 50) { totalCount edges { node { id value } } } }"""


@pytest.fixture
def arena(region_world, settings, tmp_path):
    settings.GRAPHQL_TOKEN_RATE = "1000000/m"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    world = region_world
    fx.standard_set(world["region"], own_window_days=0)
    f.AssetClassFactory()
    boss = f.user_with_role("coordinator", world["region"], "boss")
    RoleBinding.objects.create(user=boss, role="bureau_manager", jurisdiction=world["city_a"])
    RoleBinding.objects.create(user=boss, role="agency_staff", agency=world["agency_a"])
    listing = fx.open_listing(world)
    fx.asset(world["agency_a"])
    world["boss"], world["listing"] = boss, listing
    return world


def post(client, query, variables):
    body = json.dumps({"query": query, "variables": variables})  # NaN/Infinity go out as JSON extensions
    response = client.post("/graphql/", body, content_type="application/json")
    assert response.status_code in (200, 400, 413), response.content
    return response.json()


def codes(result):
    found = [((e.get("extensions") or {}).get("code") or "").lower() for e in result.get("errors") or []]
    for value in (result.get("data") or {}).values():
        for error in (value or {}).get("errors") or []:
            found.append(error["code"].lower())
    return found


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_random_input_never_internal(mutation, arena, client):
    field = MUTATIONS[mutation]
    input_type = field.args["input"].type.of_type
    query = (f"mutation($input: {input_type.name}!) {{ {mutation}(input: $input) "
             "{ errors { field code message } } }")
    client.force_login(arena["boss"])

    @settings(max_examples=12, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(input_object(input_type))
    def throw(data):
        result = post(client, query, {"input": data})
        found = codes(result)
        assert "internal" not in found, (data, result)
        assert all(code for code in found), result  # every error is typed

    throw()
    for user in (arena["boss"], arena["users"]["auditor"], arena["users"]["coordinator"]):
        client.force_login(user)
        result = post(client, LISTS, {})
        assert "errors" not in result, result
