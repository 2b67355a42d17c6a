"""Office-space rent-equivalent (办公用房租金当量): an occupancy is charged per calendar month of use,

    rent = giving jurisdiction's rent-equivalent per m² per month × area × days used in the month ÷ days of the month

from the handover day (the first month prorated) to the occupancy's last day (ended, or `availableTo`),
rounded to CNY 2 places half-up once per month's posting. A month is posted once it is over, or at once
when the occupancy ends inside it; idempotent per (occupancy, month) by the key `rent:<transfer>:<YYYY-MM>`.
The receiver's settling account is debited and the giver's credited, as for compensation.
"""
import calendar
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction as db_transaction
from django.utils import timezone

from exchange.models import Occupancy, OfficeSpace
from kernel import audit
from kernel.errors import NotFound
from kernel.money import cny
from ledger.models import JournalTransaction
from regions.models import RentNorm
from regions.services.standards import standard_in_force

from .posting import compensation_account, post, settler

DAY = timedelta(days=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def months_of_use(occupancy, through: date):
    """[(first day, last day)] of use within each calendar month, from the start to `through` (inclusive),
    only for months whose use is over by then (the month ended, or the occupancy's last day)."""
    last = occupancy.last_day
    current = occupancy.starts_on
    spans = []
    while current <= through and (last is None or current <= last):
        end = month_end(current)
        if last is not None and last < end:
            end = last
        if end > through:
            break
        spans.append((current, end))
        current = end + DAY
        if last is not None and current > last:
            break
    return spans


def _chargeable_through(occupancy, today):
    """Occupancies ended by the service are charged to their last day; others to yesterday at most."""
    if occupancy.ended_on is not None:
        return occupancy.ended_on
    return min(d for d in (occupancy.ends_on, today - DAY) if d is not None)


def post_ended_occupancy(sender, *, occupancy, user, **kwargs):
    """Receiver of `exchange.signals.occupancy_ended`."""
    post_occupancy_rent(occupancy, user=user)


def post_occupancy_rent(occupancy, *, today=None, user=None):
    """Post every month of use of the occupancy not yet posted; returns the number posted."""
    today = today or timezone.localdate()
    occupancy = Occupancy.objects.select_related(
        "transfer__region", "transfer__giver_jurisdiction", "transfer__receiver_jurisdiction").get(pk=occupancy.pk)
    posted = 0
    for first, last in months_of_use(occupancy, _chargeable_through(occupancy, today)):
        key = f"rent:{occupancy.transfer_id}:{first:%Y-%m}"
        if JournalTransaction.objects.filter(key=key).exists():
            continue
        with db_transaction.atomic():
            posted += _post_month(user, occupancy, first, last, key)
    return posted


def _rent_norm(standard_set, jurisdiction, settling):
    norm = RentNorm.objects.filter(standard_set=standard_set, jurisdiction=jurisdiction).first()
    if norm is None and settling is not None and settling.pk != jurisdiction.pk:
        norm = RentNorm.objects.filter(standard_set=standard_set, jurisdiction=settling).first()
    return norm


def _post_month(user, occupancy, first, last, key):
    transfer = occupancy.transfer
    region = transfer.region
    try:
        standard_set = standard_in_force(region, first)
    except NotFound:
        return 0
    giver = settler(region, transfer.giver_jurisdiction, last)
    receiver = settler(region, transfer.receiver_jurisdiction, last)
    if giver is None or receiver is None or giver.pk == receiver.pk:
        return 0  # a party outside the region that day, or both settle in one account
    norm = _rent_norm(standard_set, transfer.giver_jurisdiction, giver)
    if norm is None:
        return 0
    days, in_month = (last - first).days + 1, calendar.monthrange(first.year, first.month)[1]
    exact = norm.rent_per_m2_month * occupancy.area_m2 * Decimal(days) / Decimal(in_month)
    amount = cny(exact)
    if amount == 0:
        return 0
    txn, created = post(region, on=last, kind=JournalTransaction.Kind.RENT, key=key, transfer=transfer,
                        description=f"用房租金当量 rent {first:%Y-%m}: {norm.rent_per_m2_month} × "
                                    f"{occupancy.area_m2} m² × {days}/{in_month} days, transfer #{transfer.pk}",
                        legs=[(compensation_account(region, receiver), "debit", amount),
                              (compensation_account(region, giver), "credit", amount)])
    if created:
        audit.record(user, "ledger.rent_posted", txn, after={
            "amount": amount, "month": f"{first:%Y-%m}", "days": days, "days_in_month": in_month,
            "rent_per_m2_month": norm.rent_per_m2_month, "area_m2": occupancy.area_m2, "exact": exact},
            transfer=transfer, region=region, jurisdiction=receiver)
    return int(created)


def end_reached_occupancies(today, user=None):
    """Occupancies whose `availableTo` has passed end on it (the space goes back to its owner, idle)."""
    ended = 0
    for occupancy in Occupancy.objects.filter(ended_on__isnull=True, ends_on__lt=today).select_related(
            "office_space"):
        with db_transaction.atomic():
            Occupancy.objects.filter(pk=occupancy.pk).update(ended_on=occupancy.ends_on)
            OfficeSpace.objects.filter(pk=occupancy.office_space_id).update(status=OfficeSpace.Status.IDLE)
            audit.record(user, "occupancy.ended", occupancy, before={"ended_on": None},
                         after={"ended_on": occupancy.ends_on, "reason": "available_to reached"},
                         transfer=occupancy.transfer)
            ended += 1
    return ended


def post_monthly_rent(user=None, today: date | None = None):
    """The daily task: end occupancies past their `availableTo`, then post every due month of every
    occupancy (open, or ended with a month still unposted). Returns the number of transactions posted."""
    today = today or timezone.localdate()
    end_reached_occupancies(today, user)
    posted = 0
    for occupancy in Occupancy.objects.filter(transfer__status="completed").order_by("pk"):
        posted += post_occupancy_rent(occupancy, today=today, user=user)
    return posted
