"""Set-based posting: the compensation of many completed transfers in a constant number of statements
(settlement runs, imports of completed transfers, window-close allocation). The same rule and the same
database invariants as `compensation.on_transfer_completed`, one transfer at a time: every transaction
is inserted unposted, its legs inserted, then all are marked posted in one UPDATE, which fires the
database's per-transaction balance and period-freeze checks (and, on PostgreSQL, the deferred balance
check at commit). Audit events are chained in order under one lock (`kernel.audit.record_many`).

Statements per batch: a handful of look-ups (existing breakdowns and keys, standard sets and their norms,
settling jurisdictions, accounts, periods: per distinct region/date/jurisdiction, not per transfer) and
five writes (transactions, legs, the posting UPDATE, breakdowns, audit events). Callers hold the
transaction open.
"""
from kernel import audit
from kernel.errors import NotFound
from kernel.money import cny
from ledger.models import SAVINGS_DEFINITION, CompensationBreakdown, JournalTransaction, Leg
from regions.services.standards import standard_in_force

from .compensation import _local_date, compute
from .posting import compensation_account, period_for, settler


class _Memo(dict):
    def get_or(self, key, make, *args):
        if key not in self:
            self[key] = make(*args)
        return self[key]


def post_compensations(transfers, user):
    """Post the compensation of each completed transfer not posted yet; returns the new breakdowns.
    `transfers` come with region, parties (agencies with location), jurisdictions and listing.asset.asset_class
    loaded (see `completed_for_posting`)."""
    transfers = list(transfers)
    done = set(CompensationBreakdown.objects.filter(transfer_id__in=[t.pk for t in transfers])
               .values_list("transfer_id", flat=True))
    standards, norms, settlers, accounts, periods = _Memo(), _Memo(), _Memo(), _Memo(), _Memo()
    txns, legs_of, breakdowns, skipped = [], {}, [], []
    for transfer in transfers:
        if transfer.pk in done:
            continue
        region, on = transfer.region, _local_date(transfer.completed_at)
        try:
            standard_set = standards.get_or((region.pk, on), standard_in_force, region, on)
        except NotFound:
            skipped.append(transfer)
            continue
        class_norms = norms.get_or(standard_set.pk, _norms, standard_set)
        details, residual_amount, handling, transport, total = compute(transfer, standard_set, class_norms)
        details["handover_date"] = on.isoformat()
        giver = settlers.get_or((region.pk, transfer.giver_jurisdiction_id, on),
                                settler, region, transfer.giver_jurisdiction, on)
        receiver = settlers.get_or((region.pk, transfer.receiver_jurisdiction_id, on),
                                   settler, region, transfer.receiver_jurisdiction, on)
        txn = None
        if giver is None or receiver is None:
            details["posting"] = "A party is not inside a member of the region on the handover date: nothing posted."
            giver, receiver = giver or transfer.giver_jurisdiction, receiver or transfer.receiver_jurisdiction
        elif giver.pk == receiver.pk:
            details["posting"] = "Giver and receiver settle in the same account: nothing posted."
        elif total > 0:
            period, posted_on = periods.get_or((region.pk, on), period_for, region, on)
            txn = JournalTransaction(
                region=region, period=period, date=posted_on, kind=JournalTransaction.Kind.COMPENSATION,
                key=f"compensation:{transfer.pk}", transfer=transfer,
                description=f"调剂补偿 compensation, transfer #{transfer.pk} {transfer.listing.title}"[:300])
            debit = accounts.get_or((region.pk, receiver.pk), compensation_account, region, receiver)
            credit = accounts.get_or((region.pk, giver.pk), compensation_account, region, giver)
            legs_of[id(txn)] = [(debit, Leg.Side.DEBIT, total), (credit, Leg.Side.CREDIT, total)]
            txns.append(txn)
        not_bought, saved = _savings(transfer, class_norms, total)
        if not_bought is not None:
            details.update({"value_not_bought": str(not_bought), "savings": str(saved),
                            "savings_rule": SAVINGS_DEFINITION})
        breakdowns.append(CompensationBreakdown(
            transfer=transfer, transaction=txn, standard_set=standard_set, giver_jurisdiction=giver,
            receiver_jurisdiction=receiver, residual_amount=residual_amount, handling_fee=handling,
            transport=transport, total=total, value_not_bought=not_bought, savings=saved, details=details))
    if txns:
        JournalTransaction.objects.bulk_create(txns)
        Leg.objects.bulk_create([Leg(transaction=txn, account=account, side=side, amount=amount)
                                 for txn in txns for account, side, amount in legs_of[id(txn)]])
        # The database checks each transaction's balance and its period here.
        JournalTransaction.objects.filter(pk__in=[t.pk for t in txns]).update(posted=True)
        for txn in txns:
            txn.posted = True
    for b in breakdowns:
        b.transaction_id = b.transaction.pk if b.transaction is not None else None
    CompensationBreakdown.objects.bulk_create(breakdowns)
    audit.record_many(user, [
        {"action": "ledger.compensation_skipped", "obj": t, "after": {"reason": "no standard set in force"},
         "transfer": t, "region": t.region} for t in skipped] + [
        {"action": "ledger.compensation_posted", "obj": b,
         "after": {"total": b.total, "transaction": b.transaction_id}, "transfer": b.transfer,
         "region": b.transfer.region, "jurisdiction": b.receiver_jurisdiction} for b in breakdowns])
    return breakdowns


def _norms(standard_set):
    return {n.class_code: n for n in standard_set.class_norms.all()}


def _savings(transfer, class_norms, total):
    """compensation.savings with the standard set's norms already loaded."""
    asset = transfer.listing.asset
    if asset is None:
        return None, None
    norm = class_norms.get(asset.asset_class.code)
    unit = norm.price_cap if norm is not None and norm.price_cap is not None else asset.original_value
    value = cny(unit * (transfer.received_quantity or transfer.quantity))
    return value, value - total


def completed_for_posting(queryset):
    """Transfers with the relations `post_compensations` reads, in id order."""
    return queryset.select_related(
        "region", "giver", "receiver", "giver_jurisdiction", "receiver_jurisdiction",
        "listing__asset__asset_class").defer(
        *(f"{side}_jurisdiction__{f}" for side in ("giver", "receiver") for f in ("boundary", "boundary_simplified"))
    ).order_by("id")
