"""CO₂ avoided by reuse: a unit received through the warehouse is a new unit not made. At completion a
transfer is credited with the received units × the embodied-carbon factor of its class in force that day
(per unit, or per CNY of the unit's original value), rounded half-up to 0.1 kg once; no factor for the
class, nothing credited."""
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from exchange.models import CarbonFactor

TENTH = Decimal("0.1")


def factor_in_force(asset_class, on):
    return (CarbonFactor.objects.filter(asset_class=asset_class, effective_from__lte=on)
            .order_by("-effective_from").first())


def avoided(asset, units, on):
    """(kg CO₂e, factor) for `units` of `asset` received on `on`; (None, None) without a factor."""
    factor = factor_in_force(asset.asset_class, on)
    if factor is None:
        return None, None
    per_unit = factor.kg_per_unit if factor.kg_per_unit is not None else factor.kg_per_cny * asset.original_value
    return (per_unit * units).quantize(TENTH, ROUND_HALF_UP), factor


def credit(transfer):
    """Set the completed transfer's CO₂ avoided (office space and nothing received: none)."""
    asset = transfer.listing.asset
    if asset is None or not transfer.received_quantity:
        return transfer
    transfer.co2_avoided_kg, transfer.carbon_factor = avoided(asset, transfer.received_quantity,
                                                              timezone.localdate(transfer.completed_at))
    return transfer
