"""The minimum-service-life rule (最低使用年限, 财资〔2016〕27号《中央行政单位通用办公设备家具配置标准》), its
one home. An item that has not reached its class's minimum life may not be disposed of, and no replacement
for it may be bought, except when it is damaged beyond repair (with the assessment recorded); an item that
has reached it and still works keeps being used. It never restricts reallocating an idle item (redeploying
young idle items is the point of the warehouse), so request screening does not look at it. An asset
acquired on A with a minimum life of N years reaches it on A + N years (N may have a decimal: 6.5 years =
78 months). In compensation it enters only through the residual value (regions.services.standards).
Used by disposal and by the purchase check."""
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta

NORM = "财资〔2016〕27号"


def reached_on(acquired_on: date, min_service_years: Decimal) -> date:
    """The day an item acquired on `acquired_on` reaches `min_service_years` (whole months, half-up)."""
    months = int((Decimal(min_service_years) * 12).to_integral_value(ROUND_HALF_UP))
    return acquired_on + relativedelta(months=months)


@dataclass(frozen=True)
class MinimumLife:
    class_code: str
    min_service_years: Decimal | None  # None: the standard has no norm for the class (no restriction)
    reached_on: date | None

    def reached(self, on: date) -> bool:
        return self.reached_on is None or on >= self.reached_on

    def allows(self, on: date, *, damaged_beyond_repair=False) -> bool:
        """True when the item may be disposed of (or replaced) on `on`."""
        return damaged_beyond_repair or self.reached(on)


def minimum_life(standard_set, class_code: str, acquired_on: date) -> MinimumLife:
    """The rule of the standard set for an item of `class_code` acquired on `acquired_on`."""
    norm = standard_set.class_norms.filter(class_code=class_code).first()
    if norm is None:
        return MinimumLife(class_code, None, None)
    return MinimumLife(class_code, norm.min_service_years, reached_on(acquired_on, norm.min_service_years))
