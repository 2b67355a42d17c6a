"""Separation of duties in approvals (the service enforces it, every door inherits it): no one approves a
request or listing they made, no one decides two steps of the same transfer — in person or through their API
tokens —, and between two agencies of one jurisdiction its bureau decides once. The refusals by role of these
rules are rows of the authorization matrix (tests/auth_matrix_cases.py DUTY_CASES)."""
import pytest
from django.db import transaction

from exchange.models import ApprovalStep, Transfer
from exchange.services import approvals
from kernel.errors import PermissionDenied
from regions.models import RoleBinding, StandardSet
from regions.services import tokens
from tests import factories as f
from tests import factories_exchange as fx
from tests.conftest import OPERATIONS
from tests.factories import gid
from tests.test_exchange_services import request


@pytest.fixture
def world(region_world):
    fx.standard_set(region_world["region"], own_window_days=0, threshold="1.00")  # every transfer: 3 steps
    return region_world


def test_one_person_decides_at_most_one_step_whatever_roles_they_hold(world):
    coordinator = world["users"]["coordinator"]
    RoleBinding.objects.create(user=coordinator, role="bureau_manager", jurisdiction=world["city_a"])
    _, transfer = request(world, fx.open_listing(world))
    assert sorted(transfer.steps.values_list("kind", flat=True)) == ["coordinator", "giving_bureau",
                                                                      "receiving_bureau"]
    approvals.decide_step(coordinator, transfer.steps.get(kind="giving_bureau"), approve=True)
    coordinator = type(coordinator).objects.get(pk=coordinator.pk)
    step = transfer.steps.get(kind="coordinator")
    for approve, reason in ((True, ""), (False, "不同意")):  # refusing a second step is deciding it too
        with pytest.raises(PermissionDenied) as refused:
            approvals.decide_step(coordinator, step, approve=approve, reason=reason)
        assert refused.value.field == "step_id" and "另一" in refused.value.message
    step.refresh_from_db()
    assert step.decision == ApprovalStep.Decision.PENDING
    approvals.decide_step(world["users"]["bureau_b"], transfer.steps.get(kind="receiving_bureau"), approve=True)
    other = f.user_with_role("coordinator", world["region"], "coordinator_2")
    approvals.decide_step(other, step, approve=True)
    assert Transfer.objects.get(pk=transfer.pk).status == Transfer.Status.HANDOVER


def test_a_token_acts_as_its_creator_for_separation_of_duties(world, gql):
    """A person who decided one step in person cannot decide the next through a write token they made."""
    both = f.user_with_role("bureau_manager", world["city_a"], "bureau_both")
    RoleBinding.objects.create(user=both, role="bureau_manager", jurisdiction=world["city_b"])
    _, transfer = request(world, fx.open_listing(world))
    approvals.decide_step(both, transfer.steps.get(kind="giving_bureau"), approve=True)
    with transaction.atomic():
        _token, key = tokens.create_token(both, world["city_b"], name="杭州系统", can_write=True)
    step = transfer.steps.get(kind="receiving_bureau")
    result = gql.token(key).operation("DecideApproval", {"input": {"stepId": gid(step), "approve": True}})
    errors = result["data"]["decideApproval"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [("PERMISSION_DENIED", "stepId")], result
    assert ApprovalStep.objects.get(pk=step.pk).decision == ApprovalStep.Decision.PENDING


def test_the_requester_may_refuse_but_not_approve_its_own_request(world):
    """Approving one's own request is what the rule forbids; refusing it ends it, like withdrawing it."""
    bureau_b = world["users"]["bureau_b"]
    _, transfer = request(world, fx.open_listing(world), user="bureau_b")
    step = transfer.steps.get(kind="receiving_bureau")
    with pytest.raises(PermissionDenied) as refused:
        approvals.decide_step(bureau_b, step, approve=True)
    assert "由您本人提出" in refused.value.message
    approvals.decide_step(bureau_b, step, approve=False, reason="已不需要")
    assert Transfer.objects.get(pk=transfer.pk).status == Transfer.Status.REFUSED


def test_the_message_is_translated(world, gql):
    both = f.user_with_role("bureau_manager", world["city_a"], "bureau_both")
    RoleBinding.objects.create(user=both, role="bureau_manager", jurisdiction=world["city_b"])
    _, transfer = request(world, fx.open_listing(world))
    approvals.decide_step(both, transfer.steps.get(kind="giving_bureau"), approve=True)
    gql.login(both)
    step = transfer.steps.get(kind="receiving_bureau")
    query = (OPERATIONS / "DecideApproval.graphql").read_text(encoding="utf-8")
    variables = {"input": {"stepId": gid(step), "approve": True}}
    for language, words in (("en", "different person"), ("zh-hans", "不同的人")):
        response = gql.client.post("/graphql/", {"query": query, "variables": variables},
                                   content_type="application/json", HTTP_ACCEPT_LANGUAGE=language)
        assert words in response.json()["data"]["decideApproval"]["errors"][0]["message"]


def test_within_one_jurisdiction_its_bureau_decides_once(world):
    """Two agencies of Shanghai: one bureau step (not a giving and a receiving step of the same bureau)."""
    agency_a2 = f.AgencyFactory(jurisdiction=world["city_a"], name_zh="上海乙单位")
    world["users"]["staff_a2"] = f.user_with_role("agency_staff", agency_a2, "staff_a2")
    world["agency_a2"] = agency_a2
    StandardSet.objects.filter(region=world["region"]).update(coordinator_threshold="50000.00")  # no coordinator
    _, transfer = request(world, fx.open_listing(world), user="staff_a2", agency="agency_a2")
    assert list(transfer.steps.values_list("kind", "jurisdiction__code")) == [("giving_bureau", "310000")]
    approvals.decide_step(world["users"]["bureau_a"], transfer.steps.get(), approve=True)
    assert Transfer.objects.get(pk=transfer.pk).status == Transfer.Status.HANDOVER
