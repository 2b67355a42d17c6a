"""Idempotency keys on the mutations that move a transfer on, post money or send mail: the same call made
five times with one key changes things once and returns the first result each time; the key with another
input is DUPLICATE."""
import pytest
from django.core import mail

from exchange.models import Asset, Transfer
from kernel.models import AuditEvent
from reports.models import ReportJob
from tests import factories_exchange as fx
from tests.factories import gid
from tests.test_exchange_services import approve_all, request

TIMES = 5


@pytest.fixture
def world(region_world):
    region_world["standards"] = fx.standard_set(region_world["region"], own_window_days=0)
    return region_world


def five_times(gql, operation, variables, name):
    results = [gql.operation(operation, variables) for _ in range(TIMES)]
    for result in results:
        assert "errors" not in result, result
    payloads = [r["data"][name] for r in results]
    assert [p["replayed"] for p in payloads] == [False] + [True] * (TIMES - 1)
    first = {k: v for k, v in payloads[0].items() if k != "replayed"}
    assert first["errors"] == []
    for later in payloads[1:]:
        assert {k: v for k, v in later.items() if k != "replayed"} == first
    return first


def test_decide_approval_five_times_decides_once(gql, world):
    _, transfer = request(world, fx.open_listing(world))
    step = transfer.steps.get(kind="receiving_bureau")
    gql.login(world["users"]["bureau_b"])
    mail.outbox.clear()
    variables = {"input": {"stepId": gid(step), "approve": True, "idempotencyKey": "decide-1"}}
    first = five_times(gql, "DecideApproval", variables, "decideApproval")
    assert first["step"]["decision"] == "APPROVED"
    assert AuditEvent.objects.filter(action="approval.approved", object_id=str(step.pk)).count() == 1
    sent = len(mail.outbox)
    other = gql.operation("DecideApproval", {"input": {"stepId": gid(step), "approve": False, "reason": "x",
                                                        "idempotencyKey": "decide-1"}})["data"]["decideApproval"]
    assert [e["code"] for e in other["errors"]] == ["DUPLICATE"] and len(mail.outbox) == sent


def test_confirm_handover_five_times_moves_ownership_once(gql, world):
    _, transfer = request(world, fx.open_listing(world))
    approve_all(world, transfer)
    assets_before = Asset.objects.count()
    gql.login(world["users"]["staff_b"])
    variables = {"input": {"transferId": gid(transfer), "receivedQuantity": 1, "receivedCondition": "GOOD",
                           "idempotencyKey": "handover-1"}}
    first = five_times(gql, "ConfirmHandover", variables, "confirmHandover")
    assert first["transfer"]["status"] == "COMPLETED" and first["transfer"]["receivedAsset"]["id"]
    assert Asset.objects.count() == assets_before + 1
    assert AuditEvent.objects.filter(action="transfer.completed").count() == 1
    assert Transfer.objects.get(pk=transfer.pk).status == Transfer.Status.COMPLETED


def test_request_report_five_times_queues_one_job(gql, world, django_capture_on_commit_callbacks):
    gql.login(world["users"]["auditor"])
    variables = {"kind": "SCORECARD", "regionCode": world["region"].code, "idempotencyKey": "report-1"}
    with django_capture_on_commit_callbacks(execute=False):
        first = five_times(gql, "ReportRequest", variables, "requestReport")
    assert first["job"]["kind"] == "SCORECARD"
    assert ReportJob.objects.count() == 1 and gid(ReportJob.objects.get()) == first["job"]["id"]
    other = gql.operation("ReportRequest", {**variables, "kind": "ALLOCATION_REPORT"})["data"]["requestReport"]
    assert other["job"] is None and [e["code"] for e in other["errors"]] == ["DUPLICATE"]
    assert ReportJob.objects.count() == 1
