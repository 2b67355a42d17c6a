"""Exchange test helpers: a standard set with class norms, assets, listings, and a transfer driven
through the services. If `regions/services/standards.py` has not landed yet, a minimal implementation
of its published contract is installed so the exchange can be tested (it is never used once the real
module exists)."""
import importlib
import sys
import types
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from regions.models import AllocationMode, AssetClassNorm, StandardSet
from tests import factories as f


def _install_standards_contract():
    try:
        importlib.import_module("regions.services.standards")
        return False
    except ImportError:
        pass
    from exchange.errors import NotFound

    @dataclass(frozen=True)
    class Breach:
        code: str
        field: str | None
        message_zh: str
        message_en: str

    def standard_in_force(region, on):
        found = StandardSet.objects.filter(region=region, effective_from__lte=on).order_by("-effective_from").first()
        if found is None:
            raise NotFound("No standard set in force.")
        return found

    def check_asset_request(standard_set, *, asset, agency, quantity, on):
        norm = standard_set.class_norms.filter(class_code=asset.asset_class.code).first()
        if norm is None:
            return []
        breaches = []
        if norm.price_cap is not None and asset.original_value > norm.price_cap:
            breaches.append(Breach("price_cap", "quantity", "超出单价上限", "above the price cap"))
        if norm.quantity_per_head is not None and quantity > norm.quantity_per_head * agency.total_headcount:
            breaches.append(Breach("quota_per_head", "quantity", "超出人均定额", "above the quota per head"))
        years = Decimal((on - asset.acquired_on).days) / Decimal("365.25")
        if years < norm.min_service_years:
            breaches.append(Breach("min_service_life", None, "未达最低使用年限", "minimum service life not reached"))
        return breaches

    def check_office_request(standard_set, *, office_space, agency, on):
        return []

    module = types.ModuleType("regions.services.standards")
    module.Breach, module.standard_in_force = Breach, standard_in_force
    module.check_asset_request, module.check_office_request = check_asset_request, check_office_request
    sys.modules["regions.services.standards"] = module
    import regions.services

    regions.services.standards = module
    return True


STANDARDS_SHIM = _install_standards_contract()


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
