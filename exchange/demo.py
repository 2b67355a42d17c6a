"""Demo data for the exchange (called by `load_demo` after regions.demo): GB/T 14885 asset classes, assets
and office space of the demo agencies, open listings, one transfer in flight with its approval steps in
different lights, and one completed transfer. Everything goes through the services (so the audit trail is
real); only the clock is wound back on a few rows so that windows and lights show. Idempotent."""
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from exchange.models import ApprovalStep, Asset, AssetClass, CarbonFactor, Listing, Transfer
from exchange.services import approvals, handover, items, transfer_requests
from regions.models import Agency, Duty
from regions.services import duties

ASSET_CLASSES = [
    # GB/T 14885 code, zh, en, kind (the codes used by regions.demo.CLASS_NORMS)
    ("2010104", "台式计算机", "Desktop computer", "equipment"),
    ("2010105", "便携式计算机", "Laptop computer", "equipment"),
    ("2010601", "打印机", "Printer", "equipment"),
    ("2030501", "轿车", "Passenger car", "vehicle"),
    ("6010201", "办公桌", "Office desk", "furniture"),
    ("6010301", "办公椅", "Office chair", "furniture"),
    ("6010501", "文件柜", "Filing cabinet", "furniture"),
]
SH_STATS, SH_BUREAU, HZ_EDU, HZ_BUREAU = ("11310000MB0001002B", "11310000MB0001001A", "11330100MB0002002D",
                                          "11330100MB0002001C")
NJ_BUREAU, SZ_BUREAU = "11320100MB0003001E", "11320500MB0004001F"
ASSETS = [
    # agency, class, description, quantity, unit, value per unit, acquired, condition, listed?
    (SH_STATS, "2010104", "联想启天 M437 台式计算机", 4, "台", "4500.00", date(2017, 6, 1), "good", True),
    (SH_STATS, "6010201", "钢木办公桌 1.4m", 6, "张", "1800.00", date(2008, 3, 1), "fair", True),
    (SH_STATS, "2010601", "惠普 LaserJet 黑白激光打印机", 2, "台", "2600.00", date(2018, 9, 1), "good", True),
    (SH_BUREAU, "6010501", "四门钢制文件柜", 10, "个", "1200.00", date(2006, 5, 1), "good", True),
    (SH_BUREAU, "2010105", "ThinkPad T480 便携式计算机", 3, "台", "6500.00", date(2019, 1, 1), "good", False),
    (HZ_BUREAU, "6010301", "人体工学办公椅", 8, "把", "900.00", date(2009, 4, 1), "good", True),
    (HZ_BUREAU, "2010104", "华为 擎云 台式计算机", 2, "台", "4800.00", date(2018, 2, 1), "new", True),
    (SZ_BUREAU, "2010601", "佳能 iR 彩色复印打印一体机", 3, "台", "2800.00", date(2022, 4, 1), "good", True),
]
FIRST = ASSETS[0][2]


def _users():
    User = get_user_model()
    return {u.username: u for u in User.objects.filter(username__in=[
        "coordinator", "sh_bureau", "hz_bureau", "sh_stats", "hz_edu", "nj_bureau", "sz_bureau", "nj_office",
        "sz_office"])}


def _wind_back(listing, days=8):
    """Pretend the listing opened `days` ago, so the own-jurisdiction window has closed."""
    shift = timedelta(days=days)
    Listing.objects.filter(pk=listing.pk).update(opened_at=listing.opened_at - shift,
                                                 own_window_ends_at=listing.own_window_ends_at - shift,
                                                 region_window_ends_at=listing.region_window_ends_at - shift)


# Embodied carbon per new unit, each from its published source; classes with no published figure found
# (desks, filing cabinets, printers, cars) have no factor and are credited nothing.
CARBON_FACTORS = [  # class, kg CO2e per unit, source, scope
    ("2010104", "800", "Dell, Carbon Footprint of a Typical Business Desktop From Dell (OptiPlex 780 Mini Tower, "
     "PE International / GaBi, ISO 14040/14044), October 2010", "whole life cycle, use phase included"),
    ("2010105", "350", "Dell, Carbon Footprint of a Typical Business Laptop From Dell (Latitude E6400, "
     "PE International / GaBi), May 2010", "whole life cycle, 4 years of use included (about half manufacturing)"),
    ("6010301", "22.5", "Arper Catifa 53 4-leg chair, Environmental Product Declaration NEPD-nr 104E "
     "(EPD-Norge, ISO 14025)", "cradle to grave, 15 years"),
]
CARBON_FACTORS_FROM = date(2015, 1, 1)


def load_all():
    for code, zh, en, kind in ASSET_CLASSES:
        AssetClass.objects.get_or_create(code=code, defaults={"name_zh": zh, "name_en": en, "kind": kind})
    for code, kg, source, scope in CARBON_FACTORS:
        CarbonFactor.objects.get_or_create(asset_class=AssetClass.objects.get(code=code),
                                           effective_from=CARBON_FACTORS_FROM,
                                           defaults={"kg_per_unit": Decimal(kg), "source": source, "scope": scope})
    if Asset.objects.filter(description=FIRST).exists():
        return
    users = _users()
    agencies = {a.code: a for a in Agency.objects.select_related("jurisdiction")}
    actor = {SH_STATS: users["sh_stats"], SH_BUREAU: users["sh_bureau"], HZ_BUREAU: users["hz_bureau"],
             SZ_BUREAU: users["sz_office"]}
    listings = []
    for code, cls, desc, qty, unit, value, acquired, condition, listed in ASSETS:
        asset = items.register_asset(actor[code], agency=agencies[code], asset_class=AssetClass.objects.get(code=cls),
                                     description=desc, quantity=qty, unit=unit, original_value=Decimal(value),
                                     acquired_on=acquired, condition=condition)
        if listed:
            listings.append(items.mark_idle(actor[code], asset=asset))
    space = items.register_office_space(users["sh_bureau"], agency=agencies[SH_BUREAU], building="上海市政府大楼 东楼",
                                        floor="5", rooms="501-503", area_m2=Decimal("86.00"),
                                        available_from=timezone.localdate())
    items.mark_idle(users["sh_bureau"], office_space=space)
    for listing in listings[:4] + listings[-1:]:
        _wind_back(listing)
    hz_edu, agency = users["hz_edu"], agencies[HZ_EDU]

    # completed: 2 desks from Shanghai Statistics to Hangzhou Education
    _, done = transfer_requests.create_request(hz_edu, listing=Listing.objects.get(pk=listings[1].pk),
                                               agency=agency, quantity=2, justification="新设教研室办公桌不足")
    deciders = {"giving_bureau": users["sh_bureau"], "receiving_bureau": users["hz_bureau"],
                "coordinator": users["coordinator"]}
    for step in done.steps.all():
        duties.claim(deciders[step.kind], duties.duty_of(step, duties.Stage.APPROVAL))  # 首接负责
        approvals.decide_step(deciders[step.kind], step, approve=True)
    duties.claim(hz_edu, duties.duty_of(done, duties.Stage.HANDOVER))
    handover.confirm_handover(hz_edu, Transfer.objects.get(pk=done.pk), received_quantity=2,
                              received_condition="fair", note="外观有划痕，可正常使用")

    # completed inside Jiangsu: 1 printer, Suzhou → Nanjing (cities settle, so it posts)
    # (the bureaus' own offices list and request; their managers approve: no one approves their own act)
    nj = users["nj_office"]
    _, within = transfer_requests.create_request(nj, listing=Listing.objects.get(pk=listings[-1].pk),
                                         agency=agencies[NJ_BUREAU], quantity=1, justification="机关文印室设备更新")
    deciders_js = {"giving_bureau": users["sz_bureau"], "receiving_bureau": users["nj_bureau"],
                   "coordinator": users["coordinator"]}
    for step in within.steps.all():
        approvals.decide_step(deciders_js[step.kind], step, approve=True)
    handover.confirm_handover(nj, Transfer.objects.get(pk=within.pk), received_quantity=1, received_condition="good")

    # in flight: 2 desktops, asked with an exception (coordinator step); lights green / yellow / red
    _, flying = transfer_requests.create_request(
        hz_edu, listing=Listing.objects.get(pk=listings[0].pk), agency=agency, quantity=2,
        justification="信息化教学需要台式机", exception_requested=True,
        exception_justification="编制外借调人员使用，超出定额部分申请例外")
    now = timezone.now()
    times = {"giving_bureau": (now - timedelta(days=2), now + timedelta(days=5)),  # green
             "coordinator": (now - timedelta(days=5), now + timedelta(days=1)),  # yellow
             "receiving_bureau": (now - timedelta(days=9), now - timedelta(days=1))}  # red
    for step in flying.steps.all():
        opened, due = times[step.kind]
        ApprovalStep.objects.filter(pk=step.pk).update(**ApprovalStep.schedule(opened, due))
        Duty.objects.filter(pk=duties.duty_of(step, duties.Stage.APPROVAL).pk).update(**ApprovalStep.schedule(opened,
                                                                                                           due))
    # the giving bureau took its step on (首接负责); Hangzhou's manager was assigned the overdue one, which
    # escalated to the coordinator
    duties.claim(users["sh_bureau"], duties.duty_of(flying.steps.get(kind="giving_bureau"), duties.Stage.APPROVAL))
    duties.assign(users["hz_bureau"], duties.duty_of(flying.steps.get(kind="receiving_bureau"), duties.Stage.APPROVAL),
                  users["hz_bureau"], reason="局长本人负责")
    duties.escalate_overdue()
    return {"listings": len(listings) + 1, "completed": [done.pk, within.pk], "in_flight": flying.pk}


