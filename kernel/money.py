"""Money is Decimal CNY with 2 places, rounded half-up once, where the rule says."""
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def cny(value) -> Decimal:
    """CNY, 2 places, half-up: the one rounding of a posted amount."""
    return Decimal(value).quantize(CENT, ROUND_HALF_UP)
