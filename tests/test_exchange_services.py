"""Exchange services: register, list, screen, request, allocate, approve in parallel, hand over."""
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from exchange import models as ex
from exchange.services import allocation, approvals, handover, items, screening, transfer_requests
from exchange.signals import transfer_completed
from kernel import audit
from kernel.errors import (
    AlreadyAllocated,
    InvalidState,
    LimitExceeded,
    PermissionDenied,
    StandardsBreach,
    ValidationFailed,
)
from kernel.models import AuditEvent
from regions.models import AllocationMode, OfficeSpaceNorm
from tests import factories as f
from tests import factories_exchange as fx
from tests.images import image_bytes

PNG = image_bytes("PNG")


@pytest.fixture
def world(region_world):
    region_world["standards"] = fx.standard_set(region_world["region"], own_window_days=0)
    return region_world


def request(world, listing, user="staff_b", agency="agency_b", **kwargs):
    kwargs.setdefault("quantity", 1)
    kwargs.setdefault("justification", "新入职人员办公需要")
    return transfer_requests.create_request(world["users"][user], listing=listing, agency=world[agency], **kwargs)


def approve_all(world, transfer):
    deciders = {"giving_bureau": "bureau_a", "receiving_bureau": "bureau_b", "coordinator": "coordinator"}
    for step in transfer.steps.all():
        approvals.decide_step(world["users"][deciders[step.kind]], step, approve=True)
    transfer.refresh_from_db()
    return transfer


def test_register_asset_defaults_location_and_audits(world):
    asset = items.register_asset(world["users"]["staff_a"], agency=world["agency_a"],
                                 asset_class=f.AssetClassFactory(), description="联想台式机",
                                 original_value=Decimal("4500.00"), acquired_on=date(2017, 3, 1))
    assert asset.location == world["agency_a"].location and asset.status == "in_use"
    assert AuditEvent.objects.filter(action="asset.registered", object_id=str(asset.pk)).exists()


@pytest.mark.parametrize("field,value", [("acquired_on", date(2999, 1, 1)), ("original_value", Decimal("-1")),
                                         ("quantity", 0), ("description", "  ")])
def test_register_asset_rejects_bad_input_and_changes_nothing(world, field, value):
    data = {"description": "台式机", "original_value": Decimal("10"), "acquired_on": date(2020, 1, 1),
            "quantity": 1} | {field: value}
    with pytest.raises(ValidationFailed):
        items.register_asset(world["users"]["staff_a"], agency=world["agency_a"],
                             asset_class=f.AssetClassFactory(), **data)
    assert not ex.Asset.objects.exists() and not AuditEvent.objects.exists()


def test_register_asset_outside_scope_is_denied(world):
    with pytest.raises(PermissionDenied):
        items.register_asset(world["users"]["staff_b"], agency=world["agency_a"], asset_class=f.AssetClassFactory(),
                             description="x", original_value=Decimal("1"), acquired_on=date(2020, 1, 1))


def test_photo_limits_on_size_and_type(world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    asset = fx.asset(world["agency_a"])
    user = world["users"]["staff_a"]
    with pytest.raises(LimitExceeded):
        items.add_photo(user, asset, filename="big.png", content=PNG + b"\0" * (5 * 1024 * 1024))
    with pytest.raises(ValidationFailed):
        items.add_photo(user, asset, filename="fake.jpg", content=b"GIF89a" + b"\0" * 10)
    photo = items.add_photo(user, asset, filename="../../etc/ok.png", content=PNG)
    assert photo.content_type == "image/png" and photo.size == photo.file.size
    assert re.fullmatch(rf"assets/{asset.pk}/[0-9a-f]{{32}}\.png", photo.file.name)
    webp = items.add_photo(user, asset, filename="w.jpg", content=image_bytes("WEBP"))
    assert webp.content_type == "image/webp" and webp.file.name.endswith(".webp")


def test_mark_idle_opens_listing_with_windows_from_standards(region_world):
    fx.standard_set(region_world["region"], own_window_days=7, region_window_days=14)
    before = timezone.now()
    listing = fx.open_listing(region_world, description="联想启天台式计算机")
    assert listing.status == "open" and listing.asset.status == "listed"
    assert timedelta(days=7) <= listing.own_window_ends_at - before < timedelta(days=7, minutes=1)
    assert listing.region_window_ends_at - listing.own_window_ends_at == timedelta(days=14)
    assert listing.window_at() == "jurisdiction"
    assert "联想启天" in listing.search_text and "上海" in listing.search_text and "2010104" in listing.search_text
    with pytest.raises(InvalidState):  # already listed
        items.mark_idle(region_world["users"]["staff_a"], asset=listing.asset)


def test_own_jurisdiction_window_keeps_other_cities_out(region_world):
    fx.standard_set(region_world["region"], own_window_days=7)
    listing = fx.open_listing(region_world)
    with pytest.raises(PermissionDenied):
        request(region_world, listing)
    assert not ex.TransferRequest.objects.exists()


def test_standards_breach_is_refused_with_every_reason(world):
    fx.asset(world["agency_b"], quantity=20)  # the receiver's 20 staff hold their quota of desktops already
    listing = fx.open_listing(world, original_value=Decimal("6000.00"), acquired_on=timezone.localdate()
                              - timedelta(days=400))  # young: no breach (财资〔2016〕27号 governs disposal)
    with pytest.raises(StandardsBreach) as exc:
        request(world, listing)
    assert {d["message"][:12] for d in exc.value.details} == {"[price_cap] ", "[quota_per_h"}
    assert all(d["code"] == "standards_breach" and d["message"] for d in exc.value.details)
    assert not ex.TransferRequest.objects.exists() and not ex.Transfer.objects.exists()


def test_exception_with_justification_is_accepted_flagged_and_adds_the_coordinator(world):
    listing = fx.open_listing(world, original_value=Decimal("6000.00"))
    with pytest.raises(ValidationFailed) as exc:
        request(world, listing, exception_requested=True)
    assert exc.value.field == "exception_justification"
    req, transfer = request(world, listing, exception_requested=True, exception_justification="特殊岗位需要")
    assert req.exception_requested and req.breaches and req.status == "allocated"
    assert sorted(transfer.steps.values_list("kind", flat=True)) == ["coordinator", "giving_bureau",
                                                                      "receiving_bureau"]


def test_first_come_allocates_once_and_the_next_gets_already_allocated(world):
    listing = fx.open_listing(world)
    req, transfer = request(world, listing)
    assert transfer.status == "approving" and transfer.quantity == 1 and transfer.value == Decimal("4500.00")
    assert transfer.distance_km > 100  # Shanghai → Hangzhou
    assert sorted(transfer.steps.values_list("kind", flat=True)) == ["giving_bureau", "receiving_bureau"]
    listing.refresh_from_db()
    assert listing.quantity_available == 0 and listing.status == "allocated"
    other = f.AgencyFactory(jurisdiction=world["city_b"])
    with pytest.raises(AlreadyAllocated):
        transfer_requests.create_request(world["users"]["bureau_b"], listing=listing, agency=other, quantity=1,
                                         justification="也要")


def test_value_above_threshold_adds_coordinator(region_world):
    fx.standard_set(region_world["region"], own_window_days=0, threshold="8000.00")
    listing = fx.open_listing(region_world, quantity=3)
    _, transfer = request(region_world, listing, quantity=2)
    assert transfer.value == Decimal("9000.00")
    assert transfer.steps.filter(kind="coordinator").exists()


def test_steps_deadline_in_working_days_and_yellow_at_two_thirds(world):
    listing = fx.open_listing(world)
    _, transfer = request(world, listing)
    step = transfer.steps.first()
    assert step.due_at > step.yellow_at > step.opened_at
    assert abs((step.yellow_at - step.opened_at) * 3 - (step.due_at - step.opened_at) * 2) < timedelta(seconds=1)
    assert step.light == "green"


def test_any_refusal_ends_transfer_and_returns_quantity(world):
    listing = fx.open_listing(world)
    _, transfer = request(world, listing)
    giving = transfer.steps.get(kind="giving_bureau")
    with pytest.raises(ValidationFailed):
        approvals.decide_step(world["users"]["bureau_a"], giving, approve=False, reason="")
    approvals.decide_step(world["users"]["bureau_a"], giving, approve=False, reason="本单位仍需使用")
    transfer.refresh_from_db()
    listing.refresh_from_db()
    assert transfer.status == "refused" and transfer.status_reason == "本单位仍需使用"
    assert listing.quantity_available == 1 and listing.status == "open" and listing.asset.status == "listed"
    assert transfer.steps.get(kind="receiving_bureau").decision == "closed"
    with pytest.raises(InvalidState):
        approvals.decide_step(world["users"]["bureau_b"], transfer.steps.get(kind="receiving_bureau"), approve=True)


def test_only_the_step_authority_decides(world):
    listing = fx.open_listing(world)
    _, transfer = request(world, listing)
    giving = transfer.steps.get(kind="giving_bureau")
    for key in ("bureau_b", "coordinator", "staff_a", "auditor"):
        with pytest.raises(PermissionDenied):
            approvals.decide_step(world["users"][key], giving, approve=True)


def test_cancel_before_handover_returns_quantity(world):
    listing = fx.open_listing(world)
    _, transfer = request(world, listing)
    with pytest.raises(ValidationFailed):
        handover.cancel_transfer(world["users"]["staff_b"], transfer, reason=" ")
    handover.cancel_transfer(world["users"]["staff_b"], transfer, reason="需求取消")
    transfer.refresh_from_db()
    listing.refresh_from_db()
    assert transfer.status == "cancelled" and listing.quantity_available == 1 and listing.status == "open"
    assert not transfer.steps.filter(decision="pending").exists()


def test_full_path_to_completion_moves_ownership_and_tells_the_ledger(world):
    calls = []

    def listener(sender, transfer, user, **kwargs):
        calls.append(transfer.pk)

    transfer_completed.connect(listener, sender=ex.Transfer)
    try:
        _full_path_to_completion(world)
    finally:
        transfer_completed.disconnect(listener, sender=ex.Transfer)
    assert calls == [ex.Transfer.objects.get(status="completed").pk]


def _full_path_to_completion(world):
    listing = fx.open_listing(world)
    _, transfer = request(world, listing)
    with pytest.raises(InvalidState):  # not approved yet
        handover.confirm_handover(world["users"]["staff_b"], transfer, received_quantity=1,
                                  received_condition="good")
    transfer = approve_all(world, transfer)
    assert transfer.status == "handover" and transfer.approved_at
    with pytest.raises(PermissionDenied):  # the giver cannot confirm receipt
        handover.confirm_handover(world["users"]["staff_a"], transfer, received_quantity=1,
                                  received_condition="good")
    with pytest.raises(ValidationFailed):
        handover.confirm_handover(world["users"]["staff_b"], transfer, received_quantity=2,
                                  received_condition="good")
    handover.confirm_handover(world["users"]["staff_b"], transfer, received_quantity=1, received_condition="fair")
    transfer.refresh_from_db()
    assert transfer.status == "completed" and re.fullmatch(r"[A-HJ-NP-Z2-9]{12}", transfer.certificate_code)
    assert transfer.received_asset.agency == world["agency_b"] and transfer.received_asset.condition == "fair"
    assert ex.Asset.objects.get(pk=listing.asset_id).status == "transferred"
    assert ex.Listing.objects.get(pk=listing.pk).status == "closed"
    actions = [a for a in transfer.events.values_list("action", flat=True) if not a.startswith("ledger.")]
    assert actions == ["transfer.allocated", "approval.opened", "approval.approved", "approval.approved",
                       "transfer.approved", "transfer.completed"]
    assert audit.verify_chain() is None


def test_window_close_allocation_is_first_come_within_the_window(region_world):
    fx.standard_set(region_world["region"], own_window_days=0, mode=AllocationMode.WINDOW_CLOSE)
    listing = fx.open_listing(region_world, quantity=2)
    other = f.AgencyFactory(jurisdiction=region_world["city_b"])
    first, none = request(region_world, listing, quantity=2)
    assert none is None and first.status == "pending"
    second, _ = transfer_requests.create_request(region_world["users"]["bureau_b"], listing=listing, agency=other,
                                                 quantity=1, justification="需要")
    with pytest.raises(InvalidState):  # no window has closed yet
        allocation.allocate_at_window_close(listing, region_world["users"]["bureau_a"],
                                            now=listing.own_window_ends_at - timedelta(seconds=1))
    # the own-jurisdiction window closed with no request in it; regional requests wait for their window
    assert allocation.allocate_at_window_close(listing, region_world["users"]["bureau_a"],
                                               now=listing.own_window_ends_at) == []
    with pytest.raises(PermissionDenied):
        allocation.allocate_at_window_close(listing, region_world["users"]["staff_b"],
                                            now=listing.region_window_ends_at)
    created = allocation.allocate_at_window_close(listing, region_world["users"]["bureau_a"],
                                                  now=listing.region_window_ends_at + timedelta(seconds=1))
    assert [t.request_id for t in created] == [first.pk]
    second.refresh_from_db()
    assert second.status == "not_allocated"


def test_withdraw_listing_and_request(region_world):
    fx.standard_set(region_world["region"], own_window_days=0, mode=AllocationMode.WINDOW_CLOSE)
    listing = fx.open_listing(region_world)
    req, _ = request(region_world, listing)
    transfer_requests.withdraw_request(region_world["users"]["staff_b"], req, reason="不再需要")
    req.refresh_from_db()
    assert req.status == "withdrawn"
    with pytest.raises(PermissionDenied):
        items.withdraw_listing(region_world["users"]["staff_b"], listing, reason="x")
    items.withdraw_listing(region_world["users"]["staff_a"], listing, reason="自用")
    listing.refresh_from_db()
    assert listing.status == "withdrawn" and listing.asset.status == "idle"


def test_office_space_is_listed_requested_and_reallocated(world):
    space = items.register_office_space(world["users"]["bureau_a"], agency=world["agency_a"], building="市府大楼",
                                        floor="5", rooms="501", area_m2=Decimal("30.00"),
                                        available_from=date(2026, 1, 1))
    with pytest.raises(ValidationFailed):
        items.register_office_space(world["users"]["bureau_a"], agency=world["agency_a"], building="x", floor="1",
                                    rooms="1", area_m2=Decimal("0"), available_from=date(2026, 1, 1))
    listing = items.mark_idle(world["users"]["staff_a"], office_space=space)  # bureau_a approves its release
    with pytest.raises(StandardsBreach):  # no office norm: entitlement 0 m²
        request(world, listing)
    OfficeSpaceNorm.objects.create(standard_set=world["standards"], level="city", rank="staff", area_m2=9)
    assert listing.quantity == 1 and "市府大楼" in listing.search_text and "办公用房" in listing.search_text
    _, transfer = request(world, listing)
    transfer = approve_all(world, transfer)
    handover.confirm_handover(world["users"]["staff_b"], transfer, received_quantity=1, received_condition="good")
    space.refresh_from_db()  # occupied, not owned: the owner stays and an occupancy records who uses it
    assert space.agency == world["agency_a"] and space.status == "occupied"
    occupancy = space.occupancies.get()
    assert (occupancy.occupant, occupancy.area_m2, occupancy.ended_on) == (world["agency_b"], Decimal("30.00"), None)
    assert occupancy.transfer == transfer


def test_standards_check_saves_nothing(world):
    from exchange import selectors

    listing = fx.open_listing(world, original_value=Decimal("6000.00"))
    result = screening.standards_check(world["users"]["staff_b"], listing, world["agency_b"], 1)
    assert [b["code"] for b in result["breaches"]] == ["price_cap"] and result["standards"] == world["standards"]
    assert not selectors.requests_for(world["users"]["staff_b"]).exists()
    request(world, listing, exception_requested=True, exception_justification="特批")
    assert selectors.requests_for(world["users"]["staff_a"]).count() == 1  # the giver sees it too
    assert not selectors.requests_for(world["users"]["outsider"]).exists()
