"""Build each document's plain data (reports.data) from the database through reports.selectors.
`progress(percent)` is called as the work advances (the job records it)."""
from collections import defaultdict
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange.models import Asset, Transfer
from kernel.errors import InvalidState
from kernel.models import AuditCheckpoint
from ledger import selectors as ledger
from ledger.models import (
    SAVINGS_DEFINITION,
    Account,
    ClosingBalance,
    CompensationBreakdown,
    Leg,
    PaymentInstruction,
    SettlementPeriod,
)
from regions.membership import descendants, region_jurisdictions
from regions.models import Jurisdiction
from regions.permissions import restrict
from regions.selectors import duties_of

from . import data as d
from . import selectors

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = Decimal(86400)
ONE_PLACE = Decimal("0.1")
CENT = Decimal("0.01")


def _noop(_percent):
    return None


def heading(region, jurisdiction=None, period_from=None, period_to=None):
    return d.Heading(
        region_zh=region.name_zh, region_en=region.name_en,
        scope_zh=jurisdiction.name_zh if jurisdiction else region.name_zh,
        scope_en=f"{jurisdiction.name_en} ({jurisdiction.code})" if jurisdiction else region.name_en,
        period_from=period_from, period_to=period_to)


def _days(delta):
    return (Decimal(delta.total_seconds()) / DAY).quantize(ONE_PLACE, ROUND_HALF_UP)


def _mean(values):
    return (sum(values) / len(values)).quantize(ONE_PLACE, ROUND_HALF_UP) if values else None


def _responsible(duty):
    return _display(duty.responsible) if duty is not None and duty.responsible_id else ""


def _display(user):
    if user is None:
        return ""
    full = user.get_full_name()
    return f"{full} ({user.username})" if full else user.username


def _status(choices, value):
    return str(dict(choices).get(value, value))


# --- transfer certificate -------------------------------------------------------------------------
def _party(agency):
    return d.Party(agency.name_zh, agency.name_en, agency.code, agency.jurisdiction.name_zh, agency.jurisdiction.code)


def _items(transfer):
    listing = transfer.listing
    if listing.asset_id:
        asset = listing.asset
        return (d.CertificateItem(
            description=asset.description, asset_class=f"{asset.asset_class.code} {asset.asset_class.name_zh}",
            quantity=transfer.quantity, unit=asset.unit, unit_value=asset.original_value, value=transfer.value,
            condition=_status(Asset._meta.get_field("condition").choices, transfer.received_condition
                              or asset.condition)),)
    space = listing.office_space
    return (d.CertificateItem(
        description=f"{space.building} {space.floor} {space.rooms}（{space.area_m2} m²）",
        asset_class="办公用房 office space", quantity=transfer.quantity, unit="处", unit_value=transfer.value,
        value=transfer.value, condition="—"),)


def build_transfer_certificate(transfer_id, *, user=None, progress=_noop):
    transfer = selectors.transfer_for_certificate(transfer_id, user)
    if transfer.status != Transfer.Status.COMPLETED:
        raise InvalidState(_("A transfer certificate is issued only for a completed transfer."), field="transfer_id")
    if not transfer.certificate_code:
        raise InvalidState(_("The transfer has no certificate code yet."), field="transfer_id")
    progress(30)
    steps = list(selectors.approval_steps(transfer))
    handover = selectors.handover_event(transfer)
    duties = duties_of([*steps, transfer])
    handover_duty = duties.get((Transfer, transfer.pk))
    compensation, total, note = compensation_lines(transfer)
    progress(60)
    return d.TransferCertificate(
        heading=heading(transfer.region), transfer_id=transfer.pk, certificate_code=transfer.certificate_code,
        verify_url=settings.PUBLIC_BASE_URL + reverse("reports:verify", args=[transfer.certificate_code]),
        status_zh=transfer.get_status_display(), giver=_party(transfer.giver), receiver=_party(transfer.receiver),
        items=_items(transfer), total_value=transfer.value, distance_km=transfer.distance_km,
        allocated_at=transfer.allocated_at, approved_at=transfer.approved_at, completed_at=transfer.completed_at,
        approvals=tuple(d.ApprovalLine(
            step_zh=str(s.get_kind_display()).split(" ")[0], step_en=str(s.get_kind_display()).split(" ", 1)[-1],
            decision_zh=str(s.get_decision_display()), decided_by=_display(s.decided_by), decided_at=s.decided_at,
            due_at=s.due_at, on_time=None if s.decided_at is None else s.decided_at <= s.due_at,
            responsible=_responsible(duties.get((type(s), s.pk)))) for s in steps),
        received_quantity=transfer.received_quantity,
        received_condition=_status(Transfer._meta.get_field("received_condition").choices,
                                   transfer.received_condition) if transfer.received_condition else "",
        handover_confirmed_by=_display(handover.actor) if handover else "",
        handover_responsible=_responsible(handover_duty),
        handover_due_at=handover_duty.due_at if handover_duty else None,
        compensation=compensation, compensation_total=total, compensation_note=note)


def compensation_lines(transfer):
    """The compensation breakdown posted by the ledger for this transfer: (lines, total, note). The
    transfer was already read within the user's scope, so its breakdown is read by the transfer alone."""
    row = CompensationBreakdown.objects.filter(transfer_id=transfer.pk).first()
    if row is None:
        return (), None, "补偿尚未入账 Compensation not posted."
    lines = []
    for name, zh, en in (("residual_amount", "残值补偿", "residual value × rate"),
                         ("handling_fee", "手续费", "handling fee"), ("transport", "运输费", "transport")):
        value = Decimal(getattr(row, name) or 0)
        if value:
            lines.append(d.MoneyLine(zh, en, value.quantize(CENT, ROUND_HALF_UP)))
    note = "" if transfer.listing.asset_id else ("办公用房按月计租金当量补偿，见结算单。 Office space is compensated "
                                                  "monthly as rent-equivalent; see the settlement statement.")
    return tuple(lines), row.total, note


# --- period allocation report ---------------------------------------------------------------------
def build_allocation_report(region, jurisdiction=None, period_from=None, period_to=None, *, user=None,
                            progress=_noop):
    scope = descendants([jurisdiction.pk]) if jurisdiction else None
    qs = selectors.period_transfers(scope, region, period_from, period_to, user)
    fields = ("id", "allocated_at", "completed_at", "giver_jurisdiction__name_zh", "receiver_jurisdiction__name_zh",
              "giver__name_zh", "receiver__name_zh", "listing__title", "quantity", "value", "status")
    labels = dict(Transfer.Status.choices)
    rows = []
    for tid, allocated, completed, gj, rj, giver, receiver, title, qty, value, status in qs.values_list(*fields):
        rows.append(d.TransferRow(
            transfer_id=tid, allocated_on=allocated.astimezone(SHANGHAI).date(),
            completed_on=completed.astimezone(SHANGHAI).date() if completed else None, giver_jurisdiction=gj,
            receiver_jurisdiction=rj, giver=giver, receiver=receiver, item=title, quantity=qty, value=value,
            status_zh=str(labels.get(status, status)), turnaround_days=_days(completed - allocated) if completed
            else None))
    progress(50)
    return d.allocation_from_rows(heading(region, jurisdiction, period_from, period_to), rows)


# --- settlement statement -------------------------------------------------------------------------
def _account_name(account):
    if account.jurisdiction_id is None:
        return "区域清算 region clearing"
    return f"{account.jurisdiction.name_zh} {account.jurisdiction.code}"


def _ledger(queryset, user):
    return queryset if user is None else restrict(queryset, user)


def _accounts(user, as_of):
    if user is None:
        return ledger.with_balances(Account.objects.select_related("jurisdiction"), as_of)
    return ledger.accounts_for(user, as_of)


def build_settlement_statement(region, jurisdiction=None, period_from=None, period_to=None, *, user=None,
                               progress=_noop):
    """Balances, netted payment instructions and postings of the region's settlement periods that overlap
    [period_from, period_to], for the jurisdiction (with its descendants) or the whole region. A closed
    period's closing balances are the frozen ones; an open period's are live as of its end."""
    periods = _ledger(SettlementPeriod.objects.filter(region=region), user).order_by("start")
    if period_from:
        periods = periods.filter(end__gte=period_from)
    if period_to:
        periods = periods.filter(start__lte=period_to)
    periods = list(periods)
    if not periods:
        raise InvalidState(_("No settlement period of the region falls in the requested dates."), field="period_from")
    start, end = period_from or periods[0].start, period_to or periods[-1].end
    closed = [p for p in periods if p.status == SettlementPeriod.Status.CLOSED]
    if len(closed) == len(periods):
        status_zh = "已关闭 closed"
    elif closed:
        status_zh = f"部分关闭 partly closed ({len(closed)}/{len(periods)})"
    else:
        status_zh = "开放 open（余额为期末实时数 live balances）"
    scope = descendants([jurisdiction.pk]) if jurisdiction else None
    in_scope = Q(region=region) & (Q(jurisdiction_id__in=scope) if scope is not None else Q())
    progress(20)

    before = {a.pk: a for a in _accounts(user, start - timedelta(days=1)).filter(in_scope)}
    after = {a.pk: a for a in _accounts(user, end).filter(in_scope)}
    last = periods[-1]
    frozen = {}
    if last.status == SettlementPeriod.Status.CLOSED and last.end <= end:
        frozen = dict(_ledger(ClosingBalance.objects.filter(period=last), user).values_list("account_id", "balance"))
    balances = []
    for pk, account in sorted(after.items(), key=lambda kv: (kv[1].kind != Account.Kind.COMPENSATION,
                                                             kv[1].code)):
        opening = ledger.money(before[pk].balance) if pk in before else d.ZERO
        debits = ledger.money(account.debits) - (ledger.money(before[pk].debits) if pk in before else d.ZERO)
        credits = ledger.money(account.credits) - (ledger.money(before[pk].credits) if pk in before else d.ZERO)
        closing = frozen.get(pk, ledger.money(account.balance))
        if not (opening or debits or credits or closing) and account.kind == Account.Kind.CLEARING:
            continue
        balances.append(d.BalanceLine(_account_name(account), opening, debits, credits, closing))
    progress(45)

    instructions = _ledger(PaymentInstruction.objects.select_related(
        "payer__jurisdiction", "payee__jurisdiction"), user).filter(period__in=periods).order_by("period__start", "id")
    if scope is not None:
        instructions = instructions.filter(Q(payer__jurisdiction_id__in=scope) | Q(payee__jurisdiction_id__in=scope))
    payments = tuple(d.PaymentLine(
        payer=_account_name(i.payer), payee=_account_name(i.payee), amount=i.amount,
        status_zh=f"已确认 confirmed {timezone.localdate(i.confirmed_at).isoformat()}" if i.transaction_id
        else "待支付 pending") for i in instructions)
    progress(60)

    legs = _ledger(Leg.objects.filter(transaction__posted=True), user).select_related(
        "transaction", "account__jurisdiction").filter(
        transaction__region=region, transaction__date__range=(start, end)).order_by(
        "transaction__date", "transaction_id", "id")
    if scope is not None:
        legs = legs.filter(account__jurisdiction_id__in=scope)
    postings = tuple(d.PostingLine(
        posted_on=leg.transaction.date, reference=f"JT-{leg.transaction_id}", account=_account_name(leg.account),
        description=leg.transaction.description, debit=leg.amount if leg.side == Leg.Side.DEBIT else d.ZERO,
        credit=leg.amount if leg.side == Leg.Side.CREDIT else d.ZERO) for leg in legs)
    progress(80)
    return d.SettlementStatement(heading=heading(region, jurisdiction, start, end), period_status_zh=status_zh,
                                 balances=tuple(balances), payments=payments, postings=postings,
                                 audit_anchor=audit_anchor(closed))


def audit_anchor(closed_periods):
    """The audit checkpoint written when the last of the periods closed: printed on the statement, so that
    a copy of the trail's head hash and count lives outside the database (see `verify_audit`)."""
    if not closed_periods:
        return ""
    point = AuditCheckpoint.objects.filter(kind=AuditCheckpoint.Kind.SETTLEMENT_CLOSE,
                                           reference=f"period:{closed_periods[-1].pk}").order_by("-id").first()
    if point is None:
        return ""
    return (f"#{point.pk} {timezone.localtime(point.at):%Y-%m-%d %H:%M} · {point.event_count} events · "
            f"head {point.head_event_id} · SHA-256 {point.head_hash}")


# --- performance scorecard ------------------------------------------------------------------------
SCORE_NOTES = (
    "挂牌：期间内开始挂牌的物品数。 Listed: listings opened in the period.",
    "调入/调出：期间内完成交接的调拨笔数。 Taken/given: transfers completed (handover confirmed) in the period.",
    SAVINGS_DEFINITION,
    "闲置率：生成时本地区在账资产中闲置或已挂牌的比例（按价值：其原值×数量所占比例）。 Idle rate: share of the "
    "jurisdiction's assets on record "
    "(not transferred or disposed) that are idle or listed, at generation time; by value: the same share of "
    "their original value × quantity.",
    "审批均天：本地区管理局在期间内作出决定的审批环节，从开启到决定的平均天数。 Days/step: mean days from opening "
    "to decision of the bureau's approval steps decided in the period.",
    "红灯占比：上述环节及期末仍待审批的环节中超过时限者的比例。 Red steps: share of those steps, and of steps "
    "still pending, that passed their deadline.",
    "用房：期间内完成调剂的办公用房面积（调入与调出）。 Office m²: area of office space reallocated in the "
    "period (taken and given).",
)


def build_scorecard(region, jurisdiction=None, period_from=None, period_to=None, *, user=None, progress=_noop):
    """One line per jurisdiction: the given jurisdiction (with its descendants), or every member
    jurisdiction of the region that has agencies."""
    if jurisdiction is not None:
        groups = {jurisdiction: descendants([jurisdiction.pk])}
    else:
        members = region_jurisdictions([region.pk])
        groups = {j: {j.pk} for j in Jurisdiction.objects.filter(pk__in=members, agencies__isnull=False).distinct()}
    everything = set().union(*groups.values()) if groups else set()
    owner = {jid: j for j, ids in groups.items() for jid in ids}

    listed = defaultdict(int)
    for jid in selectors.period_listings(everything, region, period_from, period_to, user).values_list(
            "jurisdiction_id", flat=True):
        listed[owner[jid]] += 1
    progress(30)
    taken, given, received, office = defaultdict(int), defaultdict(int), defaultdict(Decimal), defaultdict(Decimal)
    co2 = defaultdict(Decimal)
    completed = selectors.completed_transfers(everything, region, period_from, period_to, user)
    for gj, rj, area, kg in completed.values_list("giver_jurisdiction_id", "receiver_jurisdiction_id",
                                                  "listing__office_space__area_m2", "co2_avoided_kg"):
        if rj in owner:
            taken[owner[rj]] += 1
            office[owner[rj]] += area or 0
            co2[owner[rj]] += kg or 0
        if gj in owner:
            given[owner[gj]] += 1
            office[owner[gj]] += area or 0
    progress(50)
    on_record, idle = defaultdict(int), defaultdict(int)
    value_on_record, value_idle = defaultdict(Decimal), defaultdict(Decimal)
    for jid, status, unit_value, quantity in selectors.assets_of(everything, user).exclude(
            status__in=[Asset.Status.TRANSFERRED, Asset.Status.DISPOSED]).values_list(
            "agency__jurisdiction_id", "status", "original_value", "quantity"):
        is_idle = status in (Asset.Status.IDLE, Asset.Status.LISTED)
        on_record[owner[jid]] += 1
        idle[owner[jid]] += is_idle
        value_on_record[owner[jid]] += unit_value * quantity
        value_idle[owner[jid]] += unit_value * quantity if is_idle else 0
    step_days, red, steps = defaultdict(list), defaultdict(int), defaultdict(int)
    now = timezone.now()
    for jid, opened, due, decided in selectors.bureau_steps(everything, period_from, period_to, user).values_list(
            "jurisdiction_id", "opened_at", "due_at", "decided_at"):
        j = owner[jid]
        steps[j] += 1
        if decided is not None:
            step_days[j].append(_days(decided - opened))
        red[j] += (decided or now) > due
    progress(70)
    paid, received, saved = compensation_paid(groups, period_from, period_to)
    lines = []
    for j in sorted(groups, key=lambda x: x.code):
        comp = paid.get(j)
        lines.append(d.ScoreLine(
            jurisdiction=j.name_zh, items_listed=listed[j], items_taken=taken[j], items_given=given[j],
            value_received=received[j], compensation_paid=comp, value_saved=saved[j],
            idle_rate=(Decimal(idle[j]) / on_record[j]).quantize(Decimal("0.001"), ROUND_HALF_UP)
            if on_record[j] else None,
            avg_step_days=_mean(step_days[j]),
            red_share=(Decimal(red[j]) / steps[j]).quantize(Decimal("0.001"), ROUND_HALF_UP) if steps[j] else None,
            office_m2=Decimal(office[j]).quantize(Decimal("0.01")), code=j.code, jurisdiction_en=j.name_en,
            idle_value_rate=(value_idle[j] / value_on_record[j]).quantize(Decimal("0.001"), ROUND_HALF_UP)
            if value_on_record[j] else None, co2_avoided_kg=Decimal(co2[j])))
    return d.Scorecard(heading=heading(region, jurisdiction, period_from, period_to), lines=tuple(lines),
                       notes=SCORE_NOTES + (
                           "补偿：期间内完成调入的调拨按台账补偿明细计的补偿总额。 Compensation: ledger compensation "
                           "totals of transfers taken (completed) in the period.",))


def compensation_paid(groups, period_from, period_to):
    """Per jurisdiction group (the receiving side), from the ledger's breakdowns of transfers completed in
    the period: (compensation paid, value not bought, savings), savings as SAVINGS_DEFINITION says."""
    owner = {jid: j for j, ids in groups.items() for jid in ids}
    paid, not_bought, saved = ({j: d.ZERO for j in groups} for _ in range(3))
    q = Q(receiver_jurisdiction_id__in=owner) & selectors.in_period("transfer__completed_at", period_from, period_to)
    for jid, total, value, saving in CompensationBreakdown.objects.filter(q).values_list(
            "receiver_jurisdiction_id", "total", "value_not_bought", "savings"):
        paid[owner[jid]] += total
        not_bought[owner[jid]] += value or 0
        saved[owner[jid]] += saving or 0
    return paid, not_bought, saved


BUILDERS = {
    "allocation_report": build_allocation_report,
    "settlement_statement": build_settlement_statement,
    "scorecard": build_scorecard,
}
