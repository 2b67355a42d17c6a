"""Loans (借管还): offered, requested, approved in parallel by both bureaus, handed out, due with lights
(yellow, red when overdue, each notified once), returned with the condition, fee posted to the ledger;
ownership never moves. The clock is moved by the test."""
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone, translation

from exchange.models import ApprovalStep, Asset
from kernel.errors import InvalidState, PermissionDenied, ValidationFailed
from ledger.models import JournalTransaction
from lifecycle.models import Loan
from lifecycle.services import loans
from notifications.models import Notification
from regions.models import AssetClassNorm
from tests import factories_exchange as fx

FLOW = """query { loans { edges { node { pk status light fee lenderDecision borrowerDecision } } } }"""


@pytest.fixture
def world(region_world):
    ss = fx.standard_set(region_world["region"])
    AssetClassNorm.objects.filter(standard_set=ss).update(loan_fee_per_day=Decimal("12.50"))
    return region_world


def atomic(call, *args, **kwargs):
    with transaction.atomic():
        return call(*args, **kwargs)


def out_loan(world, days=9, quantity=2):
    u = world["users"]
    asset = fx.asset(world["agency_a"], quantity=3)
    offer = atomic(loans.offer_for_loan, u["staff_a"], asset=asset, max_days=30)
    loan = atomic(loans.request_loan, u["staff_b"], offer=offer, borrower=world["agency_b"], quantity=quantity,
                  days=days, reason="会议期间临时使用")
    atomic(loans.decide_loan, u["bureau_b"], loan, approve=True)
    loan = atomic(loans.decide_loan, u["bureau_a"], loan, approve=True)
    assert loan.status == Loan.Status.APPROVED
    return atomic(loans.confirm_handout, u["staff_b"], loan), asset


def test_a_loan_goes_out_turns_red_comes_back_and_posts_its_fee(world, monkeypatch):
    u = world["users"]
    loan, asset = out_loan(world)
    assert loan.light_at() == "green" and loan.due_at - loan.out_at == timedelta(days=9)
    assert loans.send_loan_lights() == 0
    assert loans.send_loan_lights(now=loan.yellow_at + timedelta(minutes=1)) == 1
    assert loans.send_loan_lights(now=loan.yellow_at + timedelta(hours=1)) == 0  # once per light
    late = loan.due_at + timedelta(days=2, hours=3)
    assert loans.send_loan_lights(now=late) == 1 and loans.send_loan_lights(now=late) == 0
    assert sorted(Notification.objects.filter(recipient=u["staff_b"]).values_list("kind", flat=True)) == [
        "loan_due", "loan_overdue"]
    assert Notification.objects.filter(recipient=u["staff_a"], kind="loan_overdue").exists()  # the lender too
    loan.refresh_from_db()
    assert loan.light_at(late) == "red"
    monkeypatch.setattr(timezone, "now", lambda: late)
    with pytest.raises(PermissionDenied), transaction.atomic():
        loans.confirm_return(u["staff_b"], loan, condition="good")  # only the owner confirms the return
    loan = atomic(loans.confirm_return, u["staff_a"], loan, condition="fair")
    assert loan.status == "returned" and loan.fee == Decimal("12.50") * 2 * 12  # 11 days 3 h → 12 started days
    txn = JournalTransaction.objects.get(kind="loan_fee")
    legs = {(leg.account.jurisdiction.code, leg.side): leg.amount
            for leg in txn.legs.select_related("account__jurisdiction")}
    assert legs == {("330100", "debit"): Decimal("300.00"), ("310000", "credit"): Decimal("300.00")}
    asset.refresh_from_db()
    assert asset.agency == world["agency_a"] and asset.quantity == 3 and asset.condition == "fair"  # never moves
    assert Asset.objects.count() == 1
    assert Notification.objects.filter(recipient=u["staff_b"], kind="loan_returned").exists()


def test_any_refusal_ends_the_loan_and_each_bureau_decides_only_its_side(world):
    u = world["users"]
    offer = atomic(loans.offer_for_loan, u["staff_a"], asset=fx.asset(world["agency_a"]))
    loan = atomic(loans.request_loan, u["staff_b"], offer=offer, borrower=world["agency_b"], quantity=1, days=5,
                  reason="借用")
    for refused in (u["staff_a"], u["outsider"], u["coordinator"]):
        with pytest.raises(PermissionDenied), transaction.atomic():
            loans.decide_loan(refused, loan, approve=True)
    atomic(loans.decide_loan, u["bureau_a"], loan, approve=True)
    with pytest.raises(InvalidState), transaction.atomic():
        loans.decide_loan(u["bureau_a"], loan, approve=True)
    with pytest.raises(ValidationFailed), transaction.atomic():
        loans.decide_loan(u["bureau_b"], loan, approve=False)
    loan = atomic(loans.decide_loan, u["bureau_b"], loan, approve=False, reason="预算不足")
    assert loan.status == "refused"
    with pytest.raises(InvalidState), transaction.atomic():
        loans.confirm_handout(u["staff_b"], loan)


def test_request_validation(world):
    u = world["users"]
    offer = atomic(loans.offer_for_loan, u["staff_a"], asset=fx.asset(world["agency_a"], quantity=2), max_days=10)
    for bad, field in [({"days": 11}, "days"), ({"quantity": 3}, "quantity"), ({"reason": " "}, "reason")]:
        kwargs = {"quantity": 1, "days": 5, "reason": "借用", **bad}
        with pytest.raises(ValidationFailed) as exc, transaction.atomic():
            loans.request_loan(u["staff_b"], offer=offer, borrower=world["agency_b"], **kwargs)
        assert exc.value.field == field
    with pytest.raises(ValidationFailed), transaction.atomic():
        loans.request_loan(u["staff_a"], offer=offer, borrower=world["agency_a"], quantity=1, days=1, reason="x")
    with pytest.raises(InvalidState), transaction.atomic():
        loans.offer_for_loan(u["staff_a"], asset=offer.asset)  # already offered
    assert not Loan.objects.exists()


def test_graphql_and_page_show_the_light(world, gql, client, monkeypatch):
    loan, _asset = out_loan(world, days=3)
    monkeypatch.setattr(timezone, "now", lambda: loan.due_at + timedelta(hours=1))
    node = gql.login(world["users"]["staff_b"]).execute(FLOW)["data"]["loans"]["edges"][0]["node"]
    assert node == {"pk": loan.pk, "status": "OUT", "light": "RED", "fee": None, "lenderDecision": "APPROVED",
                    "borrowerDecision": "APPROVED"}
    assert gql.login(world["users"]["outsider"]).execute(FLOW)["data"]["loans"]["edges"] == []
    client.force_login(world["users"]["staff_a"])
    html = client.get("/lifecycle/loans/").content.decode()
    assert "light-red" in html
    assert client.post(f"/lifecycle/loans/{loan.pk}/return/", {"condition": "good"}).status_code == 302
    loan.refresh_from_db()
    assert loan.status == "returned" and loan.fee == Decimal("12.50") * 2 * 4


APPROVAL = """query { loans { edges { node { pk status approvalLight approvalDueAt } } } }"""


def test_loan_approval_has_the_working_day_deadline_and_lights_of_a_transfer_step(world, gql, monkeypatch):
    u = world["users"]
    opened = datetime(2025, 9, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # before the National Day holiday
    monkeypatch.setattr(timezone, "now", lambda: opened)
    offer = atomic(loans.offer_for_loan, u["staff_a"], asset=fx.asset(world["agency_a"]))
    loan = atomic(loans.request_loan, u["staff_b"], offer=offer, borrower=world["agency_b"], quantity=1, days=5,
                  reason="借用")
    # 5 working days: Oct 1-8 off, Saturday Oct 11 worked (调休) → Tuesday Oct 14, as an approval step
    assert loan.approval_due_at == datetime(2025, 10, 14, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert ApprovalStep.schedule(opened, loan.approval_due_at)["yellow_at"] == loan.approval_yellow_at
    assert loan.approval_light_at() == "green" and loan.light_now == "green"
    opened_notes = Notification.objects.filter(kind="loan_approval_opened")
    assert sorted(opened_notes.values_list("recipient__username", flat=True)) == ["bureau_a", "bureau_b"]

    assert loans.send_loan_approval_lights(now=loan.approval_yellow_at - timedelta(minutes=1)) == 0
    yellow = loan.approval_yellow_at + timedelta(minutes=1)
    assert loans.send_loan_approval_lights(now=yellow) == 1
    assert loans.send_loan_approval_lights(now=yellow) == 0  # once per light
    assert Notification.objects.filter(kind="loan_approval_yellow").count() == 2
    atomic(loans.decide_loan, u["bureau_a"], loan, approve=True)
    late = loan.approval_due_at + timedelta(hours=1)
    monkeypatch.setattr(timezone, "now", lambda: late)
    node = gql.login(u["bureau_b"]).execute(APPROVAL)["data"]["loans"]["edges"][0]["node"]
    assert (node["status"], node["approvalLight"]) == ("REQUESTED", "RED")
    assert loans.send_loan_approval_lights() == 1 and loans.send_loan_approval_lights() == 0
    red = Notification.objects.filter(kind="loan_approval_red")
    assert list(red.values_list("recipient__username", flat=True)) == ["bureau_b"]  # only the side still to decide
    with translation.override("en"):
        assert red.get().message == (f"Red light: your approval of loan #{loan.pk} ({offer.asset.description}) was "
                                     f"due on 2025-10-14 10:00.")
    loan = atomic(loans.decide_loan, u["bureau_b"], loan, approve=True)
    assert loan.status == "approved" and loan.approval_light_at() is None
    assert loans.send_loan_approval_lights(now=late + timedelta(days=30)) == 0
