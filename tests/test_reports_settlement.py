"""The settlement statement from real ledger data: a closed period of five member jurisdictions with
mixed balances and netted payment instructions (one confirmed), scope of a bureau, an open period with
live balances; the transfer certificate's compensation from the ledger's breakdown."""
import subprocess
from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from kernel.errors import InvalidState
from ledger import selectors as ledger
from ledger.models import ClosingBalance, CompensationBreakdown, PaymentInstruction, SettlementPeriod
from ledger.services import posting, settlement
from reports import builders, render
from tests import factories as f
from tests.test_reports_jobs import make_transfer

MOVES = ((0, 1, "1200.50"), (2, 1, "300.00"), (3, 4, "845.25"), (0, 4, "99.99"), (1, 3, "10.00"), (2, 0, "450.00"))


def pdf_text(pdf, tmp_path, name="doc"):
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def fmt(amount):
    return f"{amount:,.2f}"


@pytest.fixture
def five(region_world):
    region = region_world["region"]
    cities = [region_world["city_a"], region_world["city_b"]]
    for n, (code, name, lon) in enumerate((("320100", "南京市", 118.8), ("340100", "合肥市", 117.2),
                                           ("330200", "宁波市", 121.5))):
        city = f.JurisdictionFactory(code=code, name_zh=name, lon=lon, lat=31.0 + n / 10)
        f.MembershipFactory(region=region, jurisdiction=city)
        cities.append(city)
    accounts = [posting.compensation_account(region, c) for c in cities]
    for key, (debit, credit, amount) in enumerate(MOVES):
        posting.post(region, on=date(2026, 3, 5 + key), kind="compensation", description=f"调拨补偿 move {key}",
                     key=f"m{key}", legs=[(accounts[debit], "debit", Decimal(amount)),
                                          (accounts[credit], "credit", Decimal(amount))])
    period = SettlementPeriod.objects.get(region=region, start=date(2026, 3, 1))
    with transaction.atomic():
        settlement.close_period(region_world["users"]["coordinator"], period)
    instructions = list(PaymentInstruction.objects.filter(period=period).select_related(
        "payer__jurisdiction", "payee__jurisdiction"))
    with transaction.atomic():
        settlement.confirm_payment(region_world["users"]["coordinator"], instructions[0])
    region_world.update(cities=cities, accounts=accounts, period=period, instructions=instructions)
    return region_world


def test_closed_period_statement_shows_frozen_balances_payments_and_postings(five, tmp_path):
    region, users = five["region"], five["users"]
    data = builders.build_settlement_statement(region, None, date(2026, 3, 1), date(2026, 3, 31),
                                               user=users["coordinator"])
    assert data.period_status_zh.startswith("已关闭")
    frozen = {c.account.jurisdiction.name_zh: c.balance
              for c in ClosingBalance.objects.filter(period=five["period"]).select_related("account__jurisdiction")}
    assert sum(1 for v in frozen.values() if v) == 5
    by_name = {b.account.split(" ")[0]: b for b in data.balances}
    for name, balance in frozen.items():
        line = by_name[name]
        assert line.closing == balance and line.opening == 0 and line.debits - line.credits == balance
    assert sum(b.closing for b in data.balances) == 0
    assert len(data.payments) == len(five["instructions"]) >= 2
    assert data.payments[0].status_zh.startswith("已确认") and data.payments[1].status_zh == "待支付 pending"
    assert len(data.postings) == 2 * len(MOVES)  # the settlement payment is dated after the period
    assert sum(p.debit for p in data.postings) == sum(Decimal(m[2]) for m in MOVES)

    text = pdf_text(render.render(data), tmp_path)
    for expected in ("区域利益补偿结算单", "南京市", "合肥市", "宁波市", "1,200.50", "845.25", "已确认", "待支付"):
        assert expected in text, expected
    for i in five["instructions"]:
        assert fmt(i.amount) in text and i.payer.jurisdiction.name_zh in text and i.payee.jurisdiction.name_zh in text
    for balance in frozen.values():
        assert fmt(balance) in text, balance


def test_bureau_sees_only_its_own_jurisdiction(five):
    region, users = five["region"], five["users"]
    city_a = five["city_a"]
    data = builders.build_settlement_statement(region, city_a, date(2026, 3, 1), date(2026, 3, 31),
                                               user=users["bureau_a"])
    assert [b.account for b in data.balances] == ["上海市 310000"]
    assert data.balances[0].closing == ledger.balance_of(five["accounts"][0], date(2026, 3, 31))
    assert all("上海市" in (p.payer + p.payee) for p in data.payments)
    assert {p.account for p in data.postings} == {"上海市 310000"}
    # even region-wide, restrict leaves the bureau its own account only
    wide = builders.build_settlement_statement(region, None, date(2026, 3, 1), date(2026, 3, 31),
                                               user=users["bureau_a"])
    assert [b.account for b in wide.balances] == ["上海市 310000"]


def test_open_period_uses_live_balances(five):
    region = five["region"]
    a, b = five["accounts"][:2]
    posting.post(region, on=date(2026, 4, 10), kind="compensation", description="april", key="apr",
                 legs=[(a, "debit", Decimal("77.70")), (b, "credit", Decimal("77.70"))])
    data = builders.build_settlement_statement(region, None, date(2026, 4, 1), date(2026, 4, 30),
                                               user=five["users"]["auditor"])
    assert data.period_status_zh.startswith("开放")
    assert data.payments == ()
    line = next(x for x in data.balances if x.account.startswith("上海市"))
    assert line.closing == ledger.balance_of(a, date(2026, 4, 30))
    assert line.closing == line.opening + line.debits - line.credits


def test_no_period_in_range_is_an_invalid_state(five):
    with pytest.raises(InvalidState):
        builders.build_settlement_statement(five["region"], None, date(2020, 1, 1), date(2020, 1, 31))


def test_certificate_shows_compensation_from_the_breakdown(region_world, tmp_path):
    transfer = make_transfer(region_world, code="K7Q3M9XH2PRT")
    CompensationBreakdown.objects.create(
        transfer=transfer, standard_set=f.StandardSetFactory(region=region_world["region"]),
        giver_jurisdiction=transfer.giver_jurisdiction, receiver_jurisdiction=transfer.receiver_jurisdiction,
        residual_amount=Decimal("4321.1234567"), handling_fee=Decimal("200.00"), transport=Decimal("492.9"),
        total=Decimal("5014.02"), details={})
    data = builders.build_transfer_certificate(transfer.pk, user=region_world["users"]["coordinator"])
    assert data.compensation_total == Decimal("5014.02")
    assert [x.amount for x in data.compensation] == [Decimal("4321.12"), Decimal("200.00"), Decimal("492.90")]
    text = pdf_text(render.render(data), tmp_path)
    for expected in ("5,014.02", "4,321.12", "492.90"):
        assert expected in text, expected
