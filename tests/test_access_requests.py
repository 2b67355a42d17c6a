"""Access requests: a person asks for a role with a reason, the granters nearest the scope are notified, one
decides with a reason (a grant binds the role through the roles service); a deadline and light like a step."""
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from kernel.errors import InvalidState, NotAuthenticated, PermissionDenied, ValidationFailed
from kernel.models import AuditEvent
from notifications.models import Notification
from regions.models import AccessRequest, RoleBinding
from regions.permissions import get_principal
from regions.services import access
from tests import factories as f


@pytest.fixture
def world(region_world):
    w = region_world
    w["standard_set"] = f.StandardSetFactory(region=w["region"], access_request_working_days=2)
    w["deputy"] = f.UserFactory(username="deputy")
    return w


def ask(user, role, **scope):
    with transaction.atomic():
        return access.request_access(user, role=role, reason="分管资产处，需审批权限", **scope)


def test_a_deputy_asks_the_bureau_is_notified_and_grants(world):
    deputy, bureau = world["deputy"], world["users"]["bureau_a"]
    request = ask(deputy, "deputy_bureau_manager", jurisdiction=world["city_a"])
    assert request.status == "pending" and request.light == "green"
    assert request.due_at > request.yellow_at > request.created_at
    # the nearest granter is notified (the city's bureau manager, not the other city's, not the coordinator)
    notified = set(Notification.objects.filter(kind="access_requested").values_list("recipient__username", flat=True))
    assert notified == {"bureau_a"}
    assert AuditEvent.objects.get(action="access.notified").after == {"to": ["bureau_a"]}
    with pytest.raises(PermissionDenied), transaction.atomic():
        access.decide_access(world["users"]["bureau_b"], request, grant=True, reason="x")
    with pytest.raises(ValidationFailed), transaction.atomic():
        access.decide_access(bureau, request, grant=True, reason="")
    with transaction.atomic():
        decided = access.decide_access(bureau, request, grant=True, reason="同意，分管资产处")
    assert decided.status == "granted" and decided.decided_by == bureau
    assert decided.binding.role == "deputy_bureau_manager"
    assert decided.binding.granted_by == bureau and decided.binding.reason == "同意，分管资产处"
    assert world["city_a"].pk in get_principal(type(deputy).objects.get(pk=deputy.pk)).bureau_jurisdictions
    assert Notification.objects.filter(kind="access_granted", recipient=deputy).exists()
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions.index("access.requested") < actions.index("role.granted") < actions.index("access.granted")
    with pytest.raises(InvalidState), transaction.atomic():
        access.decide_access(bureau, request, grant=False, reason="again")


def test_a_request_nobody_below_may_grant_goes_to_the_coordinator(world):
    request = ask(world["deputy"], "bureau_manager", jurisdiction=world["city_a"])
    notified = set(Notification.objects.filter(kind="access_requested").values_list("recipient__username", flat=True))
    assert notified == {"coordinator"}  # a bureau manager never grants a peer beside it
    with transaction.atomic():
        refused = access.decide_access(world["users"]["coordinator"], request, grant=False, reason="人选未定")
    assert refused.status == "refused" and not RoleBinding.objects.filter(user=world["deputy"]).exists()
    assert Notification.objects.get(kind="access_refused").recipient == world["deputy"]


def test_refusals_of_asking(world):
    deputy = world["deputy"]
    with pytest.raises(ValidationFailed), transaction.atomic():
        access.request_access(deputy, role="agency_staff", agency=world["agency_a"], reason=" ")
    ask(deputy, "agency_staff", agency=world["agency_a"])
    with pytest.raises(InvalidState):
        ask(deputy, "agency_staff", agency=world["agency_a"])  # already asked
    with pytest.raises(InvalidState):
        ask(world["users"]["staff_a"], "agency_staff", agency=world["agency_a"])  # already held
    with pytest.raises(PermissionDenied):
        ask(world["users"]["outsider"], "agency_staff", agency=world["agency_a"])  # another region's official
    token_user = world["users"]["bureau_a"]
    from regions.permissions import principal_for_token
    from regions.services import tokens

    with transaction.atomic():
        token, _key = tokens.create_token(token_user, world["city_a"], name="erp")
    token_user._principal = principal_for_token(token)
    with pytest.raises(NotAuthenticated):
        ask(token_user, "agency_staff", agency=world["agency_b"])


def test_queue_orders_by_deadline_with_the_light_in_sql(world):
    first = ask(world["deputy"], "agency_staff", agency=world["agency_a"])
    second = ask(f.UserFactory(username="other"), "deputy_bureau_manager", jurisdiction=world["city_a"])
    AccessRequest.objects.filter(pk=first.pk).update(due_at=timezone.now() - timedelta(minutes=1),
                                                     yellow_at=timezone.now() - timedelta(hours=1),
                                                     created_at=timezone.now() - timedelta(days=3))
    from regions.selectors import access_requests_to_decide

    rows = list(access_requests_to_decide(world["users"]["bureau_a"]))
    assert [(r.pk, r.light_now) for r in rows] == [(first.pk, "red"), (second.pk, "green")]
    assert list(access_requests_to_decide(world["users"]["bureau_b"])) == []
    assert list(access_requests_to_decide(world["users"]["coordinator"])) == rows


def test_graphql_ask_decide_withdraw(world, gql):
    gql.login(world["deputy"])
    asked = gql.operation("AccessRequest", {"input": {"role": "DEPUTY_BUREAU_MANAGER", "jurisdictionCode": "310000",
                                                      "reason": "分管资产处"}})["data"]["requestAccess"]
    assert asked["errors"] == [] and asked["accessRequest"]["light"] == "GREEN"
    mine = gql.operation("AccessRequests", {"first": 10})["data"]["accessRequests"]
    assert mine["totalCount"] == 1
    gql.login(world["users"]["bureau_a"])
    queue = gql.operation("AccessRequests", {"toDecide": True, "first": 10})["data"]["accessRequests"]
    assert [e["node"]["requester"] for e in queue["edges"]] == ["deputy"]
    decided = gql.operation("AccessDecide", {"input": {"accessRequestId": asked["accessRequest"]["id"], "grant": True,
                                                       "reason": "同意"}})["data"]["decideAccessRequest"]
    assert decided["errors"] == [] and decided["accessRequest"]["binding"]["active"] is True
    gql.login(world["deputy"])
    again = gql.operation("AccessWithdraw", {"input": {"accessRequestId": asked["accessRequest"]["id"]}})
    assert [e["code"] for e in again["data"]["withdrawAccessRequest"]["errors"]] == ["INVALID_STATE"]


def test_workbench_ask_and_decide(world, client):
    client.force_login(world["deputy"])
    page = client.get("/roles/")
    assert page.status_code == 200 and "ask-form" in page.content.decode()
    bad = client.post("/roles/ask/", {"role": "deputy_bureau_manager", "scope": f"jurisdiction:{world['city_a'].pk}",
                                      "reason": ""})
    assert bad.status_code == 400 and "errors-reason" in bad.content.decode()
    assert client.post("/roles/ask/", {"role": "deputy_bureau_manager", "reason": "分管",
                                       "scope": f"jurisdiction:{world['city_a'].pk}"}).status_code == 302
    request = AccessRequest.objects.get()
    client.force_login(world["users"]["bureau_a"])
    assert f'id="access-{request.pk}"' in client.get("/roles/").content.decode()
    assert client.post(f"/roles/requests/{request.pk}/decide/", {"decision": "grant", "reason": ""}).status_code == 400
    assert client.post(f"/roles/requests/{request.pk}/decide/",
                       {"decision": "grant", "reason": "同意"}).status_code == 302
    request.refresh_from_db()
    assert request.status == "granted"
