"""The standards registry: which standard set applied on a date, and versioned editing. Every figure comes
from the set's rows; nothing here is hard-coded. The checks of a request against a set are the exchange's
(`exchange/services/screening.py`). "Years in use" of an item is defined once, here (`years_in_use`), for the
residual value of compensation (最低使用年限, 财资〔2016〕27号, enters compensation only through it)."""
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from kernel import audit
from kernel.errors import InvalidState, NotFound, ValidationFailed
from regions.models import (
    AllocationMode,
    AssetClassNorm,
    Jurisdiction,
    OfficeSpaceNorm,
    Rank,
    RentNorm,
    StandardSet,
)
from regions.permissions import require
from regions.scope import Scope

OFFICE_LEVELS = ("central", *Jurisdiction.Level.values)




def standard_in_force(region, on: date) -> StandardSet:
    """The region's set with the latest `effective_from` on or before `on`; NotFound if none."""
    found = (StandardSet.objects.filter(region=region, effective_from__lte=on).order_by("-effective_from").first())
    if found is None:
        raise NotFound(f"No standard set of region {region} is in force on {on:%Y-%m-%d}.", field="on")
    return found


DAYS_PER_YEAR = Decimal("365.25")
YEARS_IN_USE_RULE = "years in use = days from acquisition to handover ÷ 365.25 (使用年限 = 使用天数 ÷ 365.25)"


def years_in_use(acquired_on: date, on: date) -> Decimal:
    """Years in use on `on` of an item acquired on `acquired_on`: days ÷ 365.25, exact (never negative).
    The one definition, used by the residual value and shown on every breakdown (YEARS_IN_USE_RULE)."""
    return Decimal(max((on - acquired_on).days, 0)) / DAYS_PER_YEAR


def residual_share(standard_set, norm, acquired_on: date, on: date) -> Decimal:
    """max(salvage floor, 1 − years in use ÷ minimum service life): the share of original value left."""
    return max(standard_set.salvage_floor, 1 - years_in_use(acquired_on, on) / norm.min_service_years)


# --- editing ---

# --- editing -------------------------------------------------------------------------------------------
SCALAR_FIELDS = {
    "title": str, "source": str, "own_window_days": int, "region_window_days": int,
    "approval_working_days": int, "allocation_working_days": int, "handover_working_days": int,
    "payment_working_days": int, "access_request_working_days": int, "coordinator_threshold": Decimal,
    "allocation_mode": str,
    "handling_fee": Decimal, "transport_rate_per_km": Decimal, "salvage_floor": Decimal,
    "purchase_search_radius_km": Decimal,
}
CLASS_FIELDS = ("min_service_years", "price_cap", "quantity_per_head", "compensation_rate", "loan_fee_per_day")


def _decimal(value, field, *, allow_none=False):
    if value is None and allow_none:
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        number = None
    if number is None or not number.is_finite() or number < 0:
        raise ValidationFailed(f"{field} must be a number ≥ 0 (got {value!r}).", field=field)
    return number


def _apply_scalars(standard_set, fields):
    for name, value in (fields or {}).items():
        if name not in SCALAR_FIELDS:
            raise ValidationFailed(f"Unknown standard field {name!r}.", field=name)
        if value is None:
            continue
        if SCALAR_FIELDS[name] is Decimal:
            value = _decimal(value, name)
        elif SCALAR_FIELDS[name] is int and (not isinstance(value, int) or value < 0):
            raise ValidationFailed(f"{name} must be a whole number ≥ 0.", field=name)
        if name == "allocation_mode" and value not in AllocationMode.values:
            raise ValidationFailed(f"Unknown allocation mode {value!r}.", field=name)
        setattr(standard_set, name, value)
    if not standard_set.title.strip():
        raise ValidationFailed("A standard set needs a title.", field="title", code="required")
    if standard_set.salvage_floor > 1:
        raise ValidationFailed("The salvage floor is a share between 0 and 1.", field="salvage_floor")


def _apply_rows(standard_set, office_norms, class_norms, rent_norms, remove_class_codes):
    for row in office_norms or []:
        level, rank = row.get("level"), row.get("rank")
        if level not in OFFICE_LEVELS or rank not in Rank.values:
            raise ValidationFailed(f"Unknown level/rank {level!r}/{rank!r}.", field="office_norms")
        OfficeSpaceNorm.objects.update_or_create(standard_set=standard_set, level=level, rank=rank,
                                                 defaults={"area_m2": _decimal(row.get("area_m2"), "office_norms")})
    for row in class_norms or []:
        code = (row.get("class_code") or "").strip()
        if not code:
            raise ValidationFailed("An asset class norm needs a class code.", field="class_norms", code="required")
        norm = standard_set.class_norms.filter(class_code=code).first() or AssetClassNorm(
            standard_set=standard_set, class_code=code)
        for name in CLASS_FIELDS:
            if name in row:
                setattr(norm, name, _decimal(row[name], "class_norms", allow_none=name in (
                    "price_cap", "quantity_per_head", "loan_fee_per_day")))
        if norm.min_service_years is None:
            raise ValidationFailed(f"Class {code} needs a minimum service life.", field="class_norms",
                                   code="required")
        if norm.compensation_rate > 1:
            raise ValidationFailed("A compensation rate is a share between 0 and 1.", field="class_norms")
        norm.save()
    if remove_class_codes:
        standard_set.class_norms.filter(class_code__in=remove_class_codes).delete()
    if rent_norms:
        jurisdictions = {j.code: j for j in Jurisdiction.objects.filter(
            code__in=[r.get("jurisdiction_code") for r in rent_norms])}
        for row in rent_norms:
            jurisdiction = jurisdictions.get(row.get("jurisdiction_code"))
            if jurisdiction is None:
                raise NotFound(f"No jurisdiction {row.get('jurisdiction_code')!r}.", field="rent_norms")
            RentNorm.objects.update_or_create(standard_set=standard_set, jurisdiction=jurisdiction, defaults={
                "rent_per_m2_month": _decimal(row.get("rent_per_m2_month"), "rent_norms")})


def snapshot(standard_set):
    """A JSON-able picture of a set (for the audit trail)."""
    data = {name: getattr(standard_set, name) for name in SCALAR_FIELDS}
    data["effective_from"] = standard_set.effective_from
    data["office_norms"] = sorted([n.level, n.rank, str(n.area_m2)] for n in standard_set.office_norms.all())
    data["class_norms"] = sorted([n.class_code, *(str(getattr(n, f)) for f in CLASS_FIELDS)]
                                 for n in standard_set.class_norms.all())
    data["rent_norms"] = sorted([n.jurisdiction_id, str(n.rent_per_m2_month)] for n in standard_set.rent_norms.all())
    return data


def _in_force(effective_from, field):
    today = timezone.localdate()
    return InvalidState(f"Standards in force (effective {effective_from:%Y-%m-%d}, today {today:%Y-%m-%d}) are "
                        "never changed; create a new version effective from a future date.", field=field)


def _ensure_future(effective_from, field="effective_from"):
    if effective_from <= timezone.localdate():
        raise _in_force(effective_from, field)


@transaction.atomic
def create_standard_version(user, region, effective_from: date, *, fields=None, office_norms=None,
                            class_norms=None, rent_norms=None, remove_class_codes=None) -> StandardSet:
    """A new version effective from a future date: a copy of the set that would otherwise be in force on
    that date (if any) with the changes applied. Coordinator of the region only.

    `fields`: {StandardSet field: value}; `office_norms`: [{level, rank, area_m2}]; `class_norms`:
    [{class_code, min_service_years?, price_cap?, quantity_per_head?, compensation_rate?}] (upsert);
    `rent_norms`: [{jurisdiction_code, rent_per_m2_month}]; `remove_class_codes`: class norms to drop."""
    require(user, "standards.edit", Scope(region_id=region.pk))
    _ensure_future(effective_from)
    if StandardSet.objects.filter(region=region, effective_from=effective_from).exists():
        raise InvalidState(f"A version effective {effective_from:%Y-%m-%d} exists already; edit it instead.",
                           field="effective_from", code="duplicate")
    base = StandardSet.objects.filter(region=region, effective_from__lte=effective_from).order_by(
        "-effective_from").first()
    new = StandardSet(region=region, effective_from=effective_from, title=base.title if base else "")
    if base is not None:
        for name in SCALAR_FIELDS:
            setattr(new, name, getattr(base, name))
    _apply_scalars(new, fields)
    new.save()
    if base is not None:
        OfficeSpaceNorm.objects.bulk_create(OfficeSpaceNorm(standard_set=new, level=n.level, rank=n.rank,
                                                            area_m2=n.area_m2) for n in base.office_norms.all())
        AssetClassNorm.objects.bulk_create(AssetClassNorm(
            standard_set=new, class_code=n.class_code, **{f: getattr(n, f) for f in CLASS_FIELDS})
            for n in base.class_norms.all())
        RentNorm.objects.bulk_create(RentNorm(standard_set=new, jurisdiction_id=n.jurisdiction_id,
                                              rent_per_m2_month=n.rent_per_m2_month) for n in base.rent_norms.all())
    _apply_rows(new, office_norms, class_norms, rent_norms, remove_class_codes)
    audit.record(user, "standards.version_created", new, before={"copied_from": base.pk if base else None},
                 after=snapshot(new), region=region)
    return new


@transaction.atomic
def edit_future_standard(user, standard_set, *, fields=None, office_norms=None, class_norms=None,
                         rent_norms=None, remove_class_codes=None) -> StandardSet:
    """Change a version not yet in force (effective from a future date); a set in force or past is
    refused with InvalidState. Same change arguments as `create_standard_version`."""
    require(user, "standards.edit", standard_set)
    standard_set = StandardSet.objects.select_for_update().get(pk=standard_set.pk)
    if not standard_set.is_editable():
        raise _in_force(standard_set.effective_from, "standard_set_id")
    before = snapshot(standard_set)
    _apply_scalars(standard_set, fields)
    standard_set.save()
    _apply_rows(standard_set, office_norms, class_norms, rent_norms, remove_class_codes)
    audit.record(user, "standards.version_edited", standard_set, before=before, after=snapshot(standard_set),
                 region=standard_set.region)
    return standard_set
