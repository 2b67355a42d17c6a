"""Exchange test helpers: a standard set with a class norm, assets and open listings."""
from datetime import date
from decimal import Decimal

from regions.models import AllocationMode, AssetClassNorm, StandardSet
from tests import factories as f


def standard_set(region, *, mode=AllocationMode.FIRST_COME, threshold="50000.00", **kwargs):
    ss = StandardSet.objects.create(region=region, effective_from=date(2014, 12, 1), title="测试标准",
                                    allocation_mode=mode, coordinator_threshold=Decimal(threshold), **kwargs)
    # desktop computers: 6 years, cap 5000 CNY, 1 per head (财资〔2016〕27号)
    AssetClassNorm.objects.create(standard_set=ss, class_code="2010104", min_service_years=Decimal("6"),
                                  price_cap=Decimal("5000.00"), quantity_per_head=Decimal("1.00"),
                                  compensation_rate=Decimal("0.800"))
    return ss


def asset(agency, **kwargs):
    return f.AssetFactory(agency=agency, **kwargs)


def open_listing(world, user_key="staff_a", **asset_kwargs):
    from exchange.services import items

    item = asset(world["agency_a"], **asset_kwargs)
    return items.mark_idle(world["users"][user_key], asset=item)
