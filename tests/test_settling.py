"""Who settles: the region's settling level as effective-dated data, one membership predicate for posting,
permissions, reports and settlement, and periods that cannot close before their end."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from kernel.errors import InvalidState
from ledger.models import Account, ClosingBalance, SettlementPeriod
from ledger.services import posting, settlement
from regions import membership, settling
from regions.models import Membership, SettlingLevel
from regions.permissions import get_principal
from tests import factories as f


@pytest.fixture
def tree(db):
    """A region with one province member (two cities, one with a district) and a municipality member."""
    region = f.RegionFactory(code="yrd-s")
    province = f.JurisdictionFactory(code="320000", level="province")
    nanjing = f.JurisdictionFactory(code="320100", parent=province, lon=118.8, lat=32.06)
    suzhou = f.JurisdictionFactory(code="320500", parent=province, lon=120.58, lat=31.3)
    gusu = f.JurisdictionFactory(code="320508", level="county", parent=suzhou, lon=120.62, lat=31.31)
    shanghai = f.JurisdictionFactory(code="310000", level="province", lon=121.47, lat=31.23)
    for j in (province, shanghai):
        f.MembershipFactory(region=region, jurisdiction=j, joined_on=date(2020, 1, 1))
    return {"region": region, "province": province, "nanjing": nanjing, "suzhou": suzhou, "gusu": gusu,
            "shanghai": shanghai}


def test_settling_level_is_effective_dated_and_walks_to_the_city(tree):
    region, settle = tree["region"], settling.settling_jurisdiction
    assert settle(region, tree["gusu"], date(2021, 1, 1)) == tree["province"]  # no level: the member settles
    SettlingLevel.objects.create(region=region, level="city", effective_from=date(2022, 1, 1))
    SettlingLevel.objects.create(region=region, level="county", effective_from=date(2024, 1, 1))
    assert settle(region, tree["gusu"], date(2021, 12, 31)) == tree["province"]
    assert settle(region, tree["gusu"], date(2022, 1, 1)) == tree["suzhou"]
    assert settle(region, tree["suzhou"], date(2022, 1, 1)) == tree["suzhou"]
    assert settle(region, tree["province"], date(2022, 1, 1)) == tree["province"]  # a provincial agency
    assert settle(region, tree["shanghai"], date(2022, 1, 1)) == tree["shanghai"]  # municipality settles itself
    assert settle(region, tree["gusu"], date(2024, 1, 1)) == tree["gusu"]
    assert settle(region, tree["gusu"], date(2019, 12, 31)) is None  # before joining
    assert [j.code for j in settling.settling_jurisdictions(region, date(2022, 6, 1))] == [
        "310000", "320000", "320100", "320500"]


def test_membership_ends_after_left_on_everywhere(tree):
    region = tree["region"]
    Membership.objects.filter(jurisdiction=tree["shanghai"]).update(left_on=date(2026, 3, 15))
    # left_on is the last day of membership (regions.membership.in_force: both days included)
    assert tree["shanghai"].pk in membership.region_jurisdictions([region.pk], date(2026, 3, 15))
    assert tree["shanghai"].pk not in membership.region_jurisdictions([region.pk], date(2026, 3, 16))
    assert settling.settling_jurisdiction(region, tree["shanghai"], date(2026, 3, 15)) == tree["shanghai"]
    assert settling.settling_jurisdiction(region, tree["shanghai"], date(2026, 3, 16)) is None
    assert tree["shanghai"].pk not in membership.region_jurisdictions([region.pk])  # today
    coordinator = f.user_with_role("coordinator", region, "coord-s")
    assert tree["shanghai"].pk not in get_principal(coordinator).coordinator_jurisdictions  # permissions
    assert tree["gusu"].pk in get_principal(coordinator).coordinator_jurisdictions


def _period_with_postings(region, a, b):
    posting.post(region, on=date(2026, 3, 10), kind="compensation", description="t", key="s1",
                 legs=[(a, "debit", Decimal("300.00")), (b, "credit", Decimal("300.00"))])
    return SettlementPeriod.objects.get(region=region, start=date(2026, 3, 1))


def test_a_member_that_left_mid_period_settles_what_it_posted_while_member(tree):
    region = tree["region"]
    SettlingLevel.objects.create(region=region, level="city", effective_from=date(2020, 1, 1))
    Membership.objects.filter(jurisdiction=tree["shanghai"]).update(left_on=date(2026, 3, 15))
    sh, nj = (posting.compensation_account(region, tree[k]) for k in ("shanghai", "nanjing"))
    period = _period_with_postings(region, sh, nj)
    coordinator = f.user_with_role("coordinator", region, "coord-s")
    settlement.close_period(coordinator, period)
    frozen = dict(ClosingBalance.objects.filter(period=period).values_list("account__jurisdiction__code", "balance"))
    assert frozen["310000"] == Decimal("300.00") and frozen["320100"] == Decimal("-300.00")
    assert {a.jurisdiction.code for a in Account.objects.filter(region=region, kind="compensation")} >= {
        "320500"}  # accounts of every settling city exist after closing
    [instruction] = period.instructions.all()
    assert (instruction.payer, instruction.payee, instruction.amount) == (sh, nj, Decimal("300.00"))


def test_a_period_cannot_be_closed_before_its_end(tree):
    region = tree["region"]
    today = timezone.localdate()
    period, _ = posting.period_for(region, today)
    coordinator = f.user_with_role("coordinator", region, "coord-s")
    with pytest.raises(InvalidState) as refused:
        settlement.close_period(coordinator, period)
    assert period.end.isoformat() in refused.value.message
    period.refresh_from_db()
    assert period.status == "open" and not ClosingBalance.objects.filter(period=period).exists()
    last_month, _ = posting.period_for(region, today.replace(day=1) - timedelta(days=1))
    assert settlement.close_period(coordinator, last_month).status == "closed"
