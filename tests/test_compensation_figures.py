"""Hand-computed figures of three transfers, to the fen, against what the ledger posts: an asset below its
minimum service life, one at the salvage floor, and an office occupancy over two months (prorated rent
until it ends, no transport fee). Also: occupancy bounds (availableTo), savings, asset numbers and origin."""
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from exchange.models import Asset, OfficeSpace, Transfer
from exchange.services import approvals, handover, items, occupancy, transfer_requests
from kernel.errors import ValidationFailed
from ledger import services
from ledger.models import CompensationBreakdown, JournalTransaction
from regions.models import RentNorm
from tests import factories_exchange as fx
from tests.factories import gid

SH = ZoneInfo("Asia/Shanghai")
DECIDERS = {"giving_bureau": "bureau_a", "receiving_bureau": "bureau_b", "coordinator": "coordinator"}


@pytest.fixture
def world(region_world):
    region_world["standards"] = fx.standard_set(region_world["region"], own_window_days=0)
    RentNorm.objects.create(standard_set=region_world["standards"], jurisdiction=region_world["city_a"],
                            rent_per_m2_month=Decimal("7.50"))
    return region_world


def at(monkeypatch, *when):
    moment = datetime(*when, tzinfo=SH)
    monkeypatch.setattr(timezone, "now", lambda: moment)


def transfer_of(world, listing, quantity=1):
    _, transfer = transfer_requests.create_request(world["users"]["staff_b"], listing=listing, agency=world["agency_b"],
                                           quantity=quantity, justification="办公需要", exception_requested=True,
                                           exception_justification="测试")
    for step in transfer.steps.all():
        approvals.decide_step(world["users"][DECIDERS[step.kind]], step, approve=True)
    transfer.refresh_from_db()
    handover.confirm_handover(world["users"]["staff_b"], transfer, received_quantity=quantity,
                               received_condition="good")
    return Transfer.objects.get(pk=transfer.pk)


def posted(transfer, kind="compensation"):
    """{(division code, side): amount} of the transfer's postings of a kind, summed per month key."""
    return [(t.date, {(leg.account.jurisdiction.code, leg.side): leg.amount for leg in t.legs.all()})
            for t in JournalTransaction.objects.filter(transfer=transfer, kind=kind).order_by("date")]


# Shanghai agency (121.47 E, 31.23 N) → Hangzhou agency (120.16 E, 30.27 N): 164.50126592866596 km on WGS84
# (geographiclib), transport 3.00 CNY/km → 493.50379778599788 CNY, unrounded; handling fee 200.00 CNY.

def test_desktop_below_minimum_life(world, monkeypatch):
    # 2 desktops × 4500.00, acquired 2023-03-01, handed over 2026-06-15: 1202 days ÷ 365.25 = 3.290897 years,
    # residual share 1 − 3.290897 ÷ 6 = 0.451517; 9000.00 × 0.451517 × rate 0.8 = 3250.924 CNY;
    # 3250.924 + 200 + 493.504 = 3944.428 → 3944.43 (refused before as "不得调出"; now allowed)
    at(monkeypatch, 2026, 6, 15, 10)
    listing = fx.open_listing(world, quantity=2, original_value=Decimal("4500.00"), acquired_on=date(2023, 3, 1))
    transfer = transfer_of(world, listing, quantity=2)
    assert posted(transfer) == [(date(2026, 6, 15), {("330100", "debit"): Decimal("3944.43"),
                                                     ("310000", "credit"): Decimal("3944.43")})]
    details = transfer.compensation.details
    assert details["days_in_use"] == 1202 and details["years_in_use"] == "3.290897"
    assert "365.25" in details["years_in_use_rule"]
    # savings: 2 received × the class price cap 5000.00 = 10000.00 not bought − 3944.43 paid = 6055.57
    assert (transfer.compensation.value_not_bought, transfer.compensation.savings) == (
        Decimal("10000.00"), Decimal("6055.57"))


def test_desktop_at_the_salvage_floor(world, monkeypatch):
    # 1 desktop × 4000.00 acquired 2015-01-01: 11.45 years > 6, share = floor 0.05 → 200.00 × 0.8 = 160.00;
    # 160.00 + 200 + 493.504 = 853.504 → 853.50
    at(monkeypatch, 2026, 6, 15, 10)
    listing = fx.open_listing(world, original_value=Decimal("4000.00"), acquired_on=date(2015, 1, 1))
    transfer = transfer_of(world, listing)
    assert posted(transfer) == [(date(2026, 6, 15), {("330100", "debit"): Decimal("853.50"),
                                                     ("310000", "credit"): Decimal("853.50")})]
    assert transfer.compensation.details["residual_share"] == "0.050000"
    assert transfer.compensation.savings == Decimal("5000.00") - Decimal("853.50")


def _office(world, monkeypatch, available_to=None):
    at(monkeypatch, 2026, 6, 15, 10)
    space = items.register_office_space(world["users"]["staff_a"], agency=world["agency_a"], building="东楼",
                                        floor="5", rooms="501", area_m2=Decimal("86.00"),
                                        available_from=date(2026, 6, 1), available_to=available_to)
    listing = items.mark_idle(world["users"]["staff_a"], office_space=space)
    return transfer_of(world, listing)


def test_office_occupancy_over_two_months(world, monkeypatch):
    # 86.00 m² at Shanghai's 7.50 CNY/m²/month from 2026-06-15 to 2026-08-14 (last day, ended by the service):
    # June 16/30 days → 344.00; July 31/31 → 645.00; August 14/31 → 291.290 → 291.29; at handover only the
    # handling fee 200.00 (a building is not transported)
    transfer = _office(world, monkeypatch)
    space = OfficeSpace.objects.get(pk=transfer.listing.office_space_id)
    assert space.agency == world["agency_a"] and space.status == "occupied"  # the owner stays
    assert posted(transfer) == [(date(2026, 6, 15), {("330100", "debit"): Decimal("200.00"),
                                                     ("310000", "credit"): Decimal("200.00")})]
    assert transfer.compensation.transport == 0 and transfer.compensation.savings is None
    at(monkeypatch, 2026, 7, 20, 9)
    assert services.post_monthly_rent() == 1  # June, once it is over
    assert services.post_monthly_rent() == 0
    at(monkeypatch, 2026, 8, 20, 9)
    with pytest.raises(ValidationFailed):
        occupancy.end_occupancy(world["users"]["staff_b"], transfer.occupancy, last_day=date(2026, 8, 21))
    occupancy.end_occupancy(world["users"]["staff_b"], transfer.occupancy, last_day=date(2026, 8, 14))
    rents = posted(transfer, "rent")
    assert [(d, legs[("330100", "debit")]) for d, legs in rents] == [
        (date(2026, 6, 30), Decimal("344.00")), (date(2026, 7, 31), Decimal("645.00")),
        (date(2026, 8, 14), Decimal("291.29"))]
    assert all(legs[("310000", "credit")] == legs[("330100", "debit")] for _d, legs in rents)
    at(monkeypatch, 2026, 12, 1, 9)
    assert services.post_monthly_rent() == 0  # nothing after the occupancy ended
    space.refresh_from_db()
    assert space.status == "idle"


def test_available_to_bounds_the_occupancy(world, monkeypatch):
    # availableTo 2026-07-20: June 16/30 → 344.00, July 20/31 → 416.129 → 416.13; then it ends by itself
    transfer = _office(world, monkeypatch, available_to=date(2026, 7, 20))
    at(monkeypatch, 2026, 12, 1, 9)
    assert services.post_monthly_rent() == 2
    assert [legs[("330100", "debit")] for _d, legs in posted(transfer, "rent")] == [Decimal("344.00"),
                                                                                    Decimal("416.13")]
    transfer.occupancy.refresh_from_db()
    assert transfer.occupancy.ended_on == date(2026, 7, 20)
    assert OfficeSpace.objects.get(pk=transfer.listing.office_space_id).status == "idle"


def test_monthly_rent_task_posts_once_per_occupancy_and_month(world, monkeypatch):
    from ledger.tasks import post_monthly_rent

    transfer = _office(world, monkeypatch)
    at(monkeypatch, 2026, 9, 1, 9)  # June (16 days), July and August are over
    assert post_monthly_rent.name == "ledger.tasks.post_monthly_rent"
    assert post_monthly_rent() == 3 and post_monthly_rent() == 0  # a rerun posts nothing
    assert [legs[("330100", "debit")] for _d, legs in posted(transfer, "rent")] == [
        Decimal("344.00"), Decimal("645.00"), Decimal("645.00")]


def test_occupancies_over_graphql(world, monkeypatch, gql):
    transfer = _office(world, monkeypatch)
    at(monkeypatch, 2026, 7, 10, 9)
    gql.login(world["users"]["staff_a"])  # the owner sees who occupies its space
    listed = gql.operation("Occupancies", {"open": True})["data"]["occupancies"]
    assert listed["totalCount"] == 1 and listed["edges"][0]["node"]["occupant"]["nameZh"] == "杭州乙单位"
    gql.login(world["users"]["staff_b"])
    early = gql.operation("OccupancyEnd", {"input": {"occupancyId": gid(transfer.occupancy),
                                                     "lastDay": "2026-06-01"}})["data"]["endOccupancy"]
    assert early["occupancy"] is None and early["errors"][0]["field"] == "lastDay"
    done = gql.operation("OccupancyEnd", {"input": {"occupancyId": gid(transfer.occupancy),
                                                    "lastDay": "2026-07-09"}})["data"]["endOccupancy"]
    assert done["errors"] == [] and done["occupancy"]["endedOn"] == "2026-07-09"
    # June 16/30 → 344.00 and July 9/31 → 187.258 → 187.26, posted at once
    assert [legs[("330100", "debit")] for _d, legs in posted(transfer, "rent")] == [Decimal("344.00"),
                                                                                    Decimal("187.26")]


def test_received_record_carries_its_origin_and_an_asset_number(world, monkeypatch):
    at(monkeypatch, 2026, 6, 15, 10)
    transfer = transfer_of(world, fx.open_listing(world, original_value=Decimal("4000.00")))
    received = Asset.objects.get(pk=transfer.received_asset_id)
    assert received.origin_transfer == transfer and received.asset_number == f"GWC-{transfer.certificate_code}"
    assert CompensationBreakdown.objects.filter(transfer=transfer).exists()


def test_occupancy_is_shown_and_ended_from_the_transfer_page(world, monkeypatch, client):
    transfer = _office(world, monkeypatch)
    at(monkeypatch, 2026, 7, 10, 9)
    client.force_login(world["users"]["staff_a"])  # the owner may end it too
    page = client.get(f"/transfers/{transfer.pk}/").content.decode()
    assert 'id="occupancy"' in page and 'id="end-occupancy-form"' in page
    client.force_login(world["users"]["auditor"])
    assert 'id="end-occupancy-form"' not in client.get(f"/transfers/{transfer.pk}/").content.decode()
    client.force_login(world["users"]["staff_b"])
    refused = client.post(f"/transfers/{transfer.pk}/", {"action": "end_occupancy", "last_day": "2026-08-01"})
    transfer.occupancy.refresh_from_db()
    assert refused.status_code == 400 and transfer.occupancy.ended_on is None  # a future day: refused
    done = client.post(f"/transfers/{transfer.pk}/", {"action": "end_occupancy", "last_day": "2026-06-30"})
    assert done.status_code == 302
    assert [legs[("330100", "debit")] for _d, legs in posted(transfer, "rent")] == [Decimal("344.00")]
    assert "2026-06-30" in client.get(f"/transfers/{transfer.pk}/").content.decode()
