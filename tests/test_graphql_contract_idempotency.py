"""Idempotency keys (generic, opted into with `idempotent = True`) and scoped node lookups
(`ScopedObjectType`), exercised through the real view on a small test schema: CreateApiToken made
idempotent, and a scoped Agency type."""
import datetime
from decimal import Decimal

import graphene
import pytest
from django.contrib.gis.geos import Point
from django.core.cache import caches
from django.db import transaction
from django.urls import path
from graphql_relay import to_global_id

from api import idempotency
from api.errors import DomainMutation
from api.scoped import ScopedObjectType
from config.graphql_view import ExchangeGraphQLView
from kernel.models import AuditEvent
from regions.graphql.mutations import CreateApiToken
from regions.models import Agency, ApiToken, IdempotencyKey
from regions.services.tokens import create_token


class IdempotentCreateApiToken(CreateApiToken):
    idempotent = True
    idempotent_secret_fields = ("key",)


class Echo(DomainMutation):
    """Test-only: returns what it gets, to check what a replay can carry."""

    idempotent = True

    class Input:
        amount = graphene.Decimal(required=True)

    amount = graphene.Decimal()
    on = graphene.Date()
    at = graphene.DateTime()
    agencies = graphene.List(graphene.String)

    @classmethod
    def perform(cls, info, amount):
        at = datetime.datetime(2026, 1, 2, 3, 4, tzinfo=datetime.UTC)
        return cls(amount=amount, on=datetime.date(2026, 1, 2), at=at, agencies=["a", "b"])


class ScopedAgency(ScopedObjectType):
    class Meta:
        model = Agency
        name = "ScopedAgency"
        interfaces = (graphene.relay.Node,)
        fields = ("id", "code", "name_zh")
        skip_registry = True


class Query(graphene.ObjectType):
    node = graphene.relay.Node.Field()
    hello = graphene.String(default_value="hi")


class Mutation(graphene.ObjectType):
    create_api_token = IdempotentCreateApiToken.Field()
    echo = Echo.Field()


schema = graphene.Schema(query=Query, mutation=Mutation, types=[ScopedAgency])
urlpatterns = [path("graphql/", ExchangeGraphQLView.as_view(schema=schema))]
pytestmark = pytest.mark.urls(__name__)

CREATE = """mutation Create($code: String!, $name: String!, $key: String) {
  createApiToken(input: {jurisdictionCode: $code, name: $name, idempotencyKey: $key}) {
    token { id name } key replayed errors { field code message }
  }
}"""


@pytest.fixture(autouse=True)
def fresh_cache():
    for alias in ("default", "ratelimit"):
        caches[alias].clear()


def create(gql, key, name="city system", code="310000"):
    return gql.execute(CREATE, {"code": code, "name": name, "key": key})["data"]["createApiToken"]


def test_retry_with_the_same_key_returns_the_first_result_and_changes_nothing(gql, region_world):
    gql.login(region_world["users"]["bureau_a"])
    first = create(gql, "order-1")
    assert first["errors"] == [] and first["replayed"] is False and first["key"].startswith("gwc_")
    events = AuditEvent.objects.count()
    again = create(gql, "order-1")
    assert again["errors"] == [] and again["replayed"] is True
    assert again["token"] == first["token"]
    assert again["key"] is None  # the secret is never stored
    assert ApiToken.objects.count() == 1 and AuditEvent.objects.count() == events
    assert "gwc_" not in str(IdempotencyKey.objects.get().response)


def test_same_key_with_different_input_is_a_duplicate_error(gql, region_world):
    gql.login(region_world["users"]["bureau_a"])
    create(gql, "order-1")
    other = create(gql, "order-1", name="another name")
    assert other["errors"] == [{"field": "idempotencyKey", "code": "DUPLICATE",
                                "message": "This idempotency key was already used with a different input."}]
    assert other["token"] is None and other["replayed"] is False
    assert ApiToken.objects.count() == 1


def test_keys_belong_to_their_caller(gql, region_world):
    gql.login(region_world["users"]["bureau_a"])
    create(gql, "order-1")
    gql.login(region_world["users"]["bureau_b"])
    theirs = create(gql, "order-1", code="330100")
    assert theirs["errors"] == [] and theirs["replayed"] is False
    # an API token acting for bureau_a is a different caller from bureau_a's session
    with transaction.atomic():
        _token, secret = create_token(region_world["users"]["bureau_a"], region_world["city_a"], name="sys",
                                      can_write=True)
    through_token = create(gql.token(secret), "order-1")
    assert through_token["errors"] == [] and through_token["replayed"] is False
    assert sorted(IdempotencyKey.objects.values_list("owner", flat=True)) == sorted(
        [f"user:{region_world['users']['bureau_a'].pk}", f"user:{region_world['users']['bureau_b'].pk}",
         f"token:{_token.pk}"])


def test_a_failed_call_stores_nothing_and_can_be_retried(gql, region_world):
    gql.login(region_world["users"]["bureau_a"])
    refused = create(gql, "order-1", code="330100")  # not bureau_a's jurisdiction
    assert refused["errors"][0]["code"] == "PERMISSION_DENIED"
    assert not IdempotencyKey.objects.exists()
    assert create(gql, "order-1")["errors"] == []


def test_without_a_key_every_call_creates(gql, region_world):
    gql.login(region_world["users"]["bureau_a"])
    assert create(gql, None)["replayed"] is False
    create(gql, None)
    assert ApiToken.objects.count() == 2 and not IdempotencyKey.objects.exists()


def test_key_length_is_checked(gql, region_world):
    gql.login(region_world["users"]["bureau_a"])
    assert create(gql, "x" * 65)["errors"][0]["field"] == "idempotencyKey"
    assert create(gql, "")["errors"][0]["code"] == "INVALID"
    assert not ApiToken.objects.exists()


def test_concurrent_first_call_losing_the_race_replays_the_winner(gql, region_world, monkeypatch):
    """Both calls saw no stored key; the second one's insert hits the unique constraint, is rolled back,
    and answers with the first one's result."""
    gql.login(region_world["users"]["bureau_a"])
    first = create(gql, "order-1")
    real_filter = IdempotencyKey.objects.select_for_update

    class BlindOnce:
        def __init__(self):
            self.used = False

        def __call__(self):
            if not self.used:
                self.used = True
                return IdempotencyKey.objects.none().select_for_update()
            return real_filter()

    monkeypatch.setattr(IdempotencyKey.objects, "select_for_update", BlindOnce())
    again = create(gql, "order-1")
    assert again["replayed"] is True and again["token"] == first["token"]
    assert ApiToken.objects.count() == 1


def test_replay_rebuilds_decimals_dates_and_lists(gql, region_world):
    gql.login(region_world["users"]["staff_a"])
    query = ('mutation { echo(input: {amount: "12.30", idempotencyKey: "k"}) '
             "{ amount on at agencies replayed errors { code } } }")
    first = gql.execute(query)["data"]["echo"]
    again = gql.execute(query)["data"]["echo"]
    assert again.pop("replayed") is True and first.pop("replayed") is False
    assert again == first == {"amount": "12.30", "on": "2026-01-02", "at": "2026-01-02T03:04:00+00:00",
                              "agencies": ["a", "b"], "errors": []}


def test_dump_and_load_round_trip(region_world):
    agency = region_world["agency_a"]
    value = {"n": 1, "d": Decimal("1.50"), "when": datetime.date(2026, 3, 1), "agency": agency,
             "point": Point(121.0, 31.0, srid=4326), "list": [agency, None]}
    loaded = idempotency.load(idempotency.dump(value))
    assert loaded["d"] == Decimal("1.50") and loaded["when"] == datetime.date(2026, 3, 1)
    assert loaded["agency"] == agency and loaded["list"] == [agency, None]
    assert loaded["point"].equals(value["point"]) and loaded["point"].srid == 4326
    with pytest.raises(TypeError):
        idempotency.dump(object())


def test_non_idempotent_mutations_have_no_key_argument():
    from config.schema import schema as real_schema

    revoke = real_schema.graphql_schema.get_type("RevokeApiTokenInput")
    assert "idempotencyKey" not in revoke.fields
    assert "replayed" not in real_schema.graphql_schema.get_type("RevokeApiTokenPayload").fields


# --- ScopedObjectType: node(id:) honours the permission scope ------------------------------------------

NODE = "query N($id: ID!) { node(id: $id) { ... on ScopedAgency { code } } }"


def node_code(gql, agency):
    body = gql.execute(NODE, {"id": to_global_id("ScopedAgency", agency.pk)})
    return body, (body["data"]["node"] or {}).get("code")


def test_node_lookup_is_restricted_to_the_callers_scope(gql, region_world):
    w = region_world
    gql.login(w["users"]["staff_a"])
    assert node_code(gql, w["agency_a"])[1] == w["agency_a"].code
    assert node_code(gql, w["agency_b"])[1] is None
    gql.login(w["users"]["coordinator"])
    assert node_code(gql, w["agency_b"])[1] == w["agency_b"].code
    assert node_code(gql, w["agency_out"])[1] is None


def test_node_lookup_by_anonymous_is_null(gql, region_world):
    body, code = node_code(gql, region_world["agency_a"])
    assert body["data"]["node"] is None and code is None


def test_node_lookup_with_a_non_numeric_pk_is_null(gql, region_world):
    gql.login(region_world["users"]["coordinator"])
    body = gql.execute(NODE, {"id": to_global_id("ScopedAgency", "abc")})
    assert body["data"]["node"] is None and "errors" not in body
