"""Purchase check (先调剂后购置): standard (price cap, quota per head), minimum life of the items replaced,
then the warehouse; "take these instead" with the listings, a coordinator's exception to buy anyway, and
the PDF for the procurement file."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from exchange.models import AssetClass
from kernel.errors import InvalidState, PermissionDenied, ValidationFailed
from lifecycle.models import PurchaseRequest
from lifecycle.services import purchases
from notifications.models import Notification
from regions.models import Headcount
from tests import factories as f
from tests import factories_exchange as fx
from tests.factories import gid

FILE = """mutation($i: FilePurchaseCheckInput!) { filePurchaseCheck(input: $i) {
  purchaseCheck { pk code outcome unitPrice pdfUrl checks { check ok code message }
                  matches { listingId title distanceKm available condition } }
  errors { field code message } } }"""


@pytest.fixture
def world(region_world):
    fx.standard_set(region_world["region"], own_window_days=0)  # desktops: cap 5000, 1 per head, 6 years
    Headcount.objects.filter(agency=region_world["agency_b"]).update(count=10)
    f.AssetClassFactory()
    return region_world


def file(world, user="staff_b", agency="agency_b", **kwargs):
    kwargs.setdefault("quantity", 2)
    kwargs.setdefault("unit_price", "4800.00")
    kwargs.setdefault("reason", "新增编制 2 人")
    with transaction.atomic():
        return purchases.file_purchase(world["users"][user], agency=world[agency],
                                       asset_class=AssetClass.objects.get(code="2010104"), **kwargs)


def failed(purchase):
    return [c["code"] for c in purchase.checks if not c["ok"]]


def test_the_warehouse_answers_take_these_instead_with_its_listings(world):
    listing = fx.open_listing(world, quantity=3)
    purchase = file(world)
    assert purchase.outcome == "take_instead" and failed(purchase) == ["warehouse_holds"]
    assert [c["check"] for c in purchase.checks] == ["price_cap", "quota_per_head", "warehouse"]
    [match] = purchase.matches
    assert match["listing"] == listing.pk and match["available"] == 3 and Decimal(match["km"]) > 100
    assert "3" in purchase.checks[-1]["message_zh"] and "300" in purchase.checks[-1]["message_en"]
    note = Notification.objects.get(recipient=world["users"]["staff_b"], kind="purchase_answered")
    assert purchase.code in note.message


def test_nothing_within_the_search_radius_means_the_agency_may_buy(world):
    from regions.models import StandardSet

    fx.open_listing(world)
    StandardSet.objects.update(purchase_search_radius_km=Decimal("50"))  # Shanghai is ~160 km from Hangzhou
    purchase = file(world)
    assert purchase.outcome == "may_buy" and purchase.matches == [] and failed(purchase) == []


def test_price_cap_and_quota_refuse_with_reasons(world):
    for _ in range(9):
        fx.asset(world["agency_b"])  # 9 desktops held, quota 10 × 1
    purchase = file(world, unit_price="5600")
    assert purchase.outcome == "refused" and failed(purchase) == ["price_cap", "quota_per_head"]
    assert "5600" in purchase.checks[0]["message_en"] and "5000" in purchase.checks[0]["message_en"]
    assert "9 held" in purchase.checks[1]["message_en"] and "= 11" in purchase.checks[1]["message_en"]


def test_replacing_an_item_before_its_minimum_life_needs_damage_beyond_repair(world):
    young = fx.asset(world["agency_b"], acquired_on=timezone.localdate() - timedelta(days=400))
    old = fx.asset(world["agency_b"], acquired_on=date(2016, 1, 1))
    refused = file(world, quantity=2, replaces=[young.pk, old.pk])
    assert refused.outcome == "refused" and failed(refused) == ["min_service_life"]
    life = refused.checks[2]["message_zh"]
    assert young.description in life and "财资〔2016〕27号" in life
    with pytest.raises(ValidationFailed):
        file(world, replaces=[young.pk], damaged_beyond_repair=True)  # no assessment
    allowed = file(world, replaces=[young.pk], damaged_beyond_repair=True, damage_note="主板烧毁，维修点出具鉴定")
    assert allowed.outcome == "may_buy" and set(allowed.replaces.all()) == {young}
    other = fx.asset(world["agency_a"])
    with pytest.raises(ValidationFailed):
        file(world, replaces=[other.pk])


def test_a_coordinator_exception_lets_the_agency_buy(world):
    fx.open_listing(world)
    purchase = file(world)
    with pytest.raises(PermissionDenied), transaction.atomic():
        purchases.grant_exception(world["users"]["bureau_b"], purchase, justification="急需")
    with pytest.raises(ValidationFailed), transaction.atomic():
        purchases.grant_exception(world["users"]["coordinator"], purchase, justification=" ")
    with transaction.atomic():
        granted = purchases.grant_exception(world["users"]["coordinator"], purchase,
                                            justification="仓内机型不满足涉密要求")
    assert granted.outcome == "exception_granted" and granted.exception_by == world["users"]["coordinator"]
    with pytest.raises(InvalidState), transaction.atomic():
        purchases.grant_exception(world["users"]["coordinator"], granted, justification="again")


def test_validation_and_authorization(world):
    for bad, field in [({"quantity": 0}, "quantity"), ({"unit_price": "-1"}, "unit_price"),
                       ({"unit_price": "abc"}, "unit_price"), ({"reason": ""}, "reason")]:
        with pytest.raises(ValidationFailed) as exc:
            file(world, **bad)
        assert exc.value.field == field
    with pytest.raises(PermissionDenied):
        file(world, user="staff_a")
    assert not PurchaseRequest.objects.exists()


def test_graphql_answer_and_pdf(world, gql, client):
    listing = fx.open_listing(world)
    result = gql.login(world["users"]["staff_b"]).execute(FILE, {"i": {
        "assetClassCode": "2010104", "quantity": 2, "unitPrice": "4800.00", "reason": "新增编制"}})
    payload = result["data"]["filePurchaseCheck"]
    assert payload["errors"] == []
    check = payload["purchaseCheck"]
    assert check["outcome"] == "TAKE_INSTEAD" and check["unitPrice"] == "4800.00"
    assert check["matches"][0]["listingId"] == gid(listing) and check["matches"][0]["condition"] == "GOOD"
    assert [c["check"] for c in check["checks"]] == ["PRICE_CAP", "QUOTA_PER_HEAD", "WAREHOUSE"]
    client.force_login(world["users"]["staff_b"])
    pdf = client.get(check["pdfUrl"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    client.force_login(world["users"]["staff_a"])
    assert client.get(check["pdfUrl"]).status_code == 404  # another jurisdiction's agency
    client.force_login(world["users"]["staff_b"])
    page = client.get("/lifecycle/purchases/").content.decode()
    assert check["code"] in page and listing.title in page
