"""Bounds on what people type, declared once on the model fields and applied by kernel.bounds in the service
(so GraphQL has them too), on the form (all fields in one pass, what was typed kept), in the import and by the
pre_save guard (any other door): quantity ≤ 10,000, acquisition 1950 … today, needed-by not past,
justification ≤ 2,000 characters; messages translated."""
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from exchange import models as ex
from exchange.services import items, transfer_requests
from kernel.errors import ValidationFailed
from tests import factories as f
from tests import factories_exchange as fx


@pytest.fixture
def world(region_world):
    region_world["standards"] = fx.standard_set(region_world["region"], own_window_days=0)
    return region_world


def test_services_bound_quantity_dates_and_text(world):
    staff_a, cls = world["users"]["staff_a"], f.AssetClassFactory()
    base = {"agency": world["agency_a"], "asset_class": cls, "description": "台式机", "original_value": "100.00"}
    with pytest.raises(ValidationFailed, match="每条记录最多 10000 件") as exc:
        items.register_asset(staff_a, acquired_on=date(2020, 1, 1), quantity=10_001, **base)
    assert exc.value.field == "quantity"
    with pytest.raises(ValidationFailed, match="取得日期不能早于 1950-01-01"):
        items.register_asset(staff_a, acquired_on=date(1949, 12, 31), **base)
    listing = fx.open_listing(world)
    ask = {"listing": listing, "agency": world["agency_b"], "quantity": 1}
    with pytest.raises(ValidationFailed, match="最多 2000 个字符") as exc:
        transfer_requests.create_request(world["users"]["staff_b"], justification="理" * 2001, **ask)
    assert exc.value.field == "justification"
    with pytest.raises(ValidationFailed, match="需用日期不能早于今天") as exc:
        transfer_requests.create_request(world["users"]["staff_b"], justification="办公",
                                         needed_by=timezone.localdate() - timedelta(days=1), **ask)
    assert exc.value.field == "needed_by"
    assert ex.TransferRequest.objects.count() == 0


def test_asset_form_reports_every_bound_at_once_and_keeps_the_input(client, world):
    cls = f.AssetClassFactory()
    client.force_login(world["users"]["staff_a"])
    response = client.post(reverse("web:asset_new"), {
        "agency": world["agency_a"].pk, "asset_class": cls.pk, "description": "旧打印机", "quantity": "20000",
        "unit": "台", "original_value": "10.00", "acquired_on": "1900-01-01", "condition": "good"})
    errors = response.context["form"].errors
    assert set(errors) == {"quantity", "acquired_on"}
    assert errors["acquired_on"] == ["取得日期不能早于 1950-01-01。"]
    assert 'value="旧打印机"' in response.content.decode()
    assert not ex.Asset.objects.filter(description="旧打印机").exists()


def test_request_form_bounds_in_english(client, world):
    listing = fx.open_listing(world)
    client.force_login(world["users"]["staff_b"])
    response = client.post(reverse("web:listing", args=[listing.pk]), {
        "agency": world["agency_b"].pk, "quantity": "1", "justification": "x" * 2001, "action": "submit",
        "needed_by": (timezone.localdate() - timedelta(days=2)).isoformat(), "exception_justification": ""},
        HTTP_ACCEPT_LANGUAGE="en")
    errors = response.context["form"].errors
    assert set(errors) == {"justification", "needed_by"}
    assert errors["needed_by"] == ["The needed-by date cannot be in the past."]
    assert ex.TransferRequest.objects.count() == 0


def test_the_same_bounds_hold_at_every_door(world):
    """The import's rows and a save that no service checked (admin, a command) meet the same declarations."""
    from exchange.services.bulk_import import import_assets

    cls = f.AssetClassFactory()
    csv = ("asset_class,description,quantity,original_value,acquired_on\n"
           f"{cls.code},台式机,10001,1.00,2020-01-01\n{cls.code},台式机,1,1.00,1949-12-31\n")
    result = import_assets(world["users"]["staff_a"], world["agency_a"], csv)
    assert [(e["row"], e["field"], e["message"]) for e in result.errors] == [
        (2, "quantity", "每条记录最多 10000 件。"), (3, "acquired_on", "取得日期不能早于 1950-01-01。")]
    with pytest.raises(ValidationFailed, match="每条记录最多 10000 件") as exc:
        f.AssetFactory(agency=world["agency_a"], quantity=10_001)
    assert (exc.value.field, exc.value.code) == ("quantity", "limit_exceeded")
    with pytest.raises(ValidationFailed) as exc:
        f.AssetFactory(agency=world["agency_a"], acquired_on=timezone.localdate() + timedelta(days=1))
    assert exc.value.field == "acquired_on"
    assert not ex.Asset.objects.exists()


def test_office_space_and_listing_edit_forms_use_the_model_bounds(client, world):
    client.force_login(world["users"]["staff_a"])
    response = client.post(reverse("web:office_space_new"), {
        "agency": world["agency_a"].pk, "building": "楼" * 201, "floor": "9" * 21, "rooms": "a\x00b",
        "area_m2": "1.005", "available_from": timezone.localdate().isoformat(), "available_to": ""})
    errors = response.context["form"].errors
    assert set(errors) == {"building", "floor", "rooms", "area_m2"}
    assert errors["area_m2"] == ["最多 2 位小数。"] and errors["floor"] == ["最多 20 个字符（收到 21 个）。"]
    assert not ex.OfficeSpace.objects.exists()
    listing = fx.open_listing(world)
    response = client.post(reverse("web:edit_listing", args=[listing.pk]),
                           {"description": "长" * 301, "condition": "good"})
    assert response.context["form"].errors["description"] == ["最多 300 个字符（收到 301 个）。"]
    listing.asset.refresh_from_db()
    assert listing.asset.description != "长" * 301
