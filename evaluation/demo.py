"""Demo data for the evaluation: the seeded indicator set, and two quarters of completed transfers among
twelve cities (an affairs bureau and its manager in each), so that the league table, trends and the
published page have something real to show. The transfers go through the services (trail, ledger); then,
as the exchange demo does, the clock of each transfer's rows is wound back into its quarter. The two
quarters are frozen by the scheduler's own task. Idempotent."""
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.utils import timezone

from exchange.models import ApprovalStep, AssetClass, Listing, Transfer, TransferRequest
from exchange.services import approvals, handover, items, transfer_requests
from kernel.workdays import add_working_days
from regions.models import Agency, Headcount, Jurisdiction, Rank, Region, RoleBinding

from . import indicators, services
from .tasks import close_evaluation_cycles

SH = ZoneInfo("Asia/Shanghai")
PASSWORD = "demo-pass-2026"
CITIES = ["310000", "320100", "320200", "320500", "321000", "330100", "330200", "330400", "330600", "340100",
          "340200", "341800"]
ITEMS = [  # class, description, unit, value per unit, acquired
    ("6010201", "钢木办公桌 1.4m", "张", "1800.00", date(2008, 3, 1)),
    ("2010104", "台式计算机", "台", "4500.00", date(2017, 6, 1)),
    ("6010301", "办公椅", "把", "800.00", date(2009, 5, 1)),
    ("6010501", "四门钢制文件柜", "个", "1200.00", date(2006, 5, 1)),
]


def _city_bureaus():
    """{city code: (bureau agency, its manager, its office staff)}, created where the regions demo has none:
    the office lists and requests, the manager approves (no one approves their own act)."""
    User = get_user_model()
    found = {}
    for n, city in enumerate(Jurisdiction.objects.filter(code__in=CITIES).order_by("code")):
        agency = Agency.objects.filter(jurisdiction=city, is_affairs_bureau=True).first()
        if agency is None:
            center = city.centroid or Point(120.0, 31.0, srid=4326)
            agency = Agency.objects.create(jurisdiction=city, code=f"11{city.code}MB90{n:02d}01X",
                                           name_zh=f"{city.name_zh}机关事务管理局",
                                           name_en=f"{city.name_en} Government Offices Administration",
                                           is_affairs_bureau=True, location=center)
            Headcount.objects.create(agency=agency, rank=Rank.STAFF, count=60)
        user, created = User.objects.get_or_create(username=f"bureau_{city.code}", defaults={"is_staff": True})
        if created:
            user.set_password(PASSWORD)
            user.save()
            RoleBinding.objects.create(user=user, role="bureau_manager", jurisdiction=city)
        office, created = User.objects.get_or_create(username=f"office_{city.code}")
        if created:
            office.set_password(PASSWORD)
            office.save()
        RoleBinding.objects.get_or_create(user=office, role="agency_staff", agency=agency)
        found[city.code] = (agency, user, office)
    return found


def _at(day, hour):
    return datetime.combine(day, time(hour), SH)


def _wind_back(transfer, start, n):
    """Move one completed transfer's timeline into its quarter: steps decided after 1–7 working days
    (every fifth late, so red), handover 1–4 days after approval."""
    opened = _at(start, 9)
    request = TransferRequest.objects.get(pk=transfer.request_id)
    TransferRequest.objects.filter(pk=request.pk).update(created_at=opened - timedelta(hours=2))
    Listing.objects.filter(pk=transfer.listing_id).update(
        opened_at=opened - timedelta(days=10), own_window_ends_at=opened - timedelta(days=3),
        region_window_ends_at=opened + timedelta(days=11))
    decided = []
    for k, step in enumerate(transfer.steps.order_by("id")):
        due = add_working_days(opened, 5)
        late = (n + k) % 5 == 0
        when = add_working_days(opened, 7 if late else 1 + (n + k) % 4) + timedelta(hours=k)
        ApprovalStep.objects.filter(pk=step.pk).update(**ApprovalStep.schedule(opened, due), decided_at=when)
        decided.append(when)
    approved = max(decided)
    Transfer.objects.filter(pk=transfer.pk).update(allocated_at=opened, approved_at=approved,
                                                   completed_at=approved + timedelta(days=1 + n % 4))


def _last_two_quarters(today):
    last = services.last_ended_cycle("quarter", today)
    return [services.last_ended_cycle("quarter", last[0]), last]


def load_all():
    region = Region.objects.get(code="yrd")
    quarters = _last_two_quarters(timezone.localdate())
    if region.indicator_sets.exists():
        _seed_co2_version(region, quarters)
        return
    indicators.seed(region, quarters[0][0])
    bureaus = _city_bureaus()
    codes = sorted(bureaus)
    classes = {c.code: c for c in AssetClass.objects.filter(code__in=[i[0] for i in ITEMS])}
    for q, (first, last) in enumerate(quarters):
        count = 14 + 6 * q
        for n in range(count):
            giver_code, receiver_code = codes[(n + q) % len(codes)], codes[(n * 5 + 3 + q) % len(codes)]
            if giver_code == receiver_code:
                receiver_code = codes[(n * 5 + 4 + q) % len(codes)]
            (giver, giver_bureau, giver_user), (receiver, receiver_bureau, receiver_user) = (
                bureaus[giver_code], bureaus[receiver_code])
            cls, description, unit, value, acquired = ITEMS[n % len(ITEMS)]
            quantity = 2 + n % 3
            asset = items.register_asset(giver_user, agency=giver, asset_class=classes[cls],
                                         description=description, quantity=quantity, unit=unit,
                                         original_value=Decimal(value), acquired_on=acquired, condition="good")
            listing = items.mark_idle(giver_user, asset=asset)
            Listing.objects.filter(pk=listing.pk).update(own_window_ends_at=listing.opened_at)
            listing = Listing.objects.get(pk=listing.pk)
            if n % 6 == 5:  # listed, never claimed
                continue
            _, transfer = transfer_requests.create_request(receiver_user, listing=listing, agency=receiver,
                                                   quantity=quantity - (n % 2), justification="新增人员办公需要")
            for step in transfer.steps.all():
                decider = {"giving_bureau": giver_bureau, "receiving_bureau": receiver_bureau}[step.kind]
                approvals.decide_step(decider, step, approve=True)
            transfer.refresh_from_db()
            handover.confirm_handover(receiver_user, transfer, received_quantity=transfer.quantity,
                                       received_condition="good")
            start = min(first + timedelta(days=2 + n * (80 // count)), last - timedelta(days=20))
            _wind_back(transfer, start, n)
    close_evaluation_cycles.apply()
    _seed_co2_version(region, quarters)


def _seed_co2_version(region, quarters):
    """Version 2 of the set (with CO₂ avoided) from the day after the last frozen quarter, as a region
    would add an indicator: the two quarters frozen under version 1 keep it."""
    indicators.seed(region, quarters[1][1] + timedelta(days=1), version=2,
                    title="长三角公物仓绩效评估指标体系（增设减少碳排放）")
