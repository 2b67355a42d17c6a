"""Screening against the standards in force: the checks of a proposed allocation (price cap, quota per
head, office area) and the "check first" read of them. (The minimum service life does not restrict a
reallocation; it governs disposal and replacement: exchange/services/service_life.py.)"""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from exchange.models import Occupancy, OfficeSpace
from exchange.services.common import pick_message
from regions.models import Rank
from regions.permissions import require
from regions.scope import Scope
from regions.services.standards import standard_in_force

HELD_ASSET_STATUSES = ("in_use", "idle", "listed")


@dataclass(frozen=True)
class Breach:
    code: str
    field: str | None
    message_zh: str
    message_en: str


def _num(value):
    """A Decimal shown without trailing zeros: 5000.00 -> 5000, 0.50 -> 0.5."""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def check_asset_request(standard_set, *, asset, agency, quantity, on: date) -> list[Breach]:
    """Every breach of the asset class's norm in `standard_set` by `agency` requesting `quantity` of `asset`
    on `on`: price cap per item, quantity cap per head. No norm for the class: none. (Minimum service life
    does not restrict a reallocation: see exchange/services/service_life.py.)"""
    code = asset.asset_class.code
    norm = standard_set.class_norms.filter(class_code=code).first()
    if norm is None:
        return []
    breaches = []
    if norm.price_cap is not None and asset.original_value > norm.price_cap:
        breaches.append(Breach(
            "price_cap", "listing_id",
            f"单价 {_num(asset.original_value)} 元超过 {code} 类配置上限 {_num(norm.price_cap)} 元",
            f"Unit value {_num(asset.original_value)} CNY exceeds the class {code} price cap of "
            f"{_num(norm.price_cap)} CNY"))
    if norm.quantity_per_head is not None:
        headcount = agency.total_headcount
        cap = norm.quantity_per_head * headcount
        held = (agency.assets.filter(asset_class__code=code, status__in=HELD_ASSET_STATUSES)
                .aggregate(n=Sum("quantity"))["n"] or 0)
        if held + quantity > cap:
            breaches.append(Breach(
                "quota_per_head", "quantity",
                f"现有 {held} 件加申请 {quantity} 件共 {held + quantity} 件，超过定额 {_num(cap)} 件"
                f"（编制 {headcount} 人 × 每人 {_num(norm.quantity_per_head)} 件）",
                f"{held} held + {quantity} requested = {held + quantity}, above the quota of {_num(cap)} "
                f"({headcount} staff × {_num(norm.quantity_per_head)} per head)"))
    return breaches


def office_entitlement(standard_set, agency) -> Decimal:
    """Σ headcount[rank] × m² per person for the agency's jurisdiction level and that rank. A rank with no
    norm at that level counts at the level's `staff` (以下人员) figure."""
    level = agency.jurisdiction.level
    norms = dict(standard_set.office_norms.filter(level=level).values_list("rank", "area_m2"))
    fallback = norms.get(Rank.STAFF, Decimal("0"))
    return sum((Decimal(h.count) * norms.get(h.rank, fallback) for h in agency.headcounts.all()), Decimal("0"))


def check_office_request(standard_set, *, office_space, agency, on: date) -> list[Breach]:
    """Breach `office_area` when the office space the agency uses (its own, any status, unless another agency
    occupies it, plus space it occupies) and the requested area exceed its entitlement under `standard_set`."""
    entitlement = office_entitlement(standard_set, agency)
    lent = Occupancy.objects.filter(ended_on__isnull=True).values("office_space_id")
    owned = (OfficeSpace.objects.filter(agency=agency).exclude(pk=office_space.pk).exclude(pk__in=lent)
             .aggregate(a=Sum("area_m2"))["a"] or Decimal("0"))
    occupied = (Occupancy.objects.filter(occupant=agency, ended_on__isnull=True).exclude(office_space=office_space)
                .aggregate(a=Sum("area_m2"))["a"] or Decimal("0"))
    held = owned + occupied
    total = held + office_space.area_m2
    if total <= entitlement:
        return []
    return [Breach(
        "office_area", "listing_id",
        f"现有办公用房 {_num(held)} m² 加申请 {_num(office_space.area_m2)} m² 共 {_num(total)} m²，"
        f"超过核定面积 {_num(entitlement)} m²",
        f"{_num(held)} m² held + {_num(office_space.area_m2)} m² requested = {_num(total)} m², above the "
        f"entitlement of {_num(entitlement)} m²")]


def standards_today(region, on=None):
    """The region's standard set in force on `on` (default: today)."""
    return standard_in_force(region, on or timezone.localdate())


def breaches(standards, listing, agency, quantity):
    """Every breach of `standards` by `agency` requesting `quantity` of the listing, as
    [{field, code, message, message_zh, message_en}] (message in the active language)."""
    today = timezone.localdate()
    if listing.asset_id:
        found = check_asset_request(standards, asset=listing.asset, agency=agency, quantity=quantity, on=today)
    else:
        found = check_office_request(standards, office_space=listing.office_space, agency=agency, on=today)
    return [{"field": b.field, "code": b.code, "message": pick_message(b), "message_zh": b.message_zh,
             "message_en": b.message_en} for b in found]


def standards_check(user, listing, agency, quantity):
    """The check `create_request` runs, without saving anything (for a "check first" button):
    {"standards": the set in force today, "breaches": [{field, code, message, message_zh, message_en}]}."""
    require(user, "request.create", Scope(jurisdiction_id=agency.jurisdiction_id, agency_id=agency.pk))
    standards = standards_today(listing.region)
    return {"standards": standards, "breaches": breaches(standards, listing, agency, quantity)}
