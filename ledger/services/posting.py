"""Accounts, periods and posting one balanced transaction. Callers hold the transaction open."""
import calendar
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ValidationFailed
from kernel.money import cny
from ledger.models import Account, JournalTransaction, Leg, SettlementPeriod
from regions.settling import settling_jurisdiction, settling_jurisdictions


def settler(region, jurisdiction, on):
    """The jurisdiction whose account settles for `jurisdiction` on `on` (the region's settling level in
    force that day), or None when it is not inside a member of the region that day."""
    return settling_jurisdiction(region, jurisdiction, on)


def compensation_account(region, jurisdiction):
    account, _ = Account.objects.get_or_create(
        region=region, jurisdiction=jurisdiction, kind=Account.Kind.COMPENSATION,
        defaults={"code": f"{region.code}:{jurisdiction.code}:compensation",
                  "name": f"{jurisdiction.name_zh} 补偿往来 compensation"})
    return account


def proceeds_accounts(region, jurisdiction):
    """(cash received, due to the treasury): the two accounts of a jurisdiction's disposal proceeds."""
    names = {Account.Kind.PROCEEDS: "处置收款 disposal proceeds received",
             Account.Kind.TREASURY_DUE: "应缴财政款 due to the treasury"}
    return tuple(Account.objects.get_or_create(
        region=region, jurisdiction=jurisdiction, kind=kind,
        defaults={"code": f"{region.code}:{jurisdiction.code}:{kind}", "name": f"{jurisdiction.name_zh} {name}"})[0]
        for kind, name in names.items())


def clearing_account(region):
    account, _ = Account.objects.get_or_create(
        region=region, kind=Account.Kind.CLEARING,
        defaults={"code": f"{region.code}:clearing", "name": f"{region.name_zh} 区域清算 clearing"})
    return account


def ensure_member_accounts(region, on=None):
    """An account for every jurisdiction that settles in the region on `on` (default today)."""
    for jurisdiction in settling_jurisdictions(region, on or timezone.localdate()):
        compensation_account(region, jurisdiction)
    clearing_account(region)


def _month_period(region, on):
    start = on.replace(day=1)
    end = on.replace(day=calendar.monthrange(on.year, on.month)[1])
    period, _ = SettlementPeriod.objects.get_or_create(region=region, start=start, defaults={"end": end})
    return period


def period_for(region, on: date):
    """The open period that receives a posting dated `on`, and the date it is posted on. Periods are
    calendar months created on demand; a date inside a closed period moves to the first day of the next
    open period (the posting "goes to the next")."""
    period = SettlementPeriod.objects.filter(region=region, start__lte=on, end__gte=on).first() \
        or _month_period(region, on)
    while period.status == SettlementPeriod.Status.CLOSED:
        on = period.end.fromordinal(period.end.toordinal() + 1)
        period = SettlementPeriod.objects.filter(region=region, start__lte=on, end__gte=on).first() \
            or _month_period(region, on)
    return period, on


def post(region, *, on, kind, description, key, legs, transfer=None, reverses=None):
    """Post one transaction of `legs` [(account, "debit"|"credit", amount)] dated `on` (or the next open
    period). Idempotent by `key`: an existing transaction with the key is returned unchanged."""
    existing = JournalTransaction.objects.filter(key=key).first()
    if existing is not None:
        return existing, False
    legs = [(account, side, cny(amount)) for account, side, amount in legs if cny(amount) != 0]
    if not legs:
        raise ValidationFailed(_("Nothing to post: every amount rounds to zero."))
    period, on = period_for(region, on)
    txn = JournalTransaction.objects.create(region=region, period=period, date=on, kind=kind,
                                            description=description[:300], key=key, transfer=transfer,
                                            reverses=reverses)
    Leg.objects.bulk_create([Leg(transaction=txn, account=a, side=s, amount=m) for a, s, m in legs])
    JournalTransaction.objects.filter(pk=txn.pk).update(posted=True)  # the DB checks the balance here
    txn.posted = True
    return txn, True


def reverse(original, *, on, description=""):
    """The correcting transaction: the original's legs with sides swapped, referencing it."""
    flip = {Leg.Side.DEBIT: Leg.Side.CREDIT, Leg.Side.CREDIT: Leg.Side.DEBIT}
    legs = [(leg.account, flip[leg.side], leg.amount) for leg in original.legs.select_related("account")]
    return post(original.region, on=on, kind=JournalTransaction.Kind.REVERSAL,
                description=description or f"冲销 reversal of #{original.pk}", key=f"reversal:{original.pk}",
                legs=legs, reverses=original, transfer=original.transfer)
