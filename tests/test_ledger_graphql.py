"""Ledger over GraphQL: scoped accounts with SQL balances at constant query count, compensation
breakdown, statements, and the close/confirm mutations for allowed and refused roles."""
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.models import PaymentInstruction, SettlementPeriod
from ledger.services import posting
from tests import factories as f
from tests.factories import gid

OPS = Path(__file__).resolve().parent.parent / "graphql" / "operations"


@pytest.fixture
def ledger(region_world):
    region = region_world["region"]
    a = posting.compensation_account(region, region_world["city_a"])
    b = posting.compensation_account(region, region_world["city_b"])
    posting.post(region, on=date(2026, 3, 5), kind="compensation", description="t", key="g1",
                 legs=[(b, "debit", Decimal("1234.56")), (a, "credit", Decimal("1234.56"))])
    posting.post(region, on=date(2026, 3, 20), kind="compensation", description="t", key="g2",
                 legs=[(a, "debit", Decimal("34.56")), (b, "credit", Decimal("34.56"))])
    region_world.update(account_a=a, account_b=b,
                        period=SettlementPeriod.objects.get(region=region, start=date(2026, 3, 1)))
    return region_world


def accounts(gql, user, **variables):
    result = gql.login(user).operation("LedgerAccounts", variables)
    assert "errors" not in result, result
    return {e["node"]["code"]: e["node"] for e in result["data"]["ledgerAccounts"]["edges"]}


def test_accounts_are_scoped_and_carry_balances(gql, ledger):
    users = ledger["users"]
    everything = accounts(gql, users["coordinator"])
    assert Decimal(everything["yrd-test:330100:compensation"]["balance"]) == Decimal("1200.00")
    assert Decimal(everything["yrd-test:310000:compensation"]["balance"]) == Decimal("-1200.00")
    assert set(accounts(gql, users["auditor"])) == set(everything)
    assert set(accounts(gql, users["bureau_a"])) == {"yrd-test:310000:compensation"}
    assert accounts(gql, users["outsider"]) == {}
    early = accounts(gql, users["bureau_b"], asOf="2026-03-10")
    assert Decimal(early["yrd-test:330100:compensation"]["balance"]) == Decimal("1234.56")
    assert Decimal(early["yrd-test:330100:compensation"]["credits"]) == 0


def test_accounts_list_runs_a_constant_number_of_queries(gql, ledger, assert_num_queries_constant):
    region = ledger["region"]
    for n in range(120):
        city = f.JurisdictionFactory(code=f"{500000 + n}", lon=120 + n / 100, lat=30.0)
        f.MembershipFactory(region=region, jurisdiction=city)
        other = posting.compensation_account(region, city)
        posting.post(region, on=date(2026, 3, 6), kind="compensation", description="t", key=f"n{n}",
                     legs=[(other, "debit", Decimal("1.00")), (ledger["account_a"], "credit", Decimal("1.00"))])
    gql.login(ledger["users"]["coordinator"])
    query = (OPS / "LedgerAccounts.graphql").read_text()
    count = assert_num_queries_constant(query, lambda size: {"first": size, "asOf": "2026-12-31"})
    print(f"ledgerAccounts SQL queries at page sizes 1 and 100: {count}")
    assert count <= 8


def test_statement_sums_in_sql(gql, ledger):
    gql.login(ledger["users"]["bureau_a"])
    result = gql.operation("LedgerStatement", {"accountId": gid(ledger["account_a"]), "start": "2026-03-10",
                                                "end": "2026-03-31"})
    s = result["data"]["ledgerStatement"]
    assert Decimal(s["opening"]) == Decimal("-1234.56") and Decimal(s["debits"]) == Decimal("34.56")
    assert Decimal(s["closing"]) == Decimal("-1200.00")
    denied = gql.login(ledger["users"]["bureau_b"]).operation(
        "LedgerStatement", {"accountId": gid(ledger["account_a"]), "start": "2026-03-01", "end": "2026-03-31"})
    assert denied["data"]["ledgerStatement"] is None and denied["errors"]


def test_close_and_confirm_refused_for_other_roles_and_allowed_for_the_coordinator(gql, ledger):
    users, period = ledger["users"], ledger["period"]
    for who in ("auditor", "bureau_a", "staff_b", "outsider"):
        refused = gql.login(users[who]).operation("SettlementClose", {"periodId": gid(period)})
        payload = refused["data"]["closeSettlementPeriod"]
        assert payload["period"] is None and payload["errors"][0]["code"] == "PERMISSION_DENIED", (who, payload)
    assert SettlementPeriod.objects.get(pk=period.pk).status == "open"
    closed = gql.login(users["coordinator"]).operation("SettlementClose", {"periodId": gid(period)})
    payload = closed["data"]["closeSettlementPeriod"]
    assert payload["errors"] == [] and payload["period"]["status"] == "CLOSED"
    assert [(i["payer"], i["payee"], i["amount"]) for i in payload["instructions"]] == [
        ("330100", "310000", "1200.00")]
    again = gql.operation("SettlementClose", {"periodId": gid(period)})["data"]["closeSettlementPeriod"]
    assert again["errors"][0]["code"] == "INVALID_STATE"
    instruction = PaymentInstruction.objects.get(period=period)
    for who in ("auditor", "bureau_b"):
        refused = gql.login(users[who]).operation("SettlementConfirmPayment", {"instructionId": gid(instruction)})
        assert refused["data"]["confirmSettlementPayment"]["errors"][0]["code"] == "PERMISSION_DENIED"
    instruction.refresh_from_db()
    assert instruction.transaction_id is None
    ok = gql.login(users["coordinator"]).operation("SettlementConfirmPayment", {"instructionId": gid(instruction)})
    assert ok["data"]["confirmSettlementPayment"]["instruction"]["confirmed"] is True
    assert all(Decimal(n["balance"]) == 0 for n in accounts(gql, users["coordinator"]).values())
    missing = gql.operation("SettlementConfirmPayment", {"instructionId": 999999})["data"]["confirmSettlementPayment"]
    assert missing["errors"][0]["code"] == "NOT_FOUND"
    listed = gql.login(users["bureau_a"]).operation("SettlementInstructions", {"first": 10})
    assert listed["data"]["paymentInstructions"]["totalCount"] == 1
    periods = gql.operation("SettlementPeriods", {"first": 10, "status": "CLOSED"})
    assert periods["data"]["settlementPeriods"]["totalCount"] == 1


def test_compensation_breakdown_is_scoped(gql, region_world):
    from tests.test_ledger import complete, fx

    region_world["standards"] = fx.standard_set(region_world["region"], own_window_days=0)
    transfer = complete(region_world, fx.open_listing(region_world))
    seen = gql.login(region_world["users"]["auditor"]).operation("LedgerCompensation", {"transferId": gid(transfer)})
    comp = seen["data"]["compensation"]
    assert Decimal(comp["total"]) == transfer.compensation.total and comp["details"]
    assert comp["giverJurisdiction"]["code"] == "310000" and comp["transactionId"]
    hidden = gql.login(region_world["users"]["outsider"]).operation("LedgerCompensation", {"transferId": gid(transfer)})
    assert hidden["data"]["compensation"] is None


def test_admin_lists_ledger_rows_read_only(client, ledger):
    from django.contrib.auth import get_user_model

    admin_user = get_user_model().objects.create_superuser("root", "r@example.org", "pw-123456")
    client.force_login(admin_user)
    txn = ledger["account_a"].legs.first().transaction
    assert client.get("/admin/ledger/journaltransaction/").status_code == 200
    page = client.get(f"/admin/ledger/journaltransaction/{txn.pk}/change/")
    assert page.status_code == 200 and b"1234.56" in page.content and b'name="_save"' not in page.content
    assert client.get("/admin/ledger/leg/add/").status_code == 403
    assert client.post(f"/admin/ledger/journaltransaction/{txn.pk}/delete/").status_code == 403
