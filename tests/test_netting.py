"""Netting and settlement: the greedy netting property (hypothesis), the issue's 5-jurisdiction example
closed by a coordinator, frozen instructions, confirming payments."""
from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.errors import InvalidState, PermissionDenied
from ledger import selectors
from ledger.models import ClosingBalance, PaymentInstruction, SettlementPeriod
from ledger.services import posting, settlement
from ledger.services.netting import net
from tests import factories as f

transfers_strategy = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 6), st.decimals("0.01", "99999.99", places=2)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(members=st.integers(2, 7), moves=transfers_strategy)
def test_netting_clears_every_balance_with_at_most_n_minus_1_payments(members, moves):
    balances = {m: Decimal("0") for m in range(members)}
    gross = Decimal("0")
    for giver, receiver, amount in moves:
        giver, receiver = giver % members, receiver % members
        if giver == receiver:
            continue
        balances[receiver] += amount  # receiver debited (owes)
        balances[giver] -= amount
        gross += amount
    payments = net(balances)
    after = dict(balances)
    for payer, payee, amount in payments:
        assert amount > 0 and payer != payee
        after[payer] -= amount
        after[payee] += amount
    assert all(v == 0 for v in after.values())
    assert sum(p[2] for p in payments) <= gross
    assert len(payments) <= members - 1


def test_netting_refuses_balances_that_do_not_sum_to_zero():
    with pytest.raises(ValueError):
        net({"a": Decimal("1"), "b": Decimal("0")})


@pytest.fixture
def five(region_world):
    region = region_world["region"]
    cities = [region_world["city_a"], region_world["city_b"]]
    for n, (code, lon) in enumerate((("320100", 118.8), ("340100", 117.2), ("330200", 121.5))):
        city = f.JurisdictionFactory(code=code, lon=lon, lat=31.0 + n / 10)
        f.MembershipFactory(region=region, jurisdiction=city)
        cities.append(city)
    accounts = [posting.compensation_account(region, c) for c in cities]
    # mixed balances: receivers owe, givers are owed (Σ = 0)
    for key, (debit, credit, amount) in enumerate(((0, 1, "1200.50"), (2, 1, "300.00"), (3, 4, "845.25"),
                                                   (0, 4, "99.99"), (1, 3, "10.00"), (2, 0, "450.00"))):
        posting.post(region, on=date(2026, 3, 5 + key), kind="compensation", description="t", key=f"m{key}",
                     legs=[(accounts[debit], "debit", Decimal(amount)), (accounts[credit], "credit", Decimal(amount))])
    region_world["accounts"] = accounts
    region_world["period"] = SettlementPeriod.objects.get(region=region, start=date(2026, 3, 1))
    return region_world


def test_closing_five_jurisdictions_yields_at_most_4_payments_that_zero_them(five):
    users, region = five["users"], five["region"]
    before = selectors.balances(region, date(2026, 3, 31))
    assert sum(1 for v in before.values() if v) == 5
    with transaction.atomic():
        period = settlement.close_period(users["coordinator"], five["period"])
    assert period.status == "closed" and period.closed_by == users["coordinator"]
    frozen = {c.account_id: c.balance for c in ClosingBalance.objects.filter(period=period)}
    assert frozen == before
    instructions = list(PaymentInstruction.objects.filter(period=period))
    assert 1 <= len(instructions) <= 4
    for instruction in instructions:
        with transaction.atomic():
            settlement.confirm_payment(users["coordinator"], instruction)
    after = selectors.balances(region)
    assert all(v == 0 for v in after.values()), after
    assert selectors.balance_of(posting.clearing_account(region)) == 0
    with pytest.raises(InvalidState), transaction.atomic():  # confirming twice posts nothing more
        settlement.confirm_payment(users["coordinator"], instructions[0])


def test_closing_and_confirming_are_for_the_coordinator_only(five):
    users = five["users"]
    for who in ("auditor", "bureau_a", "staff_a", "outsider"):
        with pytest.raises(PermissionDenied), transaction.atomic():
            settlement.close_period(users[who], five["period"])
    assert SettlementPeriod.objects.get(pk=five["period"].pk).status == "open"
    with transaction.atomic():
        settlement.close_period(users["coordinator"], five["period"])
    instruction = PaymentInstruction.objects.filter(period=five["period"]).first()
    for who in ("auditor", "bureau_a", "outsider"):
        with pytest.raises(PermissionDenied), transaction.atomic():
            settlement.confirm_payment(users[who], instruction)
    instruction.refresh_from_db()
    assert instruction.transaction_id is None
    with pytest.raises(InvalidState), transaction.atomic():
        settlement.close_period(users["coordinator"], five["period"])


def test_instructions_are_frozen_in_the_database(five):
    with transaction.atomic():
        settlement.close_period(five["users"]["coordinator"], five["period"])
    instruction = PaymentInstruction.objects.filter(period=five["period"]).first()
    for sql in ("UPDATE ledger_paymentinstruction SET amount = 1 WHERE id = %s",
                "DELETE FROM ledger_paymentinstruction WHERE id = %s"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [instruction.pk])


def test_a_new_posting_dated_in_the_closed_period_goes_to_the_next(five):
    with transaction.atomic():
        settlement.close_period(five["users"]["coordinator"], five["period"])
    a, b = five["accounts"][:2]
    txn, _ = posting.post(five["region"], on=date(2026, 3, 30), kind="compensation", description="late", key="late",
                          legs=[(a, "debit", Decimal("5")), (b, "credit", Decimal("5"))])
    assert txn.period.start == date(2026, 4, 1) and txn.date == date(2026, 4, 1)
