"""The plain data of each document: frozen dataclasses built from the database by `reports.builders`
and rendered to PDF by `reports.render` (which never touches the ORM). `data_sha256` is the SHA-256 of
the canonical JSON of a document's data; it is printed on the last page and recorded on the job."""
import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Heading:
    """What every document shows in its header: the region and the scope (region or jurisdiction)."""

    region_zh: str
    region_en: str
    scope_zh: str = ""
    scope_en: str = ""
    period_from: date | None = None
    period_to: date | None = None


# --- transfer certificate (调拨单) ---------------------------------------------------------------
@dataclass(frozen=True)
class Party:
    agency_zh: str
    agency_en: str
    agency_code: str
    jurisdiction_zh: str
    jurisdiction_code: str


@dataclass(frozen=True)
class CertificateItem:
    description: str
    asset_class: str
    quantity: int
    unit: str
    unit_value: Decimal
    value: Decimal
    condition: str


@dataclass(frozen=True)
class ApprovalLine:
    step_zh: str
    step_en: str
    decision_zh: str
    decided_by: str
    decided_at: datetime | None
    due_at: datetime | None
    on_time: bool | None
    responsible: str = ""


@dataclass(frozen=True)
class MoneyLine:
    label_zh: str
    label_en: str
    amount: Decimal


@dataclass(frozen=True)
class TransferCertificate:
    heading: Heading
    transfer_id: int
    certificate_code: str
    verify_url: str
    status_zh: str
    giver: Party
    receiver: Party
    items: tuple[CertificateItem, ...]
    total_value: Decimal
    distance_km: Decimal
    allocated_at: datetime | None
    approved_at: datetime | None
    completed_at: datetime | None
    approvals: tuple[ApprovalLine, ...]
    received_quantity: int | None
    received_condition: str
    handover_confirmed_by: str
    compensation: tuple[MoneyLine, ...] = ()
    handover_responsible: str = ""
    handover_due_at: datetime | None = None
    compensation_total: Decimal | None = None
    compensation_note: str = ""

    kind = "transfer_certificate"


# --- period allocation report ---------------------------------------------------------------------
@dataclass(frozen=True)
class TransferRow:
    transfer_id: int
    allocated_on: date
    completed_on: date | None
    giver_jurisdiction: str
    receiver_jurisdiction: str
    giver: str
    receiver: str
    item: str
    quantity: int
    value: Decimal
    status_zh: str
    turnaround_days: Decimal | None


@dataclass(frozen=True)
class MonthFigure:
    month: str  # "2026-03"
    transfers: int
    value: Decimal
    avg_turnaround_days: Decimal | None


@dataclass(frozen=True)
class JurisdictionFigure:
    jurisdiction: str
    value_out: Decimal
    value_in: Decimal
    transfers_out: int
    transfers_in: int


@dataclass(frozen=True)
class Flow:
    giver_jurisdiction: str
    receiver_jurisdiction: str
    transfers: int
    value: Decimal


@dataclass(frozen=True)
class AllocationReport:
    heading: Heading
    transfers: int
    completed: int
    value: Decimal
    avg_turnaround_days: Decimal | None
    months: tuple[MonthFigure, ...]
    jurisdictions: tuple[JurisdictionFigure, ...]
    flows: tuple[Flow, ...]
    rows: tuple[TransferRow, ...]

    kind = "allocation_report"


# --- settlement statement -------------------------------------------------------------------------
@dataclass(frozen=True)
class BalanceLine:
    account: str
    opening: Decimal
    debits: Decimal
    credits: Decimal
    closing: Decimal


@dataclass(frozen=True)
class PaymentLine:
    payer: str
    payee: str
    amount: Decimal
    status_zh: str


@dataclass(frozen=True)
class PostingLine:
    posted_on: date
    reference: str
    account: str
    description: str
    debit: Decimal
    credit: Decimal


@dataclass(frozen=True)
class SettlementStatement:
    heading: Heading
    period_status_zh: str
    balances: tuple[BalanceLine, ...]
    payments: tuple[PaymentLine, ...]
    postings: tuple[PostingLine, ...]
    audit_anchor: str = ""  # the audit checkpoint of the last close (head hash, count), copied out of the DB

    kind = "settlement_statement"


# --- performance scorecard (绩效评估) ---------------------------------------------------------------
@dataclass(frozen=True)
class ScoreLine:
    jurisdiction: str
    items_listed: int
    items_taken: int
    items_given: int
    value_received: Decimal
    compensation_paid: Decimal | None
    value_saved: Decimal
    idle_rate: Decimal | None  # share 0..1 of the jurisdiction's assets that are idle or listed
    avg_step_days: Decimal | None
    red_share: Decimal | None  # share 0..1 of approval steps that were (or are) overdue
    office_m2: Decimal
    code: str = ""
    jurisdiction_en: str = ""
    idle_value_rate: Decimal | None = None  # share 0..1 of the original value on record that is idle or listed
    co2_avoided_kg: Decimal = Decimal(0)  # CO₂ avoided by the transfers taken (exchange/services/carbon.py)


@dataclass(frozen=True)
class Scorecard:
    heading: Heading
    lines: tuple[ScoreLine, ...]
    notes: tuple[str, ...] = field(default=())

    kind = "scorecard"


def allocation_from_rows(head, rows):
    """Totals, monthly figures, per-jurisdiction figures and flows from the rows (shared with builders)."""
    months, juris, flows = {}, {}, {}
    for r in rows:
        m = months.setdefault(r.allocated_on.strftime("%Y-%m"), [0, ZERO, []])
        m[0] += 1
        m[1] += r.value
        if r.turnaround_days is not None:
            m[2].append(r.turnaround_days)
        for name, out in ((r.giver_jurisdiction, True), (r.receiver_jurisdiction, False)):
            j = juris.setdefault(name, [ZERO, ZERO, 0, 0])
            j[0 if out else 1] += r.value
            j[2 if out else 3] += 1
        f = flows.setdefault((r.giver_jurisdiction, r.receiver_jurisdiction), [0, ZERO])
        f[0] += 1
        f[1] += r.value
    turnarounds = [r.turnaround_days for r in rows if r.turnaround_days is not None]
    return AllocationReport(
        heading=head, transfers=len(rows), completed=len(turnarounds), value=sum((r.value for r in rows), ZERO),
        avg_turnaround_days=_mean(turnarounds),
        months=tuple(MonthFigure(k, v[0], v[1], _mean(v[2])) for k, v in sorted(months.items())),
        jurisdictions=tuple(JurisdictionFigure(k, v[0], v[1], v[2], v[3]) for k, v in sorted(juris.items())),
        flows=tuple(Flow(k[0], k[1], v[0], v[1]) for k, v in sorted(flows.items(), key=lambda kv: -kv[1][1])),
        rows=tuple(rows))


def _mean(values):
    return (sum(values) / len(values)).quantize(Decimal("0.1"), ROUND_HALF_UP) if values else None


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _plain(value):
    """What json cannot encode itself: a dataclass as the dict of its fields (what `dataclasses.asdict` gives,
    without its deep copy of every value), Decimal as its exact string, dates in ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES.get(type(value))
        if names is None:
            names = _FIELD_NAMES[type(value)] = tuple(f.name for f in dataclasses.fields(value))
        return {name: getattr(value, name) for name in names}
    raise TypeError(f"not serializable: {type(value).__name__}")


def canonical_json(data) -> str:
    """Sorted keys, no spaces, Decimal as its exact string, dates in ISO 8601; the document kind first."""
    return json.dumps({"kind": data.kind, "data": data}, default=_plain, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))


def data_sha256(data) -> str:
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()
