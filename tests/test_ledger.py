"""Ledger: compensation posting from a real handover, idempotency, balances in SQL, rent task, periods,
and every database invariant attacked with raw SQL (run on SpatiaLite and PostGIS)."""
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from geographiclib.geodesic import Geodesic

from exchange.models import Transfer
from exchange.services import approvals, handover, transfer_requests
from ledger import selectors, services
from ledger.models import (
    Account,
    ClosingBalance,
    CompensationBreakdown,
    JournalTransaction,
    Leg,
    SettlementPeriod,
)
from ledger.services import posting
from tests import factories_exchange as fx

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def world(region_world):
    region_world["standards"] = fx.standard_set(region_world["region"], own_window_days=0)
    return region_world


def complete(world, listing, user="staff_b", agency="agency_b"):
    _, transfer = transfer_requests.create_request(world["users"][user], listing=listing, agency=world[agency],
                                                   quantity=1, justification="新入职人员办公需要",
                                                   exception_requested=True, exception_justification="急需")
    deciders = {"giving_bureau": "bureau_a", "receiving_bureau": "bureau_b", "coordinator": "coordinator"}
    for step in transfer.steps.all():
        approvals.decide_step(world["users"][deciders[step.kind]], step, approve=True)
    transfer.refresh_from_db()
    handover.confirm_handover(world["users"][user], transfer, received_quantity=1, received_condition="good")
    transfer.refresh_from_db()
    return transfer


def test_completing_a_transfer_posts_a_balanced_compensation_with_its_breakdown(world):
    listing = fx.open_listing(world, original_value=Decimal("4500.00"), acquired_on=date(2023, 1, 1))
    transfer = complete(world, listing)
    breakdown = CompensationBreakdown.objects.get(transfer=transfer)
    handover = timezone.localdate(transfer.completed_at)
    years = Decimal((handover - date(2023, 1, 1)).days) / Decimal("365.25")
    a, b = transfer.giver.location, transfer.receiver.location
    km = Decimal(repr(Geodesic.WGS84.Inverse(a.y, a.x, b.y, b.x)["s12"])) / 1000  # unrounded, independent
    exact = Decimal("4500.00") * max(Decimal("0.05"), 1 - years / 6) * Decimal("0.8") + 200 + km * 3
    assert breakdown.total == exact.quantize(Decimal("0.01"), "ROUND_HALF_UP")
    d = breakdown.details
    assert d["original_value_per_unit"] == "4500.00" and d["min_service_years"] == "6.0"
    assert d["compensation_rate"] == "0.800" and d["handling_fee"] == "200.00" and d["transport_rate_per_km"] == "3.00"
    assert Decimal(d["distance_km"]) > 100  # Shanghai–Hangzhou, geodesic
    txn = breakdown.transaction
    assert txn.posted and txn.kind == "compensation" and txn.transfer == transfer
    legs = {(leg.account.jurisdiction.code, leg.side): leg.amount
            for leg in txn.legs.select_related("account__jurisdiction")}
    assert legs == {("330100", "debit"): breakdown.total, ("310000", "credit"): breakdown.total}
    bal = selectors.balances(world["region"])
    accounts = {a.jurisdiction.code: a.pk
                for a in Account.objects.filter(kind="compensation").select_related("jurisdiction")}
    assert bal[accounts["330100"]] == breakdown.total and bal[accounts["310000"]] == -breakdown.total


def test_posting_is_idempotent_per_transfer(world):
    transfer = complete(world, fx.open_listing(world))
    with transaction.atomic():
        again = services.on_transfer_completed(transfer, world["users"]["staff_b"])
    assert again == transfer.compensation
    assert JournalTransaction.objects.filter(transfer=transfer).count() == 1
    assert Leg.objects.count() == 2
    with pytest.raises(DatabaseError), transaction.atomic():  # the database refuses a second one too
        JournalTransaction.objects.create(region=transfer.region, period=transfer.compensation.transaction.period,
                                          date=transfer.compensation.transaction.date, kind="compensation",
                                          description="dup", key="other-key", transfer=transfer)


def test_old_asset_is_compensated_at_the_salvage_floor(world):
    listing = fx.open_listing(world, original_value=Decimal("4000.00"), acquired_on=date(2010, 1, 1))
    transfer = complete(world, listing)
    d = transfer.compensation.details
    assert d["residual_share"] == "0.050000" and Decimal(d["residual_value"]) == Decimal("200")
    assert transfer.compensation.residual_amount == Decimal("160")


def _post(region, on, amount, debit, credit, key):
    return posting.post(region, on=on, kind="compensation", description="t", key=key,
                        legs=[(debit, "debit", amount), (credit, "credit", amount)])[0]


@pytest.fixture
def accounts(world):
    region = world["region"]
    return region, posting.compensation_account(region, world["city_a"]), posting.compensation_account(
        region, world["city_b"])


def test_balances_as_of_any_date_are_one_sql_query(accounts, django_assert_num_queries):
    region, a, b = accounts
    _post(region, date(2026, 1, 10), Decimal("100.00"), a, b, "k1")
    _post(region, date(2026, 2, 10), Decimal("30.50"), b, a, "k2")
    with django_assert_num_queries(1):
        early = selectors.balances(region, date(2026, 1, 31))
    assert early == {a.pk: Decimal("100.00"), b.pk: Decimal("-100.00")}
    assert selectors.balances(region) == {a.pk: Decimal("69.50"), b.pk: Decimal("-69.50")}
    assert selectors.balance_of(a, date(2025, 12, 31)) == 0


def test_posting_into_a_closed_period_goes_to_the_next(accounts):
    region, a, b = accounts
    period, _ = posting.period_for(region, date(2026, 3, 5))
    SettlementPeriod.objects.filter(pk=period.pk).update(status="closed")
    txn = _post(region, date(2026, 3, 20), Decimal("10.00"), a, b, "late")
    assert txn.date == date(2026, 4, 1) and txn.period.start == date(2026, 4, 1)


def test_reversal_references_the_original_and_cancels_it(accounts):
    region, a, b = accounts
    original = _post(region, date(2026, 1, 10), Decimal("12.34"), a, b, "orig")
    reversal, _ = posting.reverse(original, on=date(2026, 1, 11))
    assert reversal.reverses == original and reversal.kind == "reversal"
    assert selectors.balance_of(a) == 0 and selectors.balance_of(b) == 0


# --- invariants, raw SQL ---------------------------------------------------------------------------------
@pytest.fixture
def posted(accounts):
    region, a, b = accounts
    return _post(region, date(2026, 1, 10), Decimal("100.00"), a, b, "base")


def refused(sql, params=()):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_leg_update_and_delete_are_refused(posted):
    leg = posted.legs.first()
    refused("UPDATE ledger_leg SET amount = 1 WHERE id = %s", [leg.pk])
    refused("DELETE FROM ledger_leg WHERE id = %s", [leg.pk])
    leg.refresh_from_db()
    assert leg.amount == Decimal("100.00")


def test_posted_transaction_cannot_be_updated_deleted_or_extended(posted, accounts):
    refused("UPDATE ledger_journaltransaction SET description = 'x' WHERE id = %s", [posted.pk])
    refused("UPDATE ledger_journaltransaction SET posted = %s WHERE id = %s", [False, posted.pk])
    refused("DELETE FROM ledger_journaltransaction WHERE id = %s", [posted.pk])
    refused("INSERT INTO ledger_leg (transaction_id, account_id, side, amount) VALUES (%s, %s, 'debit', 5)",
            [posted.pk, accounts[1].pk])


def test_amounts_must_be_positive(accounts):
    region, a, b = accounts
    period, _ = posting.period_for(region, date(2026, 1, 1))
    txn = JournalTransaction.objects.create(region=region, period=period, date=date(2026, 1, 1),
                                            kind="compensation", description="d", key="neg")
    for amount in (Decimal("0"), Decimal("-5")):
        refused(LEG_SQL, [txn.pk, a.pk, "debit", amount])


LEG_SQL = "INSERT INTO ledger_leg (transaction_id, account_id, side, amount) VALUES (%s, %s, %s, %s)"


def _draft(region, a, b, debit, credit, key):
    period, _ = posting.period_for(region, date(2026, 1, 1))
    txn = JournalTransaction.objects.create(region=region, period=period, date=date(2026, 1, 1),
                                            kind="compensation", description="d", key=key)
    with connection.cursor() as cursor:
        for account, side, amount in ((a, "debit", debit), (b, "credit", credit)):
            cursor.execute(LEG_SQL, [txn.pk, account.pk, side, amount])
    return txn


def test_an_unbalanced_transaction_cannot_be_posted(accounts):
    region, a, b = accounts
    with transaction.atomic():
        txn = _draft(region, a, b, Decimal("10.00"), Decimal("9.99"), "unbalanced")
        refused("UPDATE ledger_journaltransaction SET posted = %s WHERE id = %s", [True, txn.pk])
        assert selectors.balance_of(a) == 0  # drafts never count
        if connection.vendor == "postgresql":
            refused("SET CONSTRAINTS ALL IMMEDIATE")  # the commit-time check fires here
        transaction.set_rollback(True)
    good = _draft(region, a, b, Decimal("0.10") + Decimal("0.20"), Decimal("0.30"), "balanced")
    JournalTransaction.objects.filter(pk=good.pk).update(posted=True)
    assert selectors.balance_of(a) == Decimal("0.30")


def test_a_transaction_cannot_be_inserted_posted_or_into_a_closed_period(accounts):
    region, a, b = accounts
    period, _ = posting.period_for(region, date(2026, 1, 1))
    sql = ("INSERT INTO ledger_journaltransaction (region_id, period_id, date, kind, description, key, posted, "
           "created_at) VALUES (%s, %s, %s, 'compensation', 'd', %s, %s, %s)")
    refused(sql, [region.pk, period.pk, date(2026, 1, 2), "p1", True, timezone.now()])
    refused(sql, [region.pk, period.pk, date(2026, 2, 2), "p2", False, timezone.now()])  # outside its period
    SettlementPeriod.objects.filter(pk=period.pk).update(status="closed")
    refused(sql, [region.pk, period.pk, date(2026, 1, 2), "p3", False, timezone.now()])
    refused("UPDATE ledger_settlementperiod SET status = 'open' WHERE id = %s", [period.pk])


@pytest.mark.postgis
@pytest.mark.django_db(transaction=True)
def test_postgres_refuses_to_commit_an_unbalanced_transaction(region_world):
    region = region_world["region"]
    a = posting.compensation_account(region, region_world["city_a"])
    b = posting.compensation_account(region, region_world["city_b"])
    with pytest.raises(DatabaseError), transaction.atomic():
        _draft(region, a, b, Decimal("10.00"), Decimal("1.00"), "commit-check")
    assert not JournalTransaction.objects.filter(key="commit-check").exists()


def test_closing_balances_are_append_only(accounts):
    region, a, b = accounts
    period, _ = posting.period_for(region, date(2026, 1, 1))
    row = ClosingBalance.objects.create(period=period, account=a, balance=Decimal("1.00"))
    refused("UPDATE ledger_closingbalance SET balance = 2 WHERE id = %s", [row.pk])
    refused("DELETE FROM ledger_closingbalance WHERE id = %s", [row.pk])


def test_the_demo_transfer_posts_a_balanced_compensation_with_its_breakdown(db):
    from django.core.management import call_command

    from exchange.demo import HZ_EDU

    call_command("load_demo")
    done = Transfer.objects.get(status="completed", receiver__code=HZ_EDU)  # the exchange demo's transfer
    breakdown = CompensationBreakdown.objects.get(transfer=done)
    legs = list(breakdown.transaction.legs.all())
    assert breakdown.total > 0 and breakdown.details["quantity"] == 2
    assert sum(x.amount for x in legs if x.side == "debit") == sum(x.amount for x in legs if x.side == "credit") \
        == breakdown.total
    # the demo region settles at city level: Hangzhou (330100) pays Shanghai (310000, a municipality)
    assert {(x.side, x.account.jurisdiction.code) for x in legs} == {("debit", "330100"), ("credit", "310000")}
