"""Standards registry: the set in force on a date, allocation checks with bilingual reasons, versioning."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from exchange.models import OfficeSpace
from exchange.services import screening, service_life
from kernel.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from kernel.models import AuditEvent
from regions.models import AssetClassNorm, Headcount, OfficeSpaceNorm, Rank, RentNorm, StandardSet
from regions.services import standards as svc
from tests import factories as f


@pytest.fixture
def sets(region_world):
    region = region_world["region"]
    old = f.StandardSetFactory(region=region, effective_from=date(1999, 1, 1), title="1999")
    new = f.StandardSetFactory(region=region, effective_from=date(2014, 12, 1), title="2014")
    for ss, staff in ((old, "6"), (new, "9")):
        OfficeSpaceNorm.objects.create(standard_set=ss, level="city", rank=Rank.STAFF, area_m2=Decimal(staff))
        OfficeSpaceNorm.objects.create(standard_set=ss, level="city", rank=Rank.BUREAU_HEAD, area_m2=Decimal("24"))
    AssetClassNorm.objects.create(standard_set=new, class_code="2010104", min_service_years=Decimal("6"),
                                  price_cap=Decimal("5000.00"), quantity_per_head=Decimal("1.00"))
    RentNorm.objects.create(standard_set=new, jurisdiction=region_world["city_a"], rent_per_m2_month=Decimal("12"))
    return {"old": old, "new": new, **region_world}


def test_standard_in_force_is_the_latest_effective_on_or_before_the_date(sets):
    region = sets["region"]
    assert svc.standard_in_force(region, date(2014, 11, 30)) == sets["old"]
    assert svc.standard_in_force(region, date(2014, 12, 1)) == sets["new"]
    assert svc.standard_in_force(region, date(2030, 1, 1)) == sets["new"]
    with pytest.raises(NotFound):
        svc.standard_in_force(region, date(1998, 12, 31))


def _asset(agency, **kwargs):
    return f.AssetFactory(agency=agency, **kwargs)


def test_asset_request_within_standards_has_no_breach(sets):
    giver, receiver = sets["agency_b"], sets["agency_a"]  # receiver: 20 staff -> quota 20 desktops
    asset = _asset(giver, original_value=Decimal("4500.00"), acquired_on=date(2017, 3, 1))
    assert screening.check_asset_request(sets["new"], asset=asset, agency=receiver, quantity=1,
                                         on=date(2024, 1, 1)) == []


def test_every_asset_breach_is_reported_with_numbers_in_both_languages(sets):
    giver, receiver = sets["agency_b"], sets["agency_a"]
    for _ in range(2):
        _asset(receiver, quantity=10)  # receiver holds 20 desktops already
    _asset(receiver, quantity=50, status="transferred")  # given away: not held
    asset = _asset(giver, original_value=Decimal("5200.00"), acquired_on=date(2020, 3, 1))
    breaches = screening.check_asset_request(sets["new"], asset=asset, agency=receiver, quantity=1, on=date(2024, 1, 1))
    by_code = {b.code: b for b in breaches}
    assert set(by_code) == {"price_cap", "quota_per_head"}  # a young item may be reallocated (财资〔2016〕27号)
    assert "5200" in by_code["price_cap"].message_zh and "5000" in by_code["price_cap"].message_en
    assert "21" in by_code["quota_per_head"].message_en and "20" in by_code["quota_per_head"].message_zh
    assert by_code["quota_per_head"].field == "quantity"


def test_price_cap_is_strictly_above_and_a_young_item_is_reallocated_freely(sets):
    asset = _asset(sets["agency_b"], original_value=Decimal("5000.00"), acquired_on=date(2023, 12, 1))
    check = screening.check_asset_request
    assert check(sets["new"], asset=asset, agency=sets["agency_a"], quantity=1, on=date(2024, 1, 1)) == []
    asset.original_value = Decimal("5000.01")
    assert [b.code for b in check(sets["new"], asset=asset, agency=sets["agency_a"], quantity=1,
                                  on=date(2024, 1, 1))] == ["price_cap"]


def test_minimum_service_life_governs_disposal_and_replacement_from_the_anniversary(sets):
    rule = service_life.minimum_life(sets["new"], "2010104", date(2018, 1, 1))  # desktops: 6 years
    assert (rule.min_service_years, rule.reached_on) == (6, date(2024, 1, 1))
    assert not rule.allows(date(2023, 12, 31)) and rule.allows(date(2024, 1, 1))
    assert rule.allows(date(2020, 1, 1), damaged_beyond_repair=True)  # the one exception, before the anniversary
    assert service_life.reached_on(date(2018, 1, 31), Decimal("6.5")) == date(2024, 7, 31)  # 78 months
    unknown = service_life.minimum_life(sets["new"], "9999999", date(2025, 1, 1))
    assert unknown.reached_on is None and unknown.allows(date(2025, 1, 2))  # no norm: no restriction


def test_years_in_use_is_days_over_365_25_and_the_residual_share_is_floored(sets):
    assert svc.years_in_use(date(2020, 1, 1), date(2021, 1, 1)) == Decimal(366) / Decimal("365.25")
    assert svc.years_in_use(date(2020, 1, 1), date(2019, 1, 1)) == 0
    norm = sets["new"].class_norms.get()
    assert svc.residual_share(sets["new"], norm, date(2020, 1, 1), date(2023, 1, 1)) == (
        1 - Decimal(1096) / Decimal("365.25") / 6)
    assert svc.residual_share(sets["new"], norm, date(2000, 1, 1), date(2023, 1, 1)) == Decimal("0.050")


def test_a_class_without_norm_has_no_breach(sets):
    cls = f.AssetClassFactory(code="9999999", name_zh="其他", name_en="Other")
    asset = _asset(sets["agency_b"], asset_class=cls, original_value=Decimal("99999"), acquired_on=date(2024, 1, 1))
    assert screening.check_asset_request(sets["new"], asset=asset, agency=sets["agency_a"], quantity=9,
                                         on=date(2024, 1, 2)) == []


def _space(agency, area):
    return OfficeSpace.objects.create(agency=agency, building="B", floor="1", rooms="101", area_m2=Decimal(area),
                                      location=agency.location, available_from=date(2024, 1, 1))


def test_office_entitlement_uses_the_norms_of_the_set_and_level(sets):
    receiver = sets["agency_a"]  # city level, 20 staff
    Headcount.objects.create(agency=receiver, rank=Rank.BUREAU_HEAD, count=1)
    Headcount.objects.create(agency=receiver, rank=Rank.DEPUTY, count=1)  # no city norm: staff figure
    assert screening.office_entitlement(sets["new"], receiver) == Decimal("20") * 9 + 24 + 9
    assert screening.office_entitlement(sets["old"], receiver) == Decimal("20") * 6 + 24 + 6
    _space(receiver, "150.00")
    offered = _space(sets["agency_b"], "63.00")  # 150 + 63 = 213 = entitlement under 2014
    assert screening.check_office_request(sets["new"], office_space=offered, agency=receiver, on=date(2024, 1, 1)) == []
    [breach] = screening.check_office_request(sets["old"], office_space=offered, agency=receiver, on=date(2000, 1, 1))
    assert breach.code == "office_area" and "213" in breach.message_en and "150" in breach.message_zh


def test_new_version_copies_the_set_in_force_and_applies_changes(sets):
    coordinator = sets["users"]["coordinator"]
    on = timezone.localdate() + timedelta(days=30)
    new = svc.create_standard_version(
        coordinator, sets["region"], on, fields={"title": "2026 修订", "approval_working_days": 3},
        office_norms=[{"level": "city", "rank": "staff", "area_m2": "10"}],
        class_norms=[{"class_code": "2010104", "price_cap": "6000"},
                     {"class_code": "6010201", "min_service_years": "15"}])
    assert new.effective_from == on and new.approval_working_days == 3 and new.title == "2026 修订"
    assert new.office_norms.get(level="city", rank="staff").area_m2 == Decimal("10")
    assert new.office_norms.get(level="city", rank="bureau_head").area_m2 == Decimal("24")  # copied
    desktop = new.class_norms.get(class_code="2010104")
    assert desktop.price_cap == Decimal("6000") and desktop.quantity_per_head == Decimal("1.00")
    assert new.rent_norms.get().rent_per_m2_month == Decimal("12")
    # history unchanged
    old = sets["new"]
    old.refresh_from_db()
    assert old.class_norms.get().price_cap == Decimal("5000.00") and old.approval_working_days == 5
    assert svc.standard_in_force(sets["region"], on - timedelta(days=1)) == old
    assert svc.standard_in_force(sets["region"], on) == new
    assert AuditEvent.objects.filter(action="standards.version_created", object_id=str(new.pk)).exists()


def test_a_set_in_force_is_never_modified(sets):
    coordinator = sets["users"]["coordinator"]
    with pytest.raises(InvalidState):
        svc.edit_future_standard(coordinator, sets["new"], fields={"handling_fee": "1"})
    with pytest.raises(InvalidState):
        svc.create_standard_version(coordinator, sets["region"], timezone.localdate(), fields={})
    sets["new"].refresh_from_db()
    assert sets["new"].handling_fee == Decimal("200.00")


def test_future_set_can_be_edited_and_bad_input_changes_nothing(sets):
    coordinator = sets["users"]["coordinator"]
    future = svc.create_standard_version(coordinator, sets["region"], timezone.localdate() + timedelta(days=5))
    svc.edit_future_standard(coordinator, future, fields={"handling_fee": "250.00"},
                             rent_norms=[{"jurisdiction_code": "330100", "rent_per_m2_month": "7.5"}],
                             remove_class_codes=["2010104"])
    future.refresh_from_db()
    assert future.handling_fee == Decimal("250.00") and not future.class_norms.exists()
    assert future.rent_norms.count() == 2
    for bad in ({"fields": {"handling_fee": "-1"}}, {"fields": {"nope": 1}},
                {"office_norms": [{"level": "moon", "rank": "staff", "area_m2": "1"}]},
                {"class_norms": [{"class_code": "1", "min_service_years": "x"}]}):
        with pytest.raises(ValidationFailed):
            svc.edit_future_standard(coordinator, future, **bad)


@pytest.mark.parametrize("who", ["auditor", "bureau_a", "staff_a", "outsider"])
def test_only_the_coordinator_edits_standards(sets, who):
    before = StandardSet.objects.count()
    with pytest.raises(PermissionDenied):
        svc.create_standard_version(sets["users"][who], sets["region"], timezone.localdate() + timedelta(days=5))
    assert StandardSet.objects.count() == before
