"""Ledger reads, always through `restrict`. Balances are aggregated in SQL (Sum over Case), never in Python."""
from datetime import date
from decimal import Decimal

from django.db.models import Case, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from kernel.errors import NotFound
from ledger.services.compensation import compute
from regions.membership import descendants
from regions.permissions import restrict
from regions.services.standards import standard_in_force

from .models import Account, ClosingBalance, CompensationBreakdown, Leg, PaymentInstruction, SettlementPeriod

MONEY = DecimalField(max_digits=16, decimal_places=2)
CENT = Decimal("0.01")


def money(value) -> Decimal:
    """A summed amount as exact CNY (SQLite sums decimals as floating point: 0.1 + 0.2 − 0.3 ≈ 1e−17)."""
    return Decimal(value or 0).quantize(CENT)


def _signed(prefix="", extra=None):
    cond = Q(**{f"{prefix}transaction__posted": True}) & (extra or Q())
    return Coalesce(Sum(Case(
        When(cond & Q(**{f"{prefix}side": "debit"}), then=F(f"{prefix}amount")),
        When(cond & Q(**{f"{prefix}side": "credit"}), then=-F(f"{prefix}amount")),
        default=Value(Decimal("0")), output_field=MONEY)), Value(Decimal("0")), output_field=MONEY)


def with_balances(queryset, as_of: date | None = None):
    """Annotate `balance` (Σdebit − Σcredit of posted legs dated on or before `as_of`; + owes), `debits`
    and `credits`."""
    dated = Q(legs__transaction__date__lte=as_of) if as_of else Q()
    posted = Q(legs__transaction__posted=True) & dated
    return queryset.annotate(
        balance=_signed("legs__", dated),
        debits=Coalesce(Sum("legs__amount", filter=posted & Q(legs__side="debit")), Value(Decimal("0")),
                        output_field=MONEY),
        credits=Coalesce(Sum("legs__amount", filter=posted & Q(legs__side="credit")), Value(Decimal("0")),
                         output_field=MONEY))


def balances(region, as_of=None, *, kind=Account.Kind.COMPENSATION):
    """{account_id: balance} of the region's accounts as of a date (one SQL query, unrestricted: services)."""
    qs = with_balances(Account.objects.filter(region=region, kind=kind), as_of)
    return {pk: money(balance) for pk, balance in qs.values_list("id", "balance")}


def balance_of(account, as_of=None):
    return money(with_balances(Account.objects.filter(pk=account.pk), as_of).values_list("balance", flat=True).get())


def restricted_accounts(user):
    return restrict(Account.objects.select_related("region", "jurisdiction"), user)


def accounts_for(user, as_of=None):
    return with_balances(restricted_accounts(user), as_of)


def periods_for(user):
    return restrict(SettlementPeriod.objects.select_related("region"), user)


def instructions_for(user):
    return restrict(PaymentInstruction.objects.select_related(
        "period__region", "payer__jurisdiction", "payee__jurisdiction", "transaction"), user).order_by(
        "period_id", "id")


def closing_balances_for(user):
    return restrict(ClosingBalance.objects.select_related("period", "account__jurisdiction"), user)


def legs_for(user):
    return restrict(Leg.objects.filter(transaction__posted=True).select_related(
        "transaction", "account__jurisdiction"), user).order_by("transaction__date", "transaction_id", "id")


def compensations_for(user):
    """Breakdowns the user may see: the settling bureaus' (and those above them) and the two agencies'."""
    return restrict(CompensationBreakdown.objects.select_related(
        "transaction", "giver_jurisdiction", "receiver_jurisdiction", "standard_set", "transfer"), user).order_by(
        "-created_at", "-id")


def compensation_for(user, transfer_id):
    found = compensations_for(user).filter(transfer_id=transfer_id).first()
    if found is None:
        raise NotFound(field="transfer_id")
    return found


def statement(user, account_id, start: date, end: date):
    """Opening balance (before `start`), debits and credits in [start, end], closing balance (SQL sums)."""
    account = restrict(Account.objects.select_related("jurisdiction"), user).filter(pk=account_id).first()
    if account is None:
        raise NotFound(field="account_id")
    legs = Leg.objects.filter(account=account, transaction__posted=True)
    figures = legs.aggregate(
        opening=Coalesce(Sum(Case(When(transaction__date__lt=start, side="debit", then=F("amount")),
                                  When(transaction__date__lt=start, side="credit", then=-F("amount")),
                                  output_field=MONEY)), Value(Decimal("0")), output_field=MONEY),
        debits=Coalesce(Sum("amount", filter=Q(transaction__date__range=(start, end), side="debit")),
                        Value(Decimal("0")), output_field=MONEY),
        credits=Coalesce(Sum("amount", filter=Q(transaction__date__range=(start, end), side="credit")),
                         Value(Decimal("0")), output_field=MONEY))
    figures = {k: money(v) for k, v in figures.items()}
    figures["closing"] = figures["opening"] + figures["debits"] - figures["credits"]
    return account, figures


def compensation_estimates(transfers, on: date | None = None):
    """{transfer id: estimated compensation total (CNY)} for transfers the caller already may see, with the
    standards in force `on` (default today) of each transfer's region: one query per region, whatever the
    number of transfers. A region without standards in force gets no estimate."""
    on = on or timezone.localdate()
    sets, norms, estimates = {}, {}, {}
    for transfer in transfers:
        if transfer.region_id not in sets:
            try:
                found = standard_in_force(transfer.region, on)
            except NotFound:
                found = None
            sets[transfer.region_id] = found
            norms[transfer.region_id] = {n.class_code: n for n in found.class_norms.all()} if found else {}
        if sets[transfer.region_id] is not None:
            *_parts, total = compute(transfer, sets[transfer.region_id], norms[transfer.region_id])
            estimates[transfer.pk] = total
    return estimates


def totals(accounts, as_of=None):
    """{balance, debits, credits} summed in SQL over the posted legs of the accounts (a queryset)."""
    legs = Leg.objects.filter(account__in=accounts.values("pk"), transaction__posted=True)
    if as_of:
        legs = legs.filter(transaction__date__lte=as_of)
    found = legs.aggregate(
        debits=Coalesce(Sum("amount", filter=Q(side="debit")), Value(Decimal("0")), output_field=MONEY),
        credits=Coalesce(Sum("amount", filter=Q(side="credit")), Value(Decimal("0")), output_field=MONEY))
    found = {k: money(v) for k, v in found.items()}
    found["balance"] = found["debits"] - found["credits"]
    return found


def jurisdiction_summary(user, jurisdiction, as_of=None):
    """A bureau's view of the accounts at or below `jurisdiction` (a province bureau: each of its cities):
    (lines, totals) with lines the visible compensation accounts annotated with balances and totals the
    sums over them {balance, debits, credits}, both in SQL."""
    lines = accounts_for(user, as_of).filter(kind=Account.Kind.COMPENSATION,
                                             jurisdiction_id__in=descendants([jurisdiction.pk]))
    return lines.order_by("code"), totals(lines, as_of)
