"""The published contract, walked type by type: domain-named enums (bilingual) for every closed set, in
inputs and outputs; money as `Money`; no Django-internal names."""
import re

import pytest
from django.conf import settings
from graphene_django.registry import get_global_registry

from config.schema import schema
from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType, get_named_type
from tests.factories import gid

SCHEMA = schema.graphql_schema
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{3}")
# Names of fields and arguments that hold a closed set wherever they appear.
CLOSED_SET_NAMES = {"status", "kind", "light", "window", "level", "decision", "condition", "rank", "role", "roles",
                    "side", "allocationMode", "orderBy", "scopes", "tokenScopes", "receivedCondition"}
# Decimal quantities that are not money; any other Decimal is a missing `Money`.
NOT_MONEY = {"areaM2", "minAreaM2", "minServiceYears", "quantityPerHead", "compensationRate", "salvageFloor",
             "weight", "target", "weightedScore", "reuseRate"}
# Names from CLOSED_SET_NAMES that hold a number here, not a closed set.
NOT_CLOSED = {"LeagueEntry.rank"}


def own_types():
    return [t for name, t in SCHEMA.type_map.items() if not name.startswith("__")]


def fields_and_arguments():
    """(owner, name, type) for every field, argument and input field of the schema."""
    for graphql_type in own_types():
        if isinstance(graphql_type, GraphQLObjectType):
            for name, field in graphql_type.fields.items():
                yield f"{graphql_type.name}.{name}", name, field.type
                for arg_name, arg in field.args.items():
                    yield f"{graphql_type.name}.{name}({arg_name})", arg_name, arg.type
        elif isinstance(graphql_type, GraphQLInputObjectType):
            for name, field in graphql_type.fields.items():
                yield f"{graphql_type.name}.{name}", name, field.type


def test_no_django_internal_type_names():
    published = (settings.BASE_DIR / "graphql" / "schema.graphql").read_text(encoding="utf-8")
    for graphql_type in own_types():
        assert not graphql_type.name.endswith(("Choices", "Type")), graphql_type.name
        assert not re.match(r"^(Exchange|Regions|Reports)[A-Z]", graphql_type.name), graphql_type.name
    assert "An enumeration." not in published and "Choices" not in published


def test_every_enum_is_described_in_both_languages():
    enums = [t for t in own_types() if isinstance(t, GraphQLEnumType) and t.name != "ErrorCode"]
    assert len(enums) >= 20
    for enum in enums:
        assert enum.description and CJK.search(enum.description) and LATIN.search(enum.description), enum.name
        for name, value in enum.values.items():
            assert value.description and CJK.search(value.description) and LATIN.search(value.description), \
                f"{enum.name}.{name}"


@pytest.mark.parametrize("owner,name,graphql_type", list(fields_and_arguments()),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_closed_sets_are_enums(owner, name, graphql_type):
    named = get_named_type(graphql_type)
    if name in CLOSED_SET_NAMES and not isinstance(named, GraphQLObjectType) and owner not in NOT_CLOSED:
        assert isinstance(named, GraphQLEnumType), f"{owner} is a {named.name}, not an enum"


def test_every_model_choice_field_exposed_is_an_enum():
    registry = get_global_registry()
    checked = 0
    for model, object_type in registry._registry.items():
        graphql_type = SCHEMA.get_type(object_type._meta.name)
        for field in model._meta.get_fields():
            if not getattr(field, "choices", None):
                continue
            exposed = next((f for n, f in graphql_type.fields.items()
                            if re.sub(r"_([a-z])", lambda m: m[1].upper(), field.name) == n), None)
            if exposed is not None:
                checked += 1
                assert isinstance(get_named_type(exposed.type), GraphQLEnumType), f"{model.__name__}.{field.name}"
    assert checked >= 15


def test_money_is_the_money_scalar():
    decimals = [owner for owner, name, graphql_type in fields_and_arguments()
                if get_named_type(graphql_type).name == "Decimal" and name not in NOT_MONEY]
    assert decimals == []
    money = {owner for owner, _name, graphql_type in fields_and_arguments()
             if get_named_type(graphql_type).name == "Money"}
    assert {"Asset.originalValue", "Transfer.value", "LedgerAccount.balance", "CompensationBreakdown.total",
            "PaymentInstruction.amount", "RegisterAssetInput.originalValue"} <= money


def test_wrong_enum_value_is_a_validation_error_not_internal(gql, region_world):
    gql.login(region_world["users"]["coordinator"])
    for query in ('{ transfers(status: "COMPLETED") { totalCount } }', "{ transfers(status: FINISHED) { totalCount } }",
                  '{ approvalSteps(light: "red") { totalCount } }', "{ listings(window: ELSEWHERE) { totalCount } }"):
        result = gql.execute(query, status=400)
        assert result["errors"][0]["extensions"]["code"] == "INVALID_QUERY", query
    assert gql.execute("{ transfers(status: COMPLETED) { totalCount } }")["data"]["transfers"]["totalCount"] == 0


def test_every_id_is_a_global_id_type():
    """Any field, argument or input field named `id`, `*Id` or `*Ids` is an `ID` (Relay's `clientMutationId`, an
    opaque string the client echoes, is not an object identifier)."""
    wrong = [f"{owner}: {get_named_type(graphql_type).name}" for owner, name, graphql_type in fields_and_arguments()
             if re.fullmatch(r"id|ids|.*Ids?", name) and name != "clientMutationId"
             and get_named_type(graphql_type).name != "ID"]
    assert wrong == []


def test_ids_are_global_ids_of_their_type_only(gql, region_world):
    from kernel.models import AuditEvent  # noqa: F401
    from tests import factories_exchange as fx

    region_world["standards"] = fx.standard_set(region_world["region"], own_window_days=0)
    listing = fx.open_listing(region_world)
    gql.login(region_world["users"]["staff_b"])
    assert gql.execute("query($id: ID!) { listing(id: $id) { title } }",
                       {"id": gid(listing)})["data"]["listing"]["title"] == listing.title
    for wrong in (str(listing.pk), gid(listing.agency), "bm90IGFuIGlk"):
        result = gql.execute("query($id: ID!) { listing(id: $id) { title } }", {"id": wrong})
        assert result["data"]["listing"] is None, wrong
        assert result["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "id"}, wrong
    refused = gql.execute("""mutation($input: RequestListingInput!) { requestListing(input: $input) {
        request { id } errors { field path code message } } }""",
                          {"input": {"listingId": str(listing.pk), "justification": "需要"}})
    assert refused["data"]["requestListing"] == {"request": None, "errors": [
        {"field": "listingId", "path": ["listingId"], "code": "NOT_FOUND", "message": refused["data"][
            "requestListing"]["errors"][0]["message"]}]}


def test_every_breach_the_screening_can_raise_is_a_breach_kind():
    from exchange.graphql.enums import BreachKind

    source = (settings.BASE_DIR / "exchange" / "services" / "screening.py").read_text(encoding="utf-8")
    raised = set(re.findall(r"Breach\(\s*\"([a-z_]+)\"", source))
    assert raised and raised <= {m.value for m in BreachKind._meta.enum}


def test_breaches_accepted_under_an_exception_come_back_as_breach_kinds(gql, region_world):
    from decimal import Decimal

    from tests import factories_exchange as fx

    region_world["standards"] = fx.standard_set(region_world["region"], own_window_days=0)
    listing = fx.open_listing(region_world, original_value=Decimal("6800.00"))
    gql.login(region_world["users"]["staff_b"])
    payload = gql.operation("RequestListing", {"input": {
        "listingId": gid(listing), "justification": "需要", "exceptionRequested": True,
        "exceptionJustification": "特殊岗位"}})["data"]["requestListing"]
    assert payload["errors"] == [] and "PRICE_CAP" in {b["kind"] for b in payload["request"]["breaches"]}
