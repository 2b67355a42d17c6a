"""Delegation within scope: a coordinator grants across the region, a bureau manager within its
jurisdiction and below (never above or beside), every grant and revocation is audited, end dates lapse."""
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from kernel.errors import InvalidState, PermissionDenied, ValidationFailed
from kernel.models import AuditEvent
from regions.models import RoleBinding
from regions.permissions import get_principal
from regions.services import roles
from tests import factories as f


@pytest.fixture
def world(region_world):
    w = region_world
    w["county_a"] = f.JurisdictionFactory(code="310101", name_zh="黄浦区", name_en="Huangpu", level="county",
                                          parent=w["city_a"], lon=121.49, lat=31.23)
    w["agency_county"] = f.AgencyFactory(jurisdiction=w["county_a"], name_zh="黄浦区丁单位")
    w["newcomer"] = f.UserFactory(username="newcomer")
    return w


def grant(granter, grantee, role, **scope):
    with transaction.atomic():
        return roles.grant_role(granter, grantee=grantee, role=role, reason="到岗", **scope)


def fresh(user):
    user.__dict__.pop("_principal", None)
    return user


def test_bureau_manager_grants_staff_and_deputies_in_its_jurisdiction_and_below(world):
    bureau, newcomer = world["users"]["bureau_a"], world["newcomer"]
    staff = grant(bureau, newcomer, "agency_staff", agency=world["agency_county"])
    deputy = grant(bureau, newcomer, "deputy_bureau_manager", jurisdiction=world["city_a"])
    below = grant(bureau, newcomer, "bureau_manager", jurisdiction=world["county_a"])
    assert staff.granted_by == bureau and deputy.reason == "到岗" and below.pk
    principal = get_principal(fresh(newcomer))
    assert world["agency_county"].pk in principal.staff_agencies
    assert world["city_a"].pk in principal.bureau_jurisdictions  # the deputy acts as the bureau
    assert world["city_a"].pk not in principal.manager_jurisdictions  # ... but does not delegate there


@pytest.mark.parametrize("role,scope_key", [
    ("bureau_manager", "city_a"),  # beside: a peer of its own jurisdiction
    ("bureau_manager", "city_b"),  # beside: another city
    ("agency_staff", "agency_b"),  # another city's agency
    ("coordinator", "region"),  # above
    ("auditor", "region"),  # above
])
def test_bureau_manager_never_grants_above_or_beside(world, role, scope_key):
    target = world[scope_key]
    kind = {"region": "region", "city_a": "jurisdiction", "city_b": "jurisdiction", "agency_b": "agency"}[scope_key]
    before = RoleBinding.objects.count(), AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        grant(world["users"]["bureau_a"], world["newcomer"], role, **{kind: target})
    assert (RoleBinding.objects.count(), AuditEvent.objects.count()) == before


def test_coordinator_grants_across_the_region_but_not_outside(world):
    coordinator, newcomer = world["users"]["coordinator"], world["newcomer"]
    grant(coordinator, newcomer, "bureau_manager", jurisdiction=world["city_b"])
    grant(coordinator, newcomer, "auditor", region=world["region"])
    grant(coordinator, newcomer, "agency_staff", agency=world["agency_county"])
    with pytest.raises(PermissionDenied):
        grant(coordinator, newcomer, "bureau_manager", jurisdiction=world["outside"])


@pytest.mark.parametrize("who", ["staff_a", "auditor"])
def test_staff_auditors_and_deputies_never_delegate(world, who):
    with pytest.raises(PermissionDenied):
        grant(world["users"][who], world["newcomer"], "agency_staff", agency=world["agency_a"])
    deputy = f.user_with_role("deputy_bureau_manager", world["city_a"], "deputy_a")
    with pytest.raises(PermissionDenied):
        grant(deputy, world["newcomer"], "agency_staff", agency=world["agency_a"])


def test_grant_needs_a_reason_a_future_end_and_no_duplicate_or_self(world):
    bureau, newcomer = world["users"]["bureau_a"], world["newcomer"]
    with pytest.raises(ValidationFailed) as exc, transaction.atomic():
        roles.grant_role(bureau, grantee=newcomer, role="agency_staff", agency=world["agency_a"], reason=" ")
    assert exc.value.field == "reason"
    with pytest.raises(ValidationFailed) as exc, transaction.atomic():
        roles.grant_role(bureau, grantee=newcomer, role="agency_staff", agency=world["agency_a"], reason="x",
                         ends_on=timezone.localdate() - timedelta(days=1))
    assert exc.value.field == "ends_on"
    with pytest.raises(ValidationFailed) as exc:
        grant(bureau, newcomer, "agency_staff", jurisdiction=world["city_a"])
    assert exc.value.field == "agency_code"
    grant(bureau, newcomer, "agency_staff", agency=world["agency_a"])
    with pytest.raises(InvalidState) as exc:
        grant(bureau, newcomer, "agency_staff", agency=world["agency_a"])
    assert exc.value.code == "duplicate"
    with pytest.raises(PermissionDenied):
        grant(bureau, bureau, "deputy_bureau_manager", jurisdiction=world["city_a"])


def test_grant_and_revoke_are_audit_events_with_who_what_scope_reason(world):
    bureau, newcomer = world["users"]["bureau_a"], world["newcomer"]
    ends = timezone.localdate() + timedelta(days=30)
    with transaction.atomic():
        binding = roles.grant_role(bureau, grantee=newcomer, role="agency_staff", agency=world["agency_a"],
                                   reason="借调三十天", ends_on=ends)
    event = AuditEvent.objects.get(action="role.granted")
    assert event.actor == bureau and event.jurisdiction == world["city_a"]
    assert event.after == {"user": "newcomer", "role": "agency_staff", "reason": "借调三十天",
                           "ends_on": ends.isoformat(),
                           "scope": {"agency": world["agency_a"].code, "jurisdiction": "310000"}}
    assert world["agency_a"].pk in get_principal(fresh(newcomer)).staff_agencies

    with pytest.raises(PermissionDenied), transaction.atomic():
        roles.revoke_role(world["users"]["bureau_b"], binding, reason="x")
    with transaction.atomic():
        roles.revoke_role(bureau, binding, reason="借调提前结束")
    event = AuditEvent.objects.get(action="role.revoked")
    assert event.actor == bureau and event.after["reason"] == "借调提前结束" and event.after["role"] == "agency_staff"
    assert not get_principal(fresh(newcomer)).staff_agencies
    binding.refresh_from_db()
    assert binding.revoked_by == bureau  # kept as history
    with pytest.raises(InvalidState), transaction.atomic():
        roles.revoke_role(bureau, binding, reason="again")


def test_a_role_with_an_end_date_lapses_by_itself(world):
    bureau, newcomer = world["users"]["bureau_a"], world["newcomer"]
    today = timezone.localdate()
    with transaction.atomic():
        binding = roles.grant_role(bureau, grantee=newcomer, role="agency_staff", agency=world["agency_a"],
                                   reason="今日值班", ends_on=today)
    assert world["agency_a"].pk in get_principal(fresh(newcomer)).staff_agencies  # held through its last day
    assert RoleBinding.objects.active(on=today + timedelta(days=1)).filter(pk=binding.pk).count() == 0
    RoleBinding.objects.filter(pk=binding.pk).update(ends_on=today - timedelta(days=1))  # a day later
    assert not get_principal(fresh(newcomer)).staff_agencies
    # once lapsed, it may be granted again
    grant(bureau, newcomer, "agency_staff", agency=world["agency_a"])


def test_graphql_grant_list_and_revoke(world, gql):
    bureau = world["users"]["bureau_a"]
    result = gql.login(bureau).operation("RoleGrant", {"input": {
        "username": "newcomer", "role": "BUREAU_MANAGER", "jurisdictionCode": "310101", "reason": "区局负责人",
        "endsOn": (timezone.localdate() + timedelta(days=365)).isoformat()}})
    payload = result["data"]["grantRole"]
    assert payload["errors"] == [] and payload["roleBinding"]["grantedBy"] == "bureau_a"
    assert payload["roleBinding"]["active"] is True
    refused = gql.operation("RoleGrant", {"input": {"username": "newcomer", "role": "BUREAU_MANAGER",
                                                   "jurisdictionCode": "330100", "reason": "x"}})
    assert [e["code"] for e in refused["data"]["grantRole"]["errors"]] == ["PERMISSION_DENIED"]
    listed = gql.operation("RoleBindings", {"first": 50})["data"]["roleBindings"]
    names = {(e["node"]["username"], e["node"]["role"]) for e in listed["edges"]}
    assert ("newcomer", "BUREAU_MANAGER") in names and ("staff_a", "AGENCY_STAFF") in names
    assert ("staff_b", "AGENCY_STAFF") not in names  # another city's people are not listed
    revoked = gql.operation("RoleRevoke", {"input": {"roleBindingId": payload["roleBinding"]["id"],
                                                    "reason": "任期结束"}})["data"]["revokeRole"]
    assert revoked["errors"] == [] and revoked["roleBinding"]["active"] is False
    gql.login(world["users"]["bureau_b"])
    other = gql.operation("RoleRevoke", {"input": {"roleBindingId": payload["roleBinding"]["id"], "reason": "x"}})
    assert [e["code"] for e in other["data"]["revokeRole"]["errors"]] == ["NOT_FOUND"]


def test_admin_grants_and_revokes_through_the_service(world, client):
    bureau = world["users"]["bureau_a"]
    bureau.is_staff = True
    bureau.save()
    client.force_login(bureau)
    assert client.get("/admin/regions/rolebinding/add/").status_code == 200
    refused = client.post("/admin/regions/rolebinding/add/", {
        "user": world["newcomer"].pk, "role": "bureau_manager", "jurisdiction": world["city_b"].pk, "reason": "x"})
    assert refused.status_code == 200 and not RoleBinding.objects.filter(user=world["newcomer"]).exists()
    done = client.post("/admin/regions/rolebinding/add/", {
        "user": world["newcomer"].pk, "role": "agency_staff", "agency": world["agency_a"].pk, "reason": "新到岗"})
    assert done.status_code == 302, done.content.decode()[:2000]
    binding = RoleBinding.objects.get(user=world["newcomer"])
    assert binding.granted_by == bureau
    assert AuditEvent.objects.filter(action="role.granted", object_id=str(binding.pk)).exists()
    assert client.get("/admin/regions/rolebinding/").status_code == 200
    done = client.post(f"/admin/regions/rolebinding/{binding.pk}/change/", {"revoke_reason": "离岗"})
    assert done.status_code == 302
    binding.refresh_from_db()
    assert binding.revoked_by == bureau and binding.revoke_reason == "离岗"


def test_workbench_roles_page_grants_and_revokes(world, client):
    bureau = world["users"]["bureau_a"]
    client.force_login(bureau)
    page = client.get("/roles/")
    assert page.status_code == 200 and "grant-form" in page.content.decode()
    bad = client.post("/roles/grant/", {"username": "newcomer", "role": "agency_staff",
                                        "scope": f"agency:{world['agency_a'].pk}", "reason": ""})
    assert bad.status_code == 400 and "errors-reason" in bad.content.decode()
    ok = client.post("/roles/grant/", {"username": "newcomer", "role": "agency_staff",
                                       "scope": f"agency:{world['agency_a'].pk}", "reason": "新到岗"})
    assert ok.status_code == 302
    binding = RoleBinding.objects.get(user=world["newcomer"])
    assert client.post(f"/roles/{binding.pk}/revoke/", {"reason": ""}).status_code == 400
    assert client.post(f"/roles/{binding.pk}/revoke/", {"reason": "调离"}).status_code == 302
    assert RoleBinding.objects.active().filter(user=world["newcomer"]).count() == 0
    client.force_login(world["users"]["staff_a"])
    assert "grant-form" not in client.get("/roles/").content.decode()
