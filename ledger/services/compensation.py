"""Compensation of the giver (DOMAIN.md, first policy):

    residual   = original value × quantity × max(salvage floor, 1 − years in use ÷ minimum service life)
    compensation = residual × class rate + handling fee + km × rate per km

computed exactly and rounded to CNY 2 places half-up once, at posting. The receiver's compensation
account is debited, the giver's credited. Office space: rent-equivalent per m² of the giving jurisdiction
× area × months, posted per calendar month by `post_monthly_rent`.
"""
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction as db_transaction
from django.db.models import F
from django.utils import timezone

from exchange.models import OfficeSpace, Transfer
from kernel import audit
from kernel.errors import NotFound
from kernel.geo import geodesic_km
from kernel.money import cny
from ledger.models import CompensationBreakdown, JournalTransaction
from regions.membership import member_of
from regions.models import RentNorm
from regions.services.standards import standard_in_force

from .posting import compensation_account, post

DAYS_PER_YEAR = Decimal("365.25")
SHOW = Decimal("0.000001")


def _local_date(moment):
    return timezone.localdate(moment) if moment else timezone.localdate()


def compute(transfer, standard_set, norms=None):
    """(details, residual_amount, handling, transport, total) of an asset or office-space transfer.
    `norms` ({class code: ClassNorm} of `standard_set`) saves the per-transfer norm query for lists."""
    km = transfer.distance_km or geodesic_km(transfer.giver.location, transfer.receiver.location)
    handling, rate_km = standard_set.handling_fee, standard_set.transport_rate_per_km
    transport = Decimal(km) * rate_km
    details = {"standard_set": standard_set.pk, "standard_title": standard_set.title,
               "effective_from": standard_set.effective_from.isoformat(), "handover_date": None,
               "distance_km": str(km), "distance_source": "transfer" if transfer.distance_km else "geodesic WGS84",
               "transport_rate_per_km": str(rate_km), "transport": str(transport), "handling_fee": str(handling)}
    residual_amount = Decimal(0)
    asset = transfer.listing.asset
    if asset is not None:
        on = _local_date(transfer.completed_at)
        quantity = transfer.received_quantity or transfer.quantity
        norm = (norms.get(asset.asset_class.code) if norms is not None
                else standard_set.class_norms.filter(class_code=asset.asset_class.code).first())
        days = (on - asset.acquired_on).days
        years = Decimal(days) / DAYS_PER_YEAR
        details.update({"original_value_per_unit": str(asset.original_value), "quantity": quantity,
                        "asset_class": asset.asset_class.code, "acquired_on": asset.acquired_on.isoformat(),
                        "days_in_use": days, "years_in_use": str(years.quantize(SHOW)),
                        "salvage_floor": str(standard_set.salvage_floor)})
        if norm is None:
            details["note"] = "No class norm in the standard set: the residual value is not compensated."
        else:
            remaining = max(standard_set.salvage_floor, 1 - years / norm.min_service_years)
            residual = asset.original_value * quantity * remaining
            residual_amount = residual * norm.compensation_rate
            details.update({"min_service_years": str(norm.min_service_years),
                            "residual_share": str(remaining.quantize(SHOW)),
                            "residual_formula": "original × quantity × max(salvage floor, 1 − years ÷ life)",
                            "residual_value": str(residual.quantize(SHOW)),
                            "compensation_rate": str(norm.compensation_rate),
                            "residual_compensation": str(residual_amount.quantize(SHOW))})
    else:
        details["note"] = "Office space: compensated monthly as rent-equivalent × area (see rent postings)."
    exact = residual_amount + handling + transport
    total = cny(exact)
    details.update({"exact_total": str(exact.quantize(SHOW)), "rounding": "CNY 2 places, ROUND_HALF_UP, once",
                    "total": str(total)})
    return details, residual_amount, handling, transport, total


def on_transfer_completed(transfer, user):
    """Post the completed transfer's compensation, inside the caller's transaction. The handover passes
    the transfer it has locked, with its region, parties and item loaded. Idempotent: a second call
    returns the existing breakdown (unique per transfer in the database)."""
    existing = CompensationBreakdown.objects.filter(transfer_id=transfer.pk).first()
    if existing is not None:
        return existing
    on = _local_date(transfer.completed_at)
    try:
        standard_set = standard_in_force(transfer.region, on)
    except NotFound:
        audit.record(user, "ledger.compensation_skipped", transfer, after={"reason": "no standard set in force"},
                     transfer=transfer, region=transfer.region)
        return None
    details, residual_amount, handling, transport, total = compute(transfer, standard_set)
    details["handover_date"] = on.isoformat()
    region = transfer.region
    giver = member_of(region, transfer.giver_jurisdiction, on)
    receiver = member_of(region, transfer.receiver_jurisdiction, on)
    txn = None
    if giver.pk == receiver.pk:
        details["posting"] = "Giver and receiver settle as the same member jurisdiction: nothing posted."
    elif total > 0:
        txn, _ = post(region, on=on, kind=JournalTransaction.Kind.COMPENSATION, key=f"compensation:{transfer.pk}",
                      description=f"调剂补偿 compensation, transfer #{transfer.pk} {transfer.listing.title}",
                      transfer=transfer, legs=[(compensation_account(region, receiver), "debit", total),
                                               (compensation_account(region, giver), "credit", total)])
        details["posting"] = {"transaction": txn.pk, "date": txn.date.isoformat(),
                              "debit": receiver.code, "credit": giver.code}
    breakdown = CompensationBreakdown.objects.create(
        transfer=transfer, transaction=txn, standard_set=standard_set, giver_jurisdiction=giver,
        receiver_jurisdiction=receiver, residual_amount=residual_amount, handling_fee=handling,
        transport=transport, total=total, details=details)
    audit.record(user, "ledger.compensation_posted", breakdown, after={"total": total, "transaction": txn and txn.pk},
                 transfer=transfer, region=region, jurisdiction=receiver)
    return breakdown


def post_completed_transfer(sender, *, transfer, user, **kwargs):
    """Receiver of `exchange.signals.transfer_completed`."""
    on_transfer_completed(transfer, user)


def _months(first: date, last: date):
    """First days of the calendar months from `first`'s to `last`'s inclusive."""
    current = first.replace(day=1)
    while current <= last:
        yield current
        current = (current + timedelta(days=32)).replace(day=1)


def active_occupancies():
    """Completed office-space transfers whose space is still occupied by the receiving agency."""
    return (Transfer.objects.filter(status=Transfer.Status.COMPLETED, listing__office_space__isnull=False,
                                    listing__office_space__status=OfficeSpace.Status.OCCUPIED,
                                    listing__office_space__agency_id=F("receiver_id"))
            .select_related("region", "giver_jurisdiction", "receiver_jurisdiction", "listing__office_space"))


def post_monthly_rent(user=None, today: date | None = None):
    """For each active occupancy post the rent-equivalent of every completed calendar month since the
    first full month after handover, once per (occupancy, month): the idempotency key is
    `rent:<transfer>:<YYYY-MM>`. Returns the number of transactions posted."""
    today = today or timezone.localdate()
    last_month = today.replace(day=1) - timedelta(days=1)
    posted = 0
    for transfer in active_occupancies():
        handover = _local_date(transfer.completed_at)
        first = (handover.replace(day=1) + timedelta(days=32)).replace(day=1)
        for month in _months(first, last_month):
            key = f"rent:{transfer.pk}:{month:%Y-%m}"
            if JournalTransaction.objects.filter(key=key).exists():
                continue
            with db_transaction.atomic():
                posted += _post_rent_month(user, transfer, month, key)
    return posted


def _post_rent_month(user, transfer, month, key):
    region, space = transfer.region, transfer.listing.office_space
    try:
        standard_set = standard_in_force(region, month)
    except NotFound:
        return 0
    norm = RentNorm.objects.filter(standard_set=standard_set, jurisdiction=transfer.giver_jurisdiction).first()
    giver = member_of(region, transfer.giver_jurisdiction, month)
    receiver = member_of(region, transfer.receiver_jurisdiction, month)
    if norm is None and giver.pk != transfer.giver_jurisdiction_id:
        norm = RentNorm.objects.filter(standard_set=standard_set, jurisdiction=giver).first()
    if norm is None or giver.pk == receiver.pk:
        return 0
    amount = cny(norm.rent_per_m2_month * space.area_m2)
    month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    txn, created = post(region, on=month_end, kind=JournalTransaction.Kind.RENT, key=key, transfer=transfer,
                        description=f"用房租金当量 rent {month:%Y-%m}: {norm.rent_per_m2_month} × {space.area_m2} m²"
                                    f" × 1 month, transfer #{transfer.pk}",
                        legs=[(compensation_account(region, receiver), "debit", amount),
                              (compensation_account(region, giver), "credit", amount)])
    if created:
        audit.record(user, "ledger.rent_posted", txn, after={"amount": amount, "month": f"{month:%Y-%m}"},
                     transfer=transfer, region=region, jurisdiction=receiver)
    return int(created)
