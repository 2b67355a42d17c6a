"""The fact database (事实数据库) behind every indicator: per evaluated unit and period, plain numbers
computed from the exchange's own records, so that each score can be recomputed from the exported facts.

Evaluated units are the region's member jurisdictions at the indicator set's level (prefecture cities in
the YRD demo), plus any member above that level with no children at it (a municipality such as
Shanghai, which is its own city). Each record counts for the unit whose subtree holds its jurisdiction.
"""
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from statistics import median

from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from exchange.models import ApprovalStep, Asset, Listing, Transfer
from kernel.workdays import working_days_between
from ledger.models import CompensationBreakdown
from lifecycle.models import Disposal, Loan
from regions import membership
from regions.models import Jurisdiction
from regions.services.standards import standard_in_force
from reports.selectors import day_range

ZERO = Decimal(0)


@dataclass(frozen=True)
class Fact:
    code: str
    name: str
    definition: str


CATALOGUE = [
    Fact("asset_value", _("asset value held (CNY)"),
         _("Original value × quantity of the unit's asset records acquired by the period end and still held "
           "(not disposed of), plus the units it has given out since the period start.")),
    Fact("listed_value", _("value listed (CNY)"),
         _("Original value × quantity offered of the unit's asset listings opened in the period.")),
    Fact("given_value", _("value given (CNY)"),
         _("Original value of the units others received from the unit, for transfers completed in the period.")),
    Fact("reused_value", _("value of listings reused (CNY)"),
         _("Original value of the units others received (by the freeze) from the unit's listings opened in "
           "the period.")),
    Fact("received_value", _("value received (CNY)"),
         _("Original value of the units the unit received, for transfers completed in the period.")),
    Fact("avoided_purchase", _("purchases avoided (CNY)"),
         _("Received units × the standard's price cap for the class (or the original value where the "
           "standard sets no cap), for transfers completed in the period.")),
    Fact("co2_avoided_kg", _("CO₂ avoided (kg CO₂e)"),
         _("Units received × the embodied-carbon factor of their class in force at completion (each factor "
           "with its published source), for transfers completed in the period.")),
    Fact("compensation_paid", _("compensation paid (CNY)"),
         _("Compensation of the transfers the unit received, completed in the period.")),
    Fact("compensation_received", _("compensation received (CNY)"),
         _("Compensation of the transfers the unit gave, completed in the period.")),
    Fact("transfers_completed", _("transfers received"),
         _("Transfers completed in the period with the unit as receiver.")),
    Fact("turnaround_median_days", _("median turnaround (working days)"),
         _("Median of working days from request to completed handover, transfers received in the period.")),
    Fact("steps_total", _("approval steps"),
         _("Approval steps of the unit's bureaus opened in the period (steps closed unanswered left out).")),
    Fact("steps_decided", _("approval steps decided"), _("Of those, steps decided by the period end.")),
    Fact("steps_on_time", _("approval steps on time"), _("Of those, steps decided by their deadline.")),
    Fact("steps_red", _("approval steps red"),
         _("Steps decided after their deadline, or still pending past it at the period end.")),
    Fact("loans_returned", _("loans returned"), _("Loans of the unit's items returned in the period.")),
    Fact("loans_returned_on_time", _("loans returned on time"), _("Of those, loans returned by their due date.")),
    Fact("listings_ended", _("listings whose screening ended"),
         _("The unit's listings whose regional screening window ended in the period.")),
    Fact("listings_to_disposal", _("listings sent to disposal"),
         _("Of the unit's listings, those that went to disposal (unclaimed) in the period.")),
]
CODES = [f.code for f in CATALOGUE]


def unit_map(region, level, on):
    """({jurisdiction id: unit}, [units]) for the region's members on `on`, evaluated at `level`."""
    tree = {j.pk: j for j in Jurisdiction.objects.defer("boundary", "boundary_simplified")}
    children = defaultdict(list)
    for j in tree.values():
        if j.parent_id:
            children[j.parent_id].append(j.pk)

    def descend(pk):
        yield pk
        for child in children[pk]:
            yield from descend(child)

    members = {pk for m in membership.members([region.pk], on) for pk in descend(m)}
    order = [Jurisdiction.Level.PROVINCE, Jurisdiction.Level.CITY, Jurisdiction.Level.COUNTY]
    depth = order.index(level)
    units = [tree[pk] for pk in members if tree[pk].level == level
             or (order.index(tree[pk].level) < depth
                 and not any(tree[c].level == level for c in children[pk]))]
    unit_of = {}
    for unit in units:
        for pk in descend(unit.pk):
            unit_of.setdefault(pk, unit)
    return unit_of, sorted(units, key=lambda j: j.code)


def collect(region, level, period_from, period_to):
    """{unit jurisdiction: {fact code: Decimal | None}} for the period."""
    unit_of, units = unit_map(region, level, period_to)
    start, end = day_range(period_from, period_to)
    facts = {u: dict.fromkeys(CODES, ZERO) for u in units}

    def add(jurisdiction_id, code, amount):
        unit = unit_of.get(jurisdiction_id)
        if unit is not None and amount:
            facts[unit][code] += Decimal(amount)

    held = (Asset.objects.filter(acquired_on__lte=period_to)
            .exclude(status__in=[Asset.Status.TRANSFERRED, Asset.Status.DISPOSED])
            .values("agency__jurisdiction_id").annotate(v=Sum(F("original_value") * F("quantity"))))
    for row in held:
        add(row["agency__jurisdiction_id"], "asset_value", row["v"])
    given_since = (Transfer.objects.filter(region=region, status=Transfer.Status.COMPLETED, completed_at__gte=start,
                                           listing__asset__acquired_on__lte=period_to)
                   .values("giver_jurisdiction_id")
                   .annotate(v=Sum(F("listing__asset__original_value") * F("received_quantity"))))
    for row in given_since:
        add(row["giver_jurisdiction_id"], "asset_value", row["v"])
    reused = (Transfer.objects.filter(region=region, status=Transfer.Status.COMPLETED, listing__asset__isnull=False,
                                      listing__opened_at__gte=start, listing__opened_at__lt=end)
              .values("giver_jurisdiction_id")
              .annotate(v=Sum(F("listing__asset__original_value") * F("received_quantity"))))
    for row in reused:
        add(row["giver_jurisdiction_id"], "reused_value", row["v"])
    listed = (Listing.objects.filter(region=region, asset__isnull=False, opened_at__gte=start, opened_at__lt=end)
              .values("jurisdiction_id").annotate(v=Sum(F("asset__original_value") * F("quantity"))))
    for row in listed:
        add(row["jurisdiction_id"], "listed_value", row["v"])

    completed = list(Transfer.objects.filter(region=region, status=Transfer.Status.COMPLETED,
                                             completed_at__gte=start, completed_at__lt=end)
                     .select_related("listing__asset__asset_class", "request"))
    compensation = dict(CompensationBreakdown.objects.filter(transfer__in=completed)
                        .values_list("transfer_id", "total"))
    turnaround = defaultdict(list)
    for t in completed:
        asset, units_received = t.listing.asset, t.received_quantity or 0
        facts_unit = unit_of.get(t.receiver_jurisdiction_id)
        if facts_unit is not None:
            facts[facts_unit]["transfers_completed"] += 1
            turnaround[facts_unit].append(working_days_between(
                timezone.localdate(t.request.created_at), timezone.localdate(t.completed_at)))
        if asset is not None:
            value = asset.original_value * units_received
            add(t.giver_jurisdiction_id, "given_value", value)
            add(t.receiver_jurisdiction_id, "received_value", value)
            add(t.receiver_jurisdiction_id, "avoided_purchase",
                _avoided_unit_price(asset, timezone.localdate(t.completed_at), region) * units_received)
        add(t.receiver_jurisdiction_id, "co2_avoided_kg", t.co2_avoided_kg)
        add(t.receiver_jurisdiction_id, "compensation_paid", compensation.get(t.pk, ZERO))
        add(t.giver_jurisdiction_id, "compensation_received", compensation.get(t.pk, ZERO))
    for lender_jurisdiction, due_at, returned_at in (
            Loan.objects.filter(region=region, returned_at__gte=start, returned_at__lt=end)
            .values_list("lender__jurisdiction_id", "due_at", "returned_at")):
        add(lender_jurisdiction, "loans_returned", 1)
        add(lender_jurisdiction, "loans_returned_on_time", 1 if due_at and returned_at <= due_at else 0)
    for row in (Listing.objects.filter(region=region, region_window_ends_at__gte=start, region_window_ends_at__lt=end)
                .values("jurisdiction_id").annotate(n=Count("id"))):
        add(row["jurisdiction_id"], "listings_ended", row["n"])
    for row in (Disposal.objects.filter(region=region, opened_at__gte=start, opened_at__lt=end)
                .values("jurisdiction_id").annotate(n=Count("id"))):
        add(row["jurisdiction_id"], "listings_to_disposal", row["n"])
    for unit in units:
        days = turnaround.get(unit)
        facts[unit]["turnaround_median_days"] = Decimal(str(median(days))) if days else None

    steps = (ApprovalStep.objects.filter(jurisdiction__isnull=False, opened_at__gte=start, opened_at__lt=end)
             .exclude(decision=ApprovalStep.Decision.CLOSED)
             .values_list("jurisdiction_id", "decision", "decided_at", "due_at"))
    for jurisdiction_id, decision, decided_at, due_at in steps:
        decided = decision != ApprovalStep.Decision.PENDING and decided_at is not None and decided_at < end
        add(jurisdiction_id, "steps_total", 1)
        add(jurisdiction_id, "steps_decided", 1 if decided else 0)
        add(jurisdiction_id, "steps_on_time", 1 if decided and decided_at <= due_at else 0)
        red = (decided and decided_at > due_at) or (not decided and due_at < end)
        add(jurisdiction_id, "steps_red", 1 if red else 0)
    return facts


def _avoided_unit_price(asset, on, region):
    """What one received unit would have cost to buy: the standard's price cap for the class, or the
    unit's original value where the standard in force sets no cap."""
    standard = standard_in_force(region, on)
    norm = standard.class_norms.filter(class_code=asset.asset_class.code).first()
    return norm.price_cap if norm is not None and norm.price_cap is not None else asset.original_value
