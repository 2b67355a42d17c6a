"""Accountability at every stage: a request pending allocation, each approval step, the handover, each
settlement payment and each access request open a duty with a working-day time limit from the standard in
force and a light; the stage's authority claims it (首接负责) or the bureau assigns it; it shows on the step,
in the queue and on the certificate; overdue, it escalates to the region's coordinators once."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from exchange.models import ApprovalStep
from exchange.services import allocation, handover
from kernel import deadlines
from kernel.errors import InvalidState, PermissionDenied, ValidationFailed
from kernel.models import AuditEvent
from kernel.workdays import add_working_days
from ledger.models import PaymentInstruction, SettlementPeriod
from ledger.services import posting, settlement
from notifications.models import Notification
from regions.models import AllocationMode, Duty, Role
from regions.services import access, duties
from tests import factories as f
from tests import factories_exchange as fx
from tests.factories import gid
from tests.test_exchange_services import approve_all, request

Stage = Duty.Stage


@pytest.fixture
def world(region_world):
    fx.standard_set(region_world["region"], own_window_days=0, approval_working_days=4, handover_working_days=7,
                    allocation_working_days=2, payment_working_days=6, access_request_working_days=3)
    region_world["listing"] = fx.open_listing(region_world)
    return region_world


def transfer_of(world):
    with transaction.atomic():
        return request(world, world["listing"])[1]


def duty(subject, stage):
    return duties.duty_of(subject, stage)


def test_each_stage_of_a_transfer_opens_and_closes_its_duty_with_the_standards_days(world):
    transfer = transfer_of(world)
    allocation_duty = duty(transfer.request, Stage.ALLOCATION)
    assert allocation_duty.closed_at is not None  # first come: allocated at once, the stage is over
    steps = list(transfer.steps.order_by("kind"))
    for step in steps:
        d = duty(step, Stage.APPROVAL)
        assert (d.opened_at, d.yellow_at, d.due_at) == (step.opened_at, step.yellow_at, step.due_at)
        assert d.due_at == add_working_days(step.opened_at, 4) and d.light == "green" and d.closed_at is None
        assert d.jurisdiction_id == step.jurisdiction_id and d.responsible is None
    assert duty(transfer, Stage.HANDOVER) is None  # not approved yet
    transfer = approve_all(world, transfer)
    assert all(duty(step, Stage.APPROVAL).closed_at is not None for step in steps)
    h = duty(transfer, Stage.HANDOVER)
    assert h.due_at == add_working_days(h.opened_at, 7) and h.agency_id == transfer.receiver_id
    assert h.yellow_at == deadlines.yellow_from(h.opened_at, h.due_at)
    with transaction.atomic():
        handover.confirm_handover(world["users"]["staff_b"], transfer, received_quantity=1, received_condition="good")
    assert duty(transfer, Stage.HANDOVER).closed_at is not None


def test_a_request_pending_allocation_has_a_deadline_after_its_window(region_world):
    fx.standard_set(region_world["region"], mode=AllocationMode.WINDOW_CLOSE, own_window_days=0,
                    allocation_working_days=2)
    listing = fx.open_listing(region_world)
    with transaction.atomic():
        req, transfer = request(region_world, listing)
    assert transfer is None
    d = duty(req, Stage.ALLOCATION)
    assert d.due_at == add_working_days(listing.region_window_ends_at, 2)
    assert d.jurisdiction_id == listing.jurisdiction_id
    assert d.light == "green" and deadlines.light(d.yellow_at, d.due_at, d.due_at) == "red"
    with transaction.atomic():
        allocation.allocate_at_window_close(listing, None, now=listing.region_window_ends_at + timedelta(minutes=1))
    assert duty(req, Stage.ALLOCATION).closed_at is not None


def test_the_steps_authority_claims_it_first_come_and_nobody_else(world):
    u = world["users"]
    transfer = transfer_of(world)
    giving = transfer.steps.get(kind="giving_bureau")
    d = duty(giving, Stage.APPROVAL)
    for outsider in ("bureau_b", "staff_a", "auditor", "outsider"):
        with pytest.raises(PermissionDenied), transaction.atomic():
            duties.claim(u[outsider], d)
    with transaction.atomic():
        duties.claim(u["bureau_a"], d)
    d.refresh_from_db()
    assert d.responsible == u["bureau_a"] and d.assigned_by is None and d.responsible_since is not None
    deputy = f.user_with_role(Role.DEPUTY_BUREAU_MANAGER, world["city_a"], "deputy_a")
    with pytest.raises(InvalidState), transaction.atomic():
        duties.claim(deputy, d)  # already taken on: first come (首接负责)
    event = AuditEvent.objects.get(action="duty.claimed")
    assert event.actor == u["bureau_a"] and event.transfer_id == transfer.pk  # on the transfer's trail
    with transaction.atomic():
        approve_all(world, transfer)
    with pytest.raises(InvalidState), transaction.atomic():
        duties.claim(u["bureau_b"], duty(transfer.steps.get(kind="receiving_bureau"), Stage.APPROVAL))  # over


def test_the_bureau_manager_assigns_to_someone_who_decides_the_stage(world):
    u = world["users"]
    transfer = transfer_of(world)
    d = duty(transfer.steps.get(kind="receiving_bureau"), Stage.APPROVAL)
    deputy = f.user_with_role(Role.DEPUTY_BUREAU_MANAGER, world["city_b"], "deputy_b")
    with pytest.raises(ValidationFailed), transaction.atomic():
        duties.assign(u["bureau_b"], d, u["staff_b"])  # agency staff do not decide approvals
    with pytest.raises(PermissionDenied), transaction.atomic():
        duties.assign(u["bureau_a"], d, deputy)  # beside, not above
    with pytest.raises(PermissionDenied), transaction.atomic():
        duties.assign(deputy, d, deputy)  # a deputy does not assign
    with transaction.atomic():
        duties.assign(u["bureau_b"], d, deputy, reason="分管领导")
    d.refresh_from_db()
    assert d.responsible == deputy and d.assigned_by == u["bureau_b"]
    assert Notification.objects.filter(recipient=deputy, kind="duty_assigned").count() == 1
    event = AuditEvent.objects.get(action="duty.assigned")
    assert event.after["responsible"] == "deputy_b" and event.after["reason"] == "分管领导"
    with transaction.atomic():
        duties.assign(u["coordinator"], d, u["bureau_b"])  # the coordinator may reassign within the region
    d.refresh_from_db()
    assert d.responsible == u["bureau_b"]


def test_overdue_stages_escalate_to_the_coordinator_once(world):
    u = world["users"]
    transfer = transfer_of(world)
    step = transfer.steps.get(kind="giving_bureau")
    with transaction.atomic():
        duties.claim(u["bureau_a"], duty(step, Stage.APPROVAL))
    assert duties.escalate_overdue(now=step.yellow_at) == 0
    assert duties.escalate_overdue(now=step.due_at + timedelta(minutes=1)) == 2  # both bureaus' steps
    assert duties.escalate_overdue(now=step.due_at + timedelta(days=3)) == 0  # once
    notes = Notification.objects.filter(kind="duty_escalated")
    assert set(notes.values_list("recipient__username", flat=True)) == {"coordinator"} and notes.count() == 2
    event = AuditEvent.objects.filter(action="duty.escalated", transfer=transfer).get(object_id=str(
        duty(step, Stage.APPROVAL).pk))
    assert event.after["to"] == ["coordinator"] and event.after["responsible"] == "bureau_a"
    decided = transfer.steps.get(kind="receiving_bureau")
    with transaction.atomic():
        from exchange.services.approvals import decide_step

        decide_step(u["bureau_b"], decided, approve=True)
    assert duty(decided, Stage.APPROVAL).escalated_at is not None and duty(decided, Stage.APPROVAL).light is None


def test_settlement_payments_and_access_requests_have_duties(world):
    region, u = world["region"], world["users"]
    a = posting.compensation_account(region, world["city_a"])
    b = posting.compensation_account(region, world["city_b"])
    with transaction.atomic():
        posting.post(region, on=date(2026, 3, 5), kind="compensation", description="t", key="g1",
                     legs=[(b, "debit", Decimal("100.00")), (a, "credit", Decimal("100.00"))])
        settlement.close_period(u["coordinator"], SettlementPeriod.objects.get(region=region, start=date(2026, 3, 1)))
    instruction = PaymentInstruction.objects.get()
    d = duty(instruction, Stage.PAYMENT)
    assert d.due_at == add_working_days(d.opened_at, 6) and d.jurisdiction_id == instruction.payer.jurisdiction_id
    with pytest.raises(PermissionDenied), transaction.atomic():
        duties.claim(u["bureau_a"], d)  # payments are confirmed by the coordinator
    with transaction.atomic():
        duties.claim(u["coordinator"], d)
        settlement.confirm_payment(u["coordinator"], instruction)
    assert duty(instruction, Stage.PAYMENT).closed_at is not None

    newcomer = f.UserFactory(username="newcomer")
    with transaction.atomic():
        ask = access.request_access(newcomer, role="agency_staff", reason="新入职", agency=world["agency_a"])
    d = duty(ask, Stage.ACCESS)
    assert (d.yellow_at, d.due_at) == (ask.yellow_at, ask.due_at)
    with pytest.raises(PermissionDenied), transaction.atomic():
        duties.claim(u["bureau_b"], d)
    with transaction.atomic():
        duties.claim(u["bureau_a"], d)
        access.decide_access(u["bureau_a"], ask, grant=True, reason="同意")
    assert duty(ask, Stage.ACCESS).closed_at is not None


STAGES = """query($id: ID!) { node(id: $id) { ... on Transfer {
  request { allocationDuty { stage responsible closedAt } }
  steps { kind duty { stage responsible assignedBy dueAt light subjectId } }
  handoverDuty { stage } } } }"""


def test_graphql_claim_assign_and_the_stage_queue(gql, world):
    u = world["users"]
    transfer = transfer_of(world)
    giving = transfer.steps.get(kind="giving_bureau")
    claim = "mutation($id: ID!) { claimStage(input: {id: $id}) { errors { field code } duty { stage responsible } } }"
    refused = gql.login(u["bureau_b"]).execute(claim, {"id": gid(giving)})["data"]["claimStage"]
    assert refused["errors"][0]["code"] == "PERMISSION_DENIED" and refused["duty"] is None
    done = gql.login(u["bureau_a"]).execute(claim, {"id": gid(giving)})["data"]["claimStage"]
    assert done == {"errors": [], "duty": {"stage": "APPROVAL", "responsible": "bureau_a"}}
    bad = gql.execute(claim, {"id": gid(transfer.listing)})["data"]["claimStage"]
    assert bad["errors"][0]["code"] == "NOT_FOUND"

    deputy = f.user_with_role(Role.DEPUTY_BUREAU_MANAGER, world["city_b"], "deputy_b")
    receiving = transfer.steps.get(kind="receiving_bureau")
    assign = ("mutation($id: ID!, $who: String!) { assignStage(input: {id: $id, username: $who, reason: \"分管\"}) "
              "{ errors { field code } duty { responsible assignedBy } } }")
    result = gql.login(u["bureau_b"]).execute(assign, {"id": gid(receiving), "who": "deputy_b"})["data"]["assignStage"]
    assert result == {"errors": [], "duty": {"responsible": "deputy_b", "assignedBy": "bureau_b"}}

    data = gql.login(u["coordinator"]).execute(STAGES, {"id": gid(transfer)})["data"]["node"]
    assert data["request"]["allocationDuty"]["closedAt"] is not None and data["handoverDuty"] is None
    by_kind = {s["kind"]: s["duty"] for s in data["steps"]}
    assert by_kind["GIVING_BUREAU"]["responsible"] == "bureau_a" and by_kind["GIVING_BUREAU"]["light"] == "GREEN"
    assert by_kind["RECEIVING_BUREAU"]["assignedBy"] == "bureau_b"
    assert by_kind["GIVING_BUREAU"]["subjectId"] == gid(giving)

    queue = "{ stageQueue { stage responsible subjectId light } }"
    mine = gql.login(deputy).execute(queue)["data"]["stageQueue"]
    assert [q["subjectId"] for q in mine] == [gid(receiving)]  # their bureau's open stages
    assert {q["subjectId"] for q in gql.login(u["coordinator"]).execute(queue)["data"]["stageQueue"]} == {
        gid(giving), gid(receiving)}
    assert gql.login(u["outsider"]).execute(queue)["data"]["stageQueue"] == []


def test_the_transfer_page_and_the_queue_show_who_answers_and_take_it_on(client, world):
    u = world["users"]
    transfer = transfer_of(world)
    giving = transfer.steps.get(kind="giving_bureau")
    client.force_login(u["bureau_a"])
    page = client.get(f"/transfers/{transfer.pk}/").content.decode()
    assert 'id="stages"' in page and "claim-button" in page and 'data-stage="handover"' not in page
    d = duty(giving, Stage.APPROVAL)
    response = client.post(f"/duties/{d.pk}/claim/", {"next": f"/transfers/{transfer.pk}/"})
    assert response.status_code == 302 and response["Location"] == f"/transfers/{transfer.pk}/"
    page = client.get(f"/transfers/{transfer.pk}/").content.decode()
    assert 'data-responsible="bureau_a"' in page
    queue = client.get("/approvals/").content.decode()
    assert 'data-responsible="bureau_a"' in queue
    stages = client.get("/duties/").content.decode()
    assert f'id="duty-{d.pk}"' in stages and 'data-responsible="bureau_a"' in stages
    assert client.post(f"/duties/{d.pk}/claim/", {"next": "https://evil.example/"})["Location"] == "/duties/"
    client.force_login(u["bureau_b"])
    assert client.post(f"/duties/{d.pk}/claim/").status_code == 404  # not in their scope
    deputy = f.user_with_role(Role.DEPUTY_BUREAU_MANAGER, world["city_b"], "deputy_b")
    other = duty(transfer.steps.get(kind="receiving_bureau"), Stage.APPROVAL)
    client.post(f"/duties/{other.pk}/assign/", {"username": "deputy_b", "reason": "分管"})
    other.refresh_from_db()
    assert other.responsible == deputy and other.assigned_by == u["bureau_b"]


def test_the_certificate_names_the_responsible_persons(world):
    from reports.builders import build_transfer_certificate

    u = world["users"]
    transfer = transfer_of(world)
    with transaction.atomic():
        duties.claim(u["bureau_a"], duty(transfer.steps.get(kind="giving_bureau"), Stage.APPROVAL))
    transfer = approve_all(world, transfer)
    with transaction.atomic():
        duties.claim(u["staff_b"], duty(transfer, Stage.HANDOVER))
        handover.confirm_handover(u["staff_b"], transfer, received_quantity=1, received_condition="good")
    data = build_transfer_certificate(transfer.pk, user=u["coordinator"])
    assert [a.responsible for a in data.approvals] == ["bureau_a", ""]  # giving, receiving bureau (by kind)
    assert data.handover_responsible == "staff_b" and data.handover_due_at is not None
    assert ApprovalStep.objects.filter(transfer=transfer).count() == len(data.approvals)


def test_stage_times_are_ordered_in_the_database(world):
    from django.db import IntegrityError

    transfer = transfer_of(world)
    d = duty(transfer.steps.first(), Stage.APPROVAL)
    with pytest.raises(IntegrityError), transaction.atomic():
        Duty.objects.filter(pk=d.pk).update(due_at=d.opened_at - timedelta(hours=1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Duty.objects.filter(pk=d.pk).update(responsible=world["users"]["bureau_a"], responsible_since=None)
    assert timezone.now() < Duty.objects.get(pk=d.pk).due_at


def test_who_set_the_transfer_in_motion_cannot_take_its_approval_on(world):
    u = world["users"]
    deputy = f.user_with_role(Role.DEPUTY_BUREAU_MANAGER, world["city_b"], "deputy_b")
    with transaction.atomic():
        _req, transfer = request(world, world["listing"], user="bureau_b")  # B's manager asked itself
    d = duty(transfer.steps.get(kind="receiving_bureau"), Stage.APPROVAL)
    with pytest.raises(PermissionDenied), transaction.atomic():
        duties.claim(u["bureau_b"], d)  # separation of duties: another person of the bureau answers for it
    with pytest.raises(ValidationFailed), transaction.atomic():
        duties.assign(u["coordinator"], d, u["bureau_b"])
    with transaction.atomic():
        duties.claim(deputy, d)
    assert duty(transfer.steps.get(kind="receiving_bureau"), Stage.APPROVAL).responsible == deputy
