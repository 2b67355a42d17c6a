"""API tokens: shown once, stored hashed, expiry, revocation, read-only refusal, last use, and the city
boundary (a token of city A can neither read nor change city B's non-public data)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from kernel.models import AuditEvent
from regions.models import ApiToken
from regions.services import tokens
from tests.factories import gid

ME = "query { me { username viaToken tokenScopes roles { role jurisdictionCode } } }"


def _create(gql, user, code, can_write=False, days=90):
    gql.login(user)
    return gql.operation("TokenCreate", {"input": {"jurisdictionCode": code, "name": "city ERP",
                                                   "canWrite": can_write, "days": days}})["data"]["createApiToken"]


def test_key_is_shown_once_and_stored_hashed(region_world, gql):
    payload = _create(gql, region_world["users"]["bureau_a"], "310000")
    assert payload["errors"] == [] and payload["key"].startswith("gwc_")
    token = ApiToken.objects.get()
    assert token.key_hash == tokens.hash_key(payload["key"]) and payload["key"] not in token.key_hash
    assert payload["token"]["scopes"] == ["READ"]
    listed = gql.operation("TokenList", {})["data"]["apiTokens"]
    assert listed["totalCount"] == 1 and "key" not in listed["edges"][0]["node"]
    event = AuditEvent.objects.get(action="token.create")
    assert payload["key"] not in str(event.after)


def test_bearer_token_authenticates_and_sets_last_used(region_world, gql):
    key = _create(gql, region_world["users"]["bureau_a"], "310000")["key"]
    assert ApiToken.objects.get().last_used_at is None
    me = gql.token(key).execute(ME)["data"]["me"]
    assert me["viaToken"] and me["tokenScopes"] == ["READ"]
    assert me["roles"] == [{"role": "BUREAU_MANAGER", "jurisdictionCode": "310000"}]
    assert ApiToken.objects.get().last_used_at is not None


def test_expired_and_revoked_tokens_are_refused(region_world, gql):
    bureau = region_world["users"]["bureau_a"]
    key = _create(gql, bureau, "310000")["key"]
    token = ApiToken.objects.get()
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    result = gql.token(key).execute(ME, status=401)
    assert result["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() + timedelta(days=1))
    assert gql.token(key).execute(ME)["data"]["me"]["viaToken"]
    gql.login(bureau)
    revoked = gql.operation("TokenRevoke", {"input": {"tokenId": gid(token)}})["data"]["revokeApiToken"]
    assert revoked["errors"] == [] and revoked["token"]["revokedAt"]
    assert gql.token(key).execute(ME, status=401)["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"
    assert gql.token("gwc_nope_nope").execute(ME, status=401)["errors"]


@pytest.mark.parametrize("days", [0, 400])
def test_validity_is_bounded(region_world, gql, days):
    payload = _create(gql, region_world["users"]["bureau_a"], "310000", days=days)
    assert payload["errors"][0]["field"] == "days" and not ApiToken.objects.exists()


def test_read_only_token_is_refused_on_write_with_a_typed_error(region_world, gql):
    key = _create(gql, region_world["users"]["bureau_a"], "310000")["key"]
    result = gql.token(key).operation("TokenCreate", {"input": {"jurisdictionCode": "310000", "name": "x"}})
    assert result["data"]["createApiToken"]["errors"][0]["code"] == "PERMISSION_DENIED"
    assert ApiToken.objects.count() == 1


@pytest.mark.parametrize("who", ["coordinator", "auditor", "staff_a", "bureau_b", "outsider"])
def test_only_the_bureau_manager_of_the_jurisdiction_creates_tokens(region_world, gql, who):
    payload = _create(gql, region_world["users"][who], "310000")
    assert payload["errors"][0]["code"] == "PERMISSION_DENIED" and payload["key"] is None
    assert not ApiToken.objects.exists()


def test_token_of_city_a_cannot_read_or_change_city_b(region_world, gql):
    key_b = _create(gql, region_world["users"]["bureau_b"], "330100", can_write=True)["key"]
    token_b = ApiToken.objects.get()
    key_a = _create(gql, region_world["users"]["bureau_a"], "310000", can_write=True)["key"]
    gql.token(key_a)
    listed = gql.operation("TokenList", {})["data"]["apiTokens"]
    assert [e["node"]["jurisdiction"]["code"] for e in listed["edges"]] == ["310000"]
    assert gql.operation("TokenList", {"jurisdictionCode": "330100"})["data"]["apiTokens"]["totalCount"] == 0
    revoke = gql.operation("TokenRevoke", {"input": {"tokenId": gid(token_b)}})["data"]["revokeApiToken"]
    assert revoke["errors"][0]["code"] == "PERMISSION_DENIED"
    create = gql.operation("TokenCreate", {"input": {"jurisdictionCode": "330100", "name": "intruder",
                                                     "canWrite": True}})["data"]["createApiToken"]
    assert create["errors"][0]["code"] == "PERMISSION_DENIED"
    token_b.refresh_from_db()
    assert token_b.revoked_at is None and ApiToken.objects.count() == 2
    # city B's private exchange data (assets) is invisible to A's token
    from tests import factories as f

    f.AssetFactory(agency=region_world["agency_b"], description="杭州私有资产")
    assets = gql.execute("query { assets(first: 50) { totalCount edges { node { description } } } }")
    assert "errors" not in assets, assets
    assert "杭州私有资产" not in str(assets)
    assert gql.token(key_b).execute("query { assets(first: 50) { totalCount } }")["data"]["assets"]["totalCount"] == 1


def test_token_listing_is_query_count_constant(region_world, gql, assert_num_queries_constant):
    bureau = region_world["users"]["bureau_a"]
    from django.db import transaction

    with transaction.atomic():
        for i in range(3):
            tokens.create_token(bureau, region_world["city_a"], name=f"t{i}")
    gql.login(bureau)
    from tests.conftest import OPERATIONS

    query = (OPERATIONS / "TokenList.graphql").read_text(encoding="utf-8")
    assert_num_queries_constant(query, lambda n: {"first": n})


def test_create_api_token_retry_with_same_key_creates_one_token_and_never_replays_the_secret(gql, region_world):
    from regions.models import ApiToken

    gql.login(region_world["users"]["bureau_a"])
    query = ('mutation($k: String) { createApiToken(input: {jurisdictionCode: "310000", name: "erp", '
             "idempotencyKey: $k}) { key replayed token { prefix } errors { code } } }")
    first = gql.execute(query, {"k": "retry-1"})["data"]["createApiToken"]
    again = gql.execute(query, {"k": "retry-1"})["data"]["createApiToken"]
    assert first["key"] and first["replayed"] is False and first["errors"] == []
    assert again["replayed"] is True and again["key"] is None
    assert again["token"]["prefix"] == first["token"]["prefix"]
    assert ApiToken.objects.count() == 1


# --- a token acts only while its creator is active and holds the role it acts under -------------------
def _token_for(world, *, can_write=False):
    from django.db import transaction

    with transaction.atomic():
        return tokens.create_token(world["users"]["bureau_a"], world["city_a"], name="city ERP",
                                   can_write=can_write)


def _refused(gql, key):
    result = gql.token(key).execute(ME, status=401)
    assert result["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED", result
    return result["errors"][0]["message"]


def test_token_stops_when_its_creator_is_deactivated(region_world, gql, client):
    _token, key = _token_for(region_world)
    assert gql.token(key).execute(ME)["data"]["me"]["viaToken"]
    creator = region_world["users"]["bureau_a"]
    type(creator).objects.filter(pk=creator.pk).update(is_active=False)
    assert "创建者" in _refused(gql, key)
    # every door authenticates through the same check: report and import downloads too
    assert client.get("/reports/download/1", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401
    type(creator).objects.filter(pk=creator.pk).update(is_active=True)
    assert gql.token(key).execute(ME)["data"]["me"]["viaToken"]


def test_token_stops_when_its_creator_loses_the_role_it_acts_under(region_world, gql):
    from regions.models import RoleBinding

    _token, key = _token_for(region_world, can_write=True)
    binding = RoleBinding.objects.get(user=region_world["users"]["bureau_a"], role="bureau_manager")
    RoleBinding.objects.filter(pk=binding.pk).update(revoked_at=timezone.now())
    _refused(gql, key)
    # a role elsewhere (another city's bureau, agency staff of A) is not the role the token acts under
    RoleBinding.objects.create(user=region_world["users"]["bureau_a"], role="bureau_manager",
                               jurisdiction=region_world["city_b"])
    RoleBinding.objects.create(user=region_world["users"]["bureau_a"], role="agency_staff",
                               agency=region_world["agency_a"])
    _refused(gql, key)
    # a role past its end date does not count either; a deputy role over the jurisdiction does
    RoleBinding.objects.create(user=region_world["users"]["bureau_a"], role="bureau_manager",
                               jurisdiction=region_world["city_a"],
                               ends_on=timezone.localdate() - timedelta(days=1))
    _refused(gql, key)
    RoleBinding.objects.create(user=region_world["users"]["bureau_a"], role="deputy_bureau_manager",
                               jurisdiction=region_world["city_a"])
    assert gql.token(key).execute(ME)["data"]["me"]["viaToken"]


def test_read_only_token_cannot_start_any_job(region_world, gql):
    """Report jobs and imports (dry runs too) are writes: a read-only token is refused with a typed,
    translated error and nothing is created; the write token of the same jurisdiction may."""
    from exchange.models import ImportJob
    from reports.models import ReportJob
    from tests import factories as f

    f.AssetClassFactory()
    _token, read_key = _token_for(region_world)
    _token, write_key = _token_for(region_world, can_write=True)
    csv = ("asset_class,description,quantity,unit,original_value,acquired_on,condition,lon,lat\n"
           "2010104,联想台式机,1,台,4500.00,2019-03-01,good,121.47,31.23\n")
    imports = {"input": {"agencyId": gid(region_world["agency_a"]), "text": csv, "dryRun": True}}
    report = {"kind": "SCORECARD", "jurisdictionCode": "310000"}
    for name, variables, field in (("ImportAssets", imports, "importAssets"),
                                   ("ReportRequest", report, "requestReport")):
        payload = gql.token(read_key).operation(name, variables)["data"][field]
        assert payload["job"] is None and payload["errors"][0]["code"] == "PERMISSION_DENIED", (name, payload)
        assert "只读" in payload["errors"][0]["message"]
        assert not ImportJob.objects.exists() and not ReportJob.objects.exists()
    gql.token(write_key)
    assert gql.operation("ImportAssets", imports)["data"]["importAssets"]["errors"] == []
    assert gql.operation("ReportRequest", report)["data"]["requestReport"]["errors"] == []
    assert ImportJob.objects.count() == 1 and ReportJob.objects.count() == 1


def test_actions_through_a_token_carry_its_prefix_in_the_trail_graphql_admin_and_page(region_world, gql, client):
    """Who acted through which token: the event names the token's creator as the actor and the token by its
    prefix (GraphQL `viaTokenPrefix`, the audit admin's column, the transfer page); in-person acts have none."""
    from django.contrib.auth import get_user_model

    from tests import factories as f
    from tests.auth_matrix_cases import _transfer

    region_world["standard_set"] = f.StandardSetFactory(region=region_world["region"])
    transfer = _transfer(region_world)
    token, key = _token_for(region_world, can_write=True)
    step = transfer.steps.get(kind="giving_bureau")
    decided = gql.token(key).operation("DecideApproval", {"input": {"stepId": gid(step), "approve": True}})
    assert decided["data"]["decideApproval"]["errors"] == [], decided
    event = AuditEvent.objects.get(action="approval.approved")
    assert event.actor == region_world["users"]["bureau_a"] and event.via_token == token

    gql.login(region_world["users"]["auditor"])
    trail = gql.operation("TransferTrail", {"transferId": gid(transfer)})["data"]["transferTrail"]["edges"]
    by_action = {e["node"]["action"]: e["node"] for e in trail}
    assert by_action["approval.approved"]["viaTokenPrefix"] == token.prefix
    assert by_action["approval.approved"]["actor"] == "bureau_a"
    assert by_action["transfer.allocated"]["viaTokenPrefix"] is None

    admin_user = get_user_model().objects.create_superuser("root", password="pw-123456")
    client.force_login(admin_user)
    listed = client.get("/admin/kernel/auditevent/", {"q": token.prefix})
    assert listed.status_code == 200 and token.prefix in listed.content.decode()
    assert listed.context["cl"].result_count == 1
    page = client.get(f"/admin/kernel/auditevent/{event.pk}/change/").content.decode()
    assert token.prefix in page and token.name not in page

    client.force_login(region_world["users"]["staff_b"])
    page = client.get(f"/transfers/{transfer.pk}/").content.decode()
    assert f"via API token {token.prefix}" in page or f"经 API 令牌 {token.prefix}" in page
