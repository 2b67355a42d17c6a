"""Done-when of issue 16 on the demo data: cities settle, so Shanghai → Hangzhou and Suzhou → Nanjing both
post; the Hangzhou and Nanjing bureaus see their accounts, breakdowns and statements, the agencies of a
transfer its compensation, and the Jiangsu bureau its cities' accounts."""
from decimal import Decimal

import pytest
from django.utils import timezone

from exchange import demo
from exchange.models import Transfer
from ledger.models import Account, CompensationBreakdown
from regions import demo as regions_demo
from regions.models import Jurisdiction
from tests.factories import gid


@pytest.fixture
def demo_data(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    regions_demo.load_all()
    demo.load_all()
    from django.contrib.auth import get_user_model

    return {u.username: u for u in get_user_model().objects.all()}


def _transfer(giver_code, receiver_code):
    return Transfer.objects.get(status="completed", giver_jurisdiction__code=giver_code,
                                receiver_jurisdiction__code=receiver_code)


def _accounts(gql, user):
    result = gql.login(user).operation("LedgerAccounts", {"first": 100})
    assert "errors" not in result, result
    return {e["node"]["code"]: e["node"] for e in result["data"]["ledgerAccounts"]["edges"]}


def test_both_demo_transfers_post_between_city_accounts(demo_data):
    for giver, receiver in (("310000", "330100"), ("320500", "320100")):
        breakdown = CompensationBreakdown.objects.get(transfer=_transfer(giver, receiver))
        legs = {(leg.account.jurisdiction.code, leg.side): leg.amount
                for leg in breakdown.transaction.legs.select_related("account__jurisdiction")}
        assert legs == {(receiver, "debit"): breakdown.total, (giver, "credit"): breakdown.total}
        assert breakdown.total > 0


@pytest.mark.parametrize("username, city", [("hz_bureau", "330100"), ("nj_bureau", "320100")])
def test_city_bureaus_see_their_account_breakdown_and_statement(demo_data, gql, username, city):
    user = demo_data[username]
    accounts = _accounts(gql, user)
    assert set(accounts) == {f"yrd:{city}:compensation"}
    account = accounts[f"yrd:{city}:compensation"]
    transfer = Transfer.objects.get(status="completed", receiver_jurisdiction__code=city)
    breakdown = CompensationBreakdown.objects.get(transfer=transfer)
    assert Decimal(account["balance"]) == breakdown.total  # the receiver owes what it was debited
    comp = gql.operation("LedgerCompensation", {"transferId": gid(transfer)})
    assert "errors" not in comp, comp
    assert Decimal(comp["data"]["compensation"]["total"]) == breakdown.total
    today = timezone.localdate()
    statement = gql.operation("LedgerStatement", {"accountId": gid(Account.objects.get(code=account["code"])),
                                                  "start": f"{today:%Y-%m-01}",
                                                  "end": today.isoformat()})["data"]["ledgerStatement"]
    assert Decimal(statement["debits"]) == breakdown.total and Decimal(statement["closing"]) == breakdown.total


def test_agencies_of_a_transfer_see_its_compensation_and_others_do_not(demo_data, gql):
    transfer = _transfer("310000", "330100")
    for username in ("hz_edu", "sh_stats"):
        result = gql.login(demo_data[username]).operation("LedgerCompensation", {"transferId": gid(transfer)})
        assert "errors" not in result, result
    other = _transfer("320500", "320100")
    refused = gql.login(demo_data["hz_edu"]).operation("LedgerCompensation", {"transferId": gid(other)})
    assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_province_bureau_sees_each_city_and_the_sum(demo_data, gql):
    accounts = _accounts(gql, demo_data["js_bureau"])
    assert {"yrd:320100:compensation", "yrd:320500:compensation"} <= set(accounts)
    assert all(code.split(":")[1].startswith("32") for code in accounts)
    assert sum(Decimal(a["balance"]) for a in accounts.values()) == 0  # Suzhou → Nanjing nets out in Jiangsu
    assert Jurisdiction.objects.get(code="320000").level == "province"


def test_province_summary_sums_its_cities_and_city_bureaus_list_their_breakdowns(demo_data, gql):
    summary = gql.login(demo_data["js_bureau"]).operation("LedgerSummary", {"jurisdiction": "320000"})
    assert "errors" not in summary, summary
    data = summary["data"]["ledgerSummary"]
    lines = {a["code"]: Decimal(a["balance"]) for a in data["accounts"]}
    nanjing = CompensationBreakdown.objects.get(transfer=_transfer("320500", "320100")).total
    assert lines["yrd:320100:compensation"] == nanjing and lines["yrd:320500:compensation"] == -nanjing
    assert Decimal(data["balance"]) == sum(lines.values()) == 0
    assert Decimal(data["debits"]) == Decimal(data["credits"]) == nanjing
    assert gql.login(demo_data["nj_bureau"]).operation("LedgerSummary", {"jurisdiction": "320000"})[
        "data"]["ledgerSummary"]["accounts"] == [a for a in data["accounts"] if a["code"].startswith("yrd:320100")]
    listed = gql.operation("LedgerCompensations", {"first": 10})["data"]["compensations"]
    assert listed["totalCount"] == 1 and listed["edges"][0]["node"]["receiverJurisdiction"]["code"] == "320100"


@pytest.mark.parametrize("username, code, lines", [
    ("hz_bureau", "330100", ["杭州市 330100"]),
    ("nj_bureau", "320100", ["南京市 320100"]),
    ("js_bureau", "320000", ["南京市 320100", "苏州市 320500"]),
])
def test_bureaus_get_their_settlement_statement_pdf(demo_data, tmp_path, username, code, lines):
    import subprocess

    from reports import services as report_services
    from reports.models import ReportKind

    today = timezone.localdate()
    data = report_services.build_data(ReportKind.SETTLEMENT_STATEMENT, region=regions_demo.Region.objects.get(
        code="yrd"), jurisdiction=Jurisdiction.objects.get(code=code), period_from=today.replace(day=1),
        period_to=today, user=demo_data[username])
    shown = {b.account: b for b in data.balances}
    assert sorted(shown) == lines  # its own account(s) only; a province bureau: each of its cities
    assert sum(b.closing for b in data.balances) == sum(
        CompensationBreakdown.objects.filter(receiver_jurisdiction__code__in=[x.split()[1] for x in lines])
        .values_list("total", flat=True)) - sum(
        CompensationBreakdown.objects.filter(giver_jurisdiction__code__in=[x.split()[1] for x in lines])
        .values_list("total", flat=True))
    path = tmp_path / "statement.pdf"
    path.write_bytes(report_services.render_document(data))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    for line in lines + ["合计 Total"]:
        assert line in text, line


def test_workbench_ledger_page_shows_the_bureau_its_accounts_breakdowns_and_the_sum(demo_data, client):
    client.force_login(demo_data["nj_bureau"])
    page = client.get("/ledger/").content.decode()
    within = _transfer("320500", "320100")
    assert "yrd:320100:compensation" in page and "yrd:320500:compensation" not in page
    assert f'id="breakdown-{within.pk}"' in page and str(within.compensation.total) in page
    assert 'id="accounts-total"' not in page  # one account: no sum line
    client.force_login(demo_data["js_bureau"])
    page = client.get("/ledger/").content.decode()
    assert "yrd:320100:compensation" in page and "yrd:320500:compensation" in page
    assert 'id="accounts-total"' in page and 'data-balance="0.00"' in page
