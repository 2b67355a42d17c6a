"""Build each document's plain data (reports.data) from the database through reports.selectors.
`progress(percent)` is called as the work advances (the job records it)."""
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.apps import apps
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange.errors import InvalidState
from exchange.models import Asset, Transfer
from regions.models import Jurisdiction

from . import data as d
from . import selectors

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = Decimal(86400)
ONE_PLACE = Decimal("0.1")


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


def _display(user):
    if user is None:
        return ""
    full = user.get_full_name()
    return f"{full} ({user.username})" if full else user.username


def _status(choices, value):
    return str(dict(choices).get(value, value))


def ledger_model(name):
    """A model of the ledger app, or None while the ledger does not define it."""
    try:
        return apps.get_model("ledger", name)
    except LookupError:
        return None


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


def build_transfer_certificate(transfer_id, *, user=None, base_url="", progress=_noop):
    transfer = selectors.transfer_for_certificate(transfer_id, user)
    if transfer.status != Transfer.Status.COMPLETED:
        raise InvalidState(_("A transfer certificate is issued only for a completed transfer."), field="transferId")
    if not transfer.certificate_code:
        raise InvalidState(_("The transfer has no certificate code yet."), field="transferId")
    progress(30)
    steps = list(selectors.approval_steps(transfer))
    handover = selectors.handover_event(transfer)
    compensation, total, note = compensation_lines(transfer)
    progress(60)
    return d.TransferCertificate(
        heading=heading(transfer.region), transfer_id=transfer.pk, certificate_code=transfer.certificate_code,
        verify_url=f"{base_url.rstrip('/')}/reports/verify/{transfer.certificate_code}",
        status_zh=transfer.get_status_display(), giver=_party(transfer.giver), receiver=_party(transfer.receiver),
        items=_items(transfer), total_value=transfer.value, distance_km=transfer.distance_km,
        allocated_at=transfer.allocated_at, approved_at=transfer.approved_at, completed_at=transfer.completed_at,
        approvals=tuple(d.ApprovalLine(
            step_zh=str(s.get_kind_display()).split(" ")[0], step_en=str(s.get_kind_display()).split(" ", 1)[-1],
            decision_zh=str(s.get_decision_display()), decided_by=_display(s.decided_by), decided_at=s.decided_at,
            due_at=s.due_at, on_time=None if s.decided_at is None else s.decided_at <= s.due_at) for s in steps),
        received_quantity=transfer.received_quantity,
        received_condition=_status(Transfer._meta.get_field("received_condition").choices,
                                   transfer.received_condition) if transfer.received_condition else "",
        handover_confirmed_by=_display(handover.actor) if handover else "",
        compensation=compensation, compensation_total=total, compensation_note=note)


def compensation_lines(transfer):
    """The compensation breakdown posted by the ledger for this transfer: (lines, total, note)."""
    breakdown = ledger_model("CompensationBreakdown") or ledger_model("Compensation")
    if breakdown is None:
        return (), None, ("补偿明细：台账模块尚未提供补偿数据，本单不含补偿金额。"
                          " Compensation: the ledger does not provide compensation data yet; none is shown.")
    return _ledger_compensation(breakdown, transfer)


def _ledger_compensation(model, transfer):  # pragma: no cover - filled in when the ledger has models
    row = model.objects.filter(transfer=transfer).first()
    if row is None:
        return (), None, "补偿尚未入账 Compensation not posted."
    lines = []
    for name, zh, en in (("residual_amount", "残值补偿", "residual value × rate"),
                         ("handling_fee", "手续费", "handling fee"), ("transport", "运输费", "transport"),
                         ("rent_amount", "租金当量", "rent-equivalent")):
        value = getattr(row, name, None)
        if value:
            lines.append(d.MoneyLine(zh, en, value))
    return tuple(lines), getattr(row, "total", None) or sum((x.amount for x in lines), d.ZERO), ""


# --- period allocation report ---------------------------------------------------------------------
def build_allocation_report(region, jurisdiction=None, period_from=None, period_to=None, *, user=None,
                            progress=_noop):
    scope = selectors.subtree([jurisdiction.pk]) if jurisdiction else None
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
def build_settlement_statement(region, jurisdiction=None, period_from=None, period_to=None, *, user=None,
                               progress=_noop):
    if ledger_model("Account") is None or ledger_model("SettlementPeriod") is None:
        raise InvalidState(
            "结算单无法生成：台账模块（exchange/ledger）尚未提供账户、分录与结算期间数据。 The settlement statement "
            "cannot be issued: the ledger (exchange/ledger) has no accounts, postings or settlement periods yet.",
            code="invalid_state")
    raise InvalidState("The ledger's settlement data is not wired into reports yet.")  # pragma: no cover


# --- performance scorecard ------------------------------------------------------------------------
SCORE_NOTES = (
    "挂牌：期间内开始挂牌的物品数。 Listed: listings opened in the period.",
    "调入/调出：期间内完成交接的调拨笔数。 Taken/given: transfers completed (handover confirmed) in the period.",
    "节约：调入物品原值（按原值估算的新购成本）减去支付的补偿。 Saved: original value of items taken "
    "(the cost of buying them new at original price) minus the compensation paid.",
    "闲置率：生成时本地区在账资产中闲置或已挂牌的比例。 Idle rate: share of the jurisdiction's assets on record "
    "(not transferred or disposed) that are idle or listed, at generation time.",
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
        groups = {jurisdiction: selectors.subtree([jurisdiction.pk])}
    else:
        members = selectors.region_jurisdictions(region)
        groups = {j: {j.pk} for j in Jurisdiction.objects.filter(pk__in=members, agencies__isnull=False).distinct()}
    everything = set().union(*groups.values()) if groups else set()
    owner = {jid: j for j, ids in groups.items() for jid in ids}

    listed = defaultdict(int)
    for jid in selectors.period_listings(everything, region, period_from, period_to, user).values_list(
            "jurisdiction_id", flat=True):
        listed[owner[jid]] += 1
    progress(30)
    taken, given, received, office = defaultdict(int), defaultdict(int), defaultdict(Decimal), defaultdict(Decimal)
    completed = selectors.completed_transfers(everything, region, period_from, period_to, user)
    for gj, rj, value, area in completed.values_list("giver_jurisdiction_id", "receiver_jurisdiction_id", "value",
                                                     "listing__office_space__area_m2"):
        if rj in owner:
            taken[owner[rj]] += 1
            received[owner[rj]] += value
            office[owner[rj]] += area or 0
        if gj in owner:
            given[owner[gj]] += 1
            office[owner[gj]] += area or 0
    progress(50)
    on_record, idle = defaultdict(int), defaultdict(int)
    for jid, status in selectors.assets_of(everything, user).exclude(
            status__in=[Asset.Status.TRANSFERRED, Asset.Status.DISPOSED]).values_list("agency__jurisdiction_id",
                                                                                    "status"):
        on_record[owner[jid]] += 1
        idle[owner[jid]] += status in (Asset.Status.IDLE, Asset.Status.LISTED)
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
    paid = compensation_paid(groups, period_from, period_to)
    lines = []
    for j in sorted(groups, key=lambda x: x.code):
        comp = paid.get(j) if paid is not None else None
        lines.append(d.ScoreLine(
            jurisdiction=j.name_zh, items_listed=listed[j], items_taken=taken[j], items_given=given[j],
            value_received=received[j], compensation_paid=comp, value_saved=received[j] - (comp or 0),
            idle_rate=(Decimal(idle[j]) / on_record[j]).quantize(Decimal("0.001"), ROUND_HALF_UP)
            if on_record[j] else None,
            avg_step_days=_mean(step_days[j]),
            red_share=(Decimal(red[j]) / steps[j]).quantize(Decimal("0.001"), ROUND_HALF_UP) if steps[j] else None,
            office_m2=Decimal(office[j]).quantize(Decimal("0.01"))))
    notes = SCORE_NOTES if paid is not None else SCORE_NOTES + (
        "补偿：台账模块尚未提供数据，节约额未扣除补偿。 Compensation: the ledger provides no data yet, so "
        "savings are not reduced by compensation.",)
    return d.Scorecard(heading=heading(region, jurisdiction, period_from, period_to), lines=tuple(lines),
                       notes=notes)


def compensation_paid(groups, period_from, period_to):
    """Compensation paid per jurisdiction from the ledger, or None while the ledger has no data."""
    if ledger_model("CompensationBreakdown") is None and ledger_model("Compensation") is None:
        return None
    return None  # pragma: no cover - wired when the ledger's models exist


BUILDERS = {
    "allocation_report": build_allocation_report,
    "settlement_statement": build_settlement_statement,
    "scorecard": build_scorecard,
}
