"""Disposal (处置): what nobody claims in the regional window moves to disposal; a method is proposed
(never before the minimum service life unless damaged beyond repair), the bureau approves, the outcome
and proceeds are recorded and the units become `disposed`. Nothing stays open forever."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from exchange.models import Asset, Listing
from kernel.errors import PermissionDenied, StandardsBreach, ValidationFailed
from ledger import selectors as ledger
from ledger.models import Account, JournalTransaction, Leg
from lifecycle.models import Disposal
from lifecycle.services import disposal as disposals
from notifications.models import Notification
from tests import factories_exchange as fx
from tests.factories import gid
from tests.test_exchange_services import request


@pytest.fixture
def world(region_world):
    fx.standard_set(region_world["region"])  # 7 + 14 days; desktops: 6 years minimum life
    return region_world


def after_window(listing):
    return listing.region_window_ends_at + timedelta(minutes=1)


def test_an_unclaimed_listing_moves_to_disposal_once(world):
    listing = fx.open_listing(world, quantity=3)
    assert disposals.open_disposals(now=listing.region_window_ends_at - timedelta(minutes=1)) == 0
    assert disposals.open_disposals(now=after_window(listing)) == 1
    assert disposals.open_disposals(now=after_window(listing)) == 0  # re-run: nothing more
    listing.refresh_from_db()
    assert (listing.status, listing.quantity_available) == (Listing.Status.CLOSED, 0)
    d = Disposal.objects.get()
    assert (d.listing, d.quantity, d.status, d.agency) == (listing, 3, "awaiting_proposal", world["agency_a"])
    assert Notification.objects.filter(recipient=world["users"]["staff_a"], kind="disposal_pending").count() == 1


def test_a_listing_with_a_pending_request_waits_for_its_allocation(world):
    from regions.models import StandardSet

    StandardSet.objects.update(allocation_mode="window_close", own_window_days=0)
    listing = fx.open_listing(world)
    request(world, listing)
    assert disposals.open_disposals(now=after_window(listing)) == 0
    assert not Disposal.objects.exists()


def _disposal(world, **asset):
    listing = fx.open_listing(world, **asset)
    disposals.open_disposals(now=after_window(listing))
    return Disposal.objects.get(listing=listing)


def test_before_minimum_life_only_damage_beyond_repair_allows_disposal(world):
    young = timezone.localdate() - timedelta(days=365 * 2)
    d = _disposal(world, acquired_on=young)
    staff = world["users"]["staff_a"]
    with pytest.raises(StandardsBreach) as refused, transaction.atomic():
        disposals.propose(staff, d, method="auction", reason="闲置无人申领")
    assert "财资〔2016〕27号" in refused.value.message and refused.value.field == "damaged_beyond_repair"
    d.refresh_from_db()
    assert d.status == "awaiting_proposal"
    with pytest.raises(ValidationFailed), transaction.atomic():
        disposals.propose(staff, d, method="scrap", reason="主板烧毁", damaged_beyond_repair=True)
    with transaction.atomic():
        d = disposals.propose(staff, d, method="scrap", reason="主板烧毁", damaged_beyond_repair=True,
                              damage_note="维修点鉴定：主板烧毁，无法修复")
    assert (d.status, d.method, d.damaged_beyond_repair) == ("proposed", "scrap", True)


def test_bureau_approves_and_the_outcome_disposes_the_units_with_proceeds(world):
    u = world["users"]
    d = _disposal(world, acquired_on=date(2015, 1, 1), quantity=5)
    Listing.objects.filter(pk=d.listing_id).update(quantity=5)
    Disposal.objects.filter(pk=d.pk).update(quantity=3)  # 2 of the 5 were transferred meanwhile
    d.refresh_from_db()
    with transaction.atomic():
        disposals.propose(u["staff_a"], d, method="auction", reason="超过使用年限，闲置")
    assert Notification.objects.filter(recipient=u["bureau_a"], kind="disposal_proposed").exists()
    for refused in (u["bureau_b"], u["staff_a"]):
        with pytest.raises(PermissionDenied), transaction.atomic():
            disposals.decide(refused, d, approve=True)
    with transaction.atomic():
        disposals.decide(u["bureau_a"], d, approve=True)
    assert Notification.objects.filter(recipient=u["staff_a"], kind="disposal_decided").exists()
    with pytest.raises(ValidationFailed), transaction.atomic():
        disposals.complete(u["staff_a"], d, proceeds="-1")
    with transaction.atomic():
        d = disposals.complete(u["staff_a"], d, proceeds="1200.456", note="公共资源交易中心拍卖成交")
    assert d.status == "disposed" and d.proceeds == Decimal("1200.46")
    kept, gone = Asset.objects.get(pk=d.asset_id), d.disposed_asset
    assert (kept.quantity, gone.quantity, gone.status) == (2, 3, Asset.Status.DISPOSED)
    assert kept.quantity + gone.quantity == 5  # units never vanish


def test_a_refused_proposal_can_be_proposed_again(world):
    u = world["users"]
    d = _disposal(world, acquired_on=date(2015, 1, 1))
    with transaction.atomic():
        disposals.propose(u["staff_a"], d, method="auction", reason="闲置")
    with pytest.raises(ValidationFailed), transaction.atomic():
        disposals.decide(u["bureau_a"], d, approve=False)
    with transaction.atomic():
        d = disposals.decide(u["bureau_a"], d, approve=False, reason="请改为捐赠")
    assert d.status == "awaiting_proposal"
    with transaction.atomic():
        d = disposals.propose(u["staff_a"], d, method="donation", reason="捐赠给乡村学校")
    with transaction.atomic():
        disposals.decide(u["bureau_a"], d, approve=True)
        d = disposals.complete(u["staff_a"], d, proceeds="0")
    assert d.asset.status == Asset.Status.DISPOSED and d.disposed_asset == d.asset


FLOW = """
mutation($p: ProposeDisposalInput!) { proposeDisposal(input: $p) { disposal { status method } errors { field code } } }
"""


def test_graphql_and_workbench(world, gql, client):
    u = world["users"]
    d = _disposal(world, acquired_on=date(2015, 1, 1))
    listed = gql.login(u["bureau_b"]).execute("{ disposals { totalCount } }")["data"]["disposals"]["totalCount"]
    assert listed == 0
    data = gql.login(u["staff_a"]).execute("{ disposals { totalCount edges { node { id status } } } }")["data"]
    assert data["disposals"]["totalCount"] == 1
    result = gql.execute(FLOW, {"p": {"disposalId": gid(d), "method": "AUCTION", "reason": "闲置"}})
    assert result["data"]["proposeDisposal"] == {"disposal": {"status": "PROPOSED", "method": "AUCTION"},
                                                 "errors": []}
    client.force_login(u["bureau_a"])
    assert "批准" in client.get("/lifecycle/disposals/").content.decode()
    assert client.post(f"/lifecycle/disposals/{d.pk}/approve/", {"reason": ""}).status_code == 302
    client.force_login(u["staff_a"])
    bad = client.post(f"/lifecycle/disposals/{d.pk}/complete/", {"proceeds": "-5"})
    assert bad.status_code == 400
    assert client.post(f"/lifecycle/disposals/{d.pk}/complete/", {"proceeds": "300", "note": "成交"}).status_code == 302
    d.refresh_from_db()
    assert d.status == "disposed" and d.proceeds == Decimal("300.00")


def _approved(world, **asset):
    u = world["users"]
    d = _disposal(world, acquired_on=date(2015, 1, 1), **asset)
    with transaction.atomic():
        disposals.propose(u["staff_a"], d, method="auction", reason="超过使用年限，闲置")
        disposals.decide(u["bureau_a"], d, approve=True)
    return d


def test_proceeds_are_posted_balanced_to_the_owning_jurisdiction_never_to_compensation(world):
    d = _approved(world)
    region = world["region"]
    compensation_before = ledger.balances(region)
    with transaction.atomic():
        d = disposals.complete(world["users"]["staff_a"], d, proceeds="1200.456")
    txn = JournalTransaction.objects.get(kind="disposal")
    assert (txn.key, txn.posted, txn.date) == (f"disposal:{d.pk}:proceeds", True, timezone.localdate())
    legs = {(leg.account.kind, leg.account.jurisdiction_id, leg.side, leg.amount)
            for leg in txn.legs.select_related("account")}
    city = world["agency_a"].jurisdiction_id
    assert legs == {("proceeds", city, "debit", Decimal("1200.46")),
                    ("treasury_due", city, "credit", Decimal("1200.46"))}
    assert ledger.balances(region, kind=Account.Kind.TREASURY_DUE) == {
        Account.objects.get(kind="treasury_due").pk: Decimal("-1200.46")}  # owed to the treasury
    assert ledger.balances(region) == compensation_before  # no jurisdiction owes another for it
    assert disposals._post_proceeds(None, d) == txn and JournalTransaction.objects.filter(kind="disposal").count() == 1
    with pytest.raises(DatabaseError), transaction.atomic():  # append-only: the database refuses an edit
        Leg.objects.filter(transaction=txn).update(amount=Decimal("1.00"))


def test_nothing_received_posts_nothing(world):
    d = _approved(world)
    with transaction.atomic():
        disposals.complete(world["users"]["staff_a"], d, proceeds="0")
    assert not JournalTransaction.objects.filter(kind="disposal").exists()
