"""Compensation of the giver (DOMAIN.md, first policy):

    residual   = original value × quantity × max(salvage floor, 1 − years in use ÷ minimum service life)
    compensation = residual × class rate + handling fee + km × rate per km

computed exactly and rounded to CNY 2 places half-up once, at posting. The receiver's compensation
account is debited, the giver's credited. Office space: rent-equivalent per m² of the giving jurisdiction
× area × days of use ÷ days of the month, posted per calendar month by `ledger.services.rent`.
"""
from decimal import Decimal

from django.utils import timezone

from kernel.geo import geodesic_m
from kernel.money import cny
from ledger.models import CompensationBreakdown
from regions.services.standards import YEARS_IN_USE_RULE, residual_share, years_in_use

SHOW = Decimal("0.000001")


def _local_date(moment):
    return timezone.localdate(moment) if moment else timezone.localdate()


def compute(transfer, standard_set, norms=None, metres=None):
    """(details, residual_amount, handling, transport, total) of an asset or office-space transfer.
    `norms` ({class code: ClassNorm} of `standard_set`) saves the per-transfer norm query for lists.
    The distance is the unrounded WGS84 geodesic between the agencies (the same function as every
    `distanceKm`; `metres` when the caller computed it for many at once); only the total is rounded. A
    building is not transported: no transport fee."""
    handling, rate_km = standard_set.handling_fee, standard_set.transport_rate_per_km
    asset = transfer.listing.asset
    details = {"standard_set": standard_set.pk, "standard_title": standard_set.title,
               "effective_from": standard_set.effective_from.isoformat(), "handover_date": None,
               "handling_fee": str(handling)}
    if asset is not None:
        if metres is None:
            metres = geodesic_m(transfer.giver.location, transfer.receiver.location)
        km = Decimal(repr(metres)) / 1000
        transport = km * rate_km
        details.update({"distance_km": str(km.quantize(SHOW)), "distance_source": "geodesic WGS84, unrounded",
                        "transport_rate_per_km": str(rate_km), "transport": str(transport.quantize(SHOW))})
    else:
        transport = Decimal(0)
        details.update({"transport": "0", "transport_note": "Office space is not moved: no transport fee."})
    residual_amount = Decimal(0)
    if asset is not None:
        on = _local_date(transfer.completed_at)
        quantity = transfer.received_quantity or transfer.quantity
        norm = (norms.get(asset.asset_class.code) if norms is not None
                else standard_set.class_norms.filter(class_code=asset.asset_class.code).first())
        days = (on - asset.acquired_on).days
        years = years_in_use(asset.acquired_on, on)
        details.update({"original_value_per_unit": str(asset.original_value), "quantity": quantity,
                        "asset_class": asset.asset_class.code, "acquired_on": asset.acquired_on.isoformat(),
                        "days_in_use": days, "years_in_use": str(years.quantize(SHOW)),
                        "years_in_use_rule": YEARS_IN_USE_RULE, "salvage_floor": str(standard_set.salvage_floor)})
        if norm is None:
            details["note"] = "No class norm in the standard set: the residual value is not compensated."
        else:
            remaining = residual_share(standard_set, norm, asset.acquired_on, on)
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


def savings(transfer, standard_set, total):
    """(value not bought, savings) of a completed asset transfer per SAVINGS_DEFINITION; (None, None) for
    office space."""
    asset = transfer.listing.asset
    if asset is None:
        return None, None
    norm = standard_set.class_norms.filter(class_code=asset.asset_class.code).first()
    unit = norm.price_cap if norm is not None and norm.price_cap is not None else asset.original_value
    value = cny(unit * (transfer.received_quantity or transfer.quantity))
    return value, value - total


def on_transfer_completed(transfer, user):
    """Post the completed transfer's compensation, inside the caller's transaction: `batch.post_compensations`
    of one transfer, its audit event saved as `audit.record` saves one (post_save listeners hear of it). The
    handover passes the transfer it has locked, with its region, parties and item loaded. Idempotent: a
    second call returns the existing breakdown (unique per transfer in the database); None when no standard
    set was in force on the handover date (the skip is audited)."""
    from .batch import post_compensations  # batch builds on this module's rule

    made = post_compensations([transfer], user, signal=True)
    return made[0] if made else CompensationBreakdown.objects.filter(transfer_id=transfer.pk).first()


def post_completed_transfer(sender, *, transfer, user, **kwargs):
    """Receiver of `exchange.signals.transfer_completed`."""
    on_transfer_completed(transfer, user)
