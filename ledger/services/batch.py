"""Posting the compensation of completed transfers, many at once or one (`compensation.on_transfer_completed`
is this with one transfer), in a constant number of statements whatever their number.

Every transaction is inserted unposted, its legs inserted, then all are marked posted in one UPDATE, which
fires the database's balance and period-freeze checks (set-based on PostgreSQL: migration 0007), and on
PostgreSQL the deferred balance check at commit. Audit events are chained in order under the chain's lock
(`kernel.audit`). Statements: the breakdowns already made; per distinct region and handover date the
standard set in force, the region's members and settling level, the period; the accounts; then five writes
(transactions, legs, the posting UPDATE, breakdowns, audit events). What never changes once in force is
read once per process: the class norms of a standard set in force (sets in force are never edited, a change
is a new version: regions.services.standards) and the jurisdiction tree (regions.reference). Callers hold
the transaction open.
"""
from django.db import transaction
from django.utils import timezone

from kernel import audit, bulk
from kernel.errors import NotFound
from kernel.geo import geodesic_m_array
from kernel.money import cny
from kernel.refcache import Memo
from ledger.models import SAVINGS_DEFINITION, Account, CompensationBreakdown, JournalTransaction, Leg
from regions.models import AssetClassNorm, Jurisdiction, Region, StandardSet
from regions.services.standards import standard_in_force
from regions.settling import settlers_on

from .compensation import _local_date, compute
from .posting import compensation_account, period_for

IN_FORCE = Memo(StandardSet, AssetClassNorm)  # (region, day) → set in force; set → {class code: norm}
ACCOUNTS = Memo(Account, Region, Jurisdiction)  # "compensation" → {(region, jurisdiction): account}


def _standard_set(region, on):
    """The set in force on `on`; memoised for days up to today (no set in force then can change)."""
    if on > timezone.localdate():
        return standard_in_force(region, on)
    return IN_FORCE.get(("set", region.pk, on), standard_in_force, region, on)


def _norms(standard_set):
    make = lambda: {n.class_code: n for n in standard_set.class_norms.all()}  # noqa: E731
    if standard_set.effective_from > timezone.localdate():
        return make()
    return IN_FORCE.get(("norms", standard_set.pk), make)


def post_compensations(transfers, user, *, signal=False):
    """Post the compensation of each completed transfer not posted yet; returns the new breakdowns.
    `transfers` come with region, parties (agencies with location), jurisdictions and listing.asset.asset_class
    loaded (see `completed_for_posting`). `signal`: save the audit events one by one, so that post_save
    listeners (notices, webhooks) hear of each, as `audit.record` does; otherwise one bulk insert."""
    transfers = list(transfers)
    done = set(CompensationBreakdown.objects.filter(transfer_id__in=[t.pk for t in transfers])
               .values_list("transfer_id", flat=True))
    transfers = [t for t in transfers if t.pk not in done]
    if not transfers:
        return []
    metres = _distances_m(transfers)
    days, skipped, rows = {}, [], []
    for transfer in transfers:
        region, on = transfer.region, _local_date(transfer.completed_at)
        key = (region.pk, on)
        if key not in days:
            try:
                standard_set = _standard_set(region, on)
            except NotFound:
                standard_set = None
            days[key] = standard_set
        if days[key] is None:
            skipped.append(transfer)
        else:
            rows.append((transfer, on, days[key]))
    settlers = {}
    for (region_pk, on), standard_set in days.items():
        if standard_set is not None:
            on_day = [t for t, d, _ in rows if t.region_id == region_pk and d == on]
            parties = {j.pk: j for t in on_day for j in (t.giver_jurisdiction, t.receiver_jurisdiction)}
            found = settlers_on(on_day[0].region, list(parties.values()), on)
            settlers.update({(region_pk, on, pk): s for pk, s in found.items()})
    accounts = _accounts([(t.region, s) for t, on, _ in rows
                          for s in (settlers[(t.region_id, on, t.giver_jurisdiction_id)],
                                    settlers[(t.region_id, on, t.receiver_jurisdiction_id)]) if s is not None])
    periods, txns, legs, breakdowns = {}, [], [], []
    for transfer, on, standard_set in rows:
        region = transfer.region
        class_norms = _norms(standard_set)
        details, residual_amount, handling, transport, total = compute(transfer, standard_set, class_norms,
                                                                       metres=metres.get(transfer.pk))
        details["handover_date"] = on.isoformat()
        giver = settlers[(region.pk, on, transfer.giver_jurisdiction_id)]
        receiver = settlers[(region.pk, on, transfer.receiver_jurisdiction_id)]
        txn = None
        if giver is None or receiver is None:
            details["posting"] = "A party is not inside a member of the region on the handover date: nothing posted."
            giver, receiver = giver or transfer.giver_jurisdiction, receiver or transfer.receiver_jurisdiction
        elif giver.pk == receiver.pk:
            details["posting"] = "Giver and receiver settle in the same account: nothing posted."
        elif total > 0:
            if (region.pk, on) not in periods:
                periods[(region.pk, on)] = period_for(region, on)
            period, posted_on = periods[(region.pk, on)]
            txn = JournalTransaction(
                region=region, period=period, date=posted_on, kind=JournalTransaction.Kind.COMPENSATION,
                key=f"compensation:{transfer.pk}", transfer=transfer,
                description=f"调剂补偿 compensation, transfer #{transfer.pk} {transfer.listing.title}"[:300])
            txns.append(txn)
            legs += [Leg(transaction=txn, account=accounts[(region.pk, receiver.pk)], side=Leg.Side.DEBIT,
                         amount=total),
                     Leg(transaction=txn, account=accounts[(region.pk, giver.pk)], side=Leg.Side.CREDIT,
                         amount=total)]
            details["posting"] = {"date": posted_on.isoformat(), "debit": receiver.code, "credit": giver.code}
        not_bought, saved = _savings(transfer, class_norms, total)
        if not_bought is not None:
            details.update({"value_not_bought": str(not_bought), "savings": str(saved),
                            "savings_rule": SAVINGS_DEFINITION})
        breakdowns.append(CompensationBreakdown(
            transfer=transfer, transaction=txn, standard_set=standard_set, giver_jurisdiction=giver,
            receiver_jurisdiction=receiver, residual_amount=residual_amount, handling_fee=handling,
            transport=transport, total=total, value_not_bought=not_bought, savings=saved, details=details))
    if txns:
        bulk.insert(JournalTransaction, txns)
        bulk.insert(Leg, legs, with_pk=False)
        # The database checks each transaction's balance and its period here.
        JournalTransaction.objects.filter(pk__in=[t.pk for t in txns]).update(posted=True)
        for txn in txns:
            txn.posted = True
    for b in breakdowns:
        if b.transaction is not None:
            b.details["posting"] = {"transaction": b.transaction.pk, **b.details["posting"]}
    bulk.insert(CompensationBreakdown, breakdowns)
    entries = [
        {"action": "ledger.compensation_skipped", "obj": t, "after": {"reason": "no standard set in force"},
         "transfer": t, "region": t.region} for t in skipped] + [
        {"action": "ledger.compensation_posted", "obj": b,
         "after": {"total": b.total, "transaction": b.transaction_id}, "transfer": b.transfer,
         "region": b.transfer.region, "jurisdiction": b.receiver_jurisdiction} for b in breakdowns]
    if signal:
        for entry in entries:
            audit.record(user, **entry)
    else:
        audit.record_many(user, entries)
    return breakdowns


def _distances_m(transfers):
    """{transfer id: the unrounded geodesic between the agencies in metres} for the asset transfers, in one
    call of the one distance function (kernel.geo)."""
    moved = [t for t in transfers if t.listing.asset_id is not None]
    if not moved:
        return {}
    metres = geodesic_m_array([t.giver.location.x for t in moved], [t.giver.location.y for t in moved],
                              [t.receiver.location.x for t in moved], [t.receiver.location.y for t in moved])
    return dict(zip([t.pk for t in moved], metres.tolist(), strict=True))


def _accounts(pairs):
    """{(region id, jurisdiction id): compensation account}: those this process has not seen committed yet in
    one query (missing ones created), remembered once the transaction commits (never a rolled-back one).
    Accounts are never edited and cannot be deleted once they have legs."""
    known = ACCOUNTS.get("compensation", dict)
    wanted = {(region.pk, j.pk): (region, j) for region, j in pairs}
    found = {key: known[key] for key in wanted if key in known}
    missing = {key: pair for key, pair in wanted.items() if key not in found}
    if missing:
        read = {(a.region_id, a.jurisdiction_id): a for a in Account.objects.filter(
            kind=Account.Kind.COMPENSATION, region_id__in={r for r, _ in missing},
            jurisdiction_id__in={j for _, j in missing})}
        news = {key: read.get(key) or compensation_account(region, jurisdiction)
                for key, (region, jurisdiction) in missing.items()}
        found.update(news)
        transaction.on_commit(lambda: ACCOUNTS.get("compensation", dict).update(news))
    return found


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
    """Transfers with the relations `post_compensations` reads (and only the columns it reads), in id order."""
    return queryset.select_related(
        "region", "giver", "receiver", "giver_jurisdiction", "receiver_jurisdiction",
        "listing__asset__asset_class").only(
        "region_id", "giver_id", "receiver_id", "giver_jurisdiction_id", "receiver_jurisdiction_id",
        "listing_id", "quantity", "received_quantity", "completed_at", "status",
        "region__code", "region__name_zh", "giver__location", "receiver__location",
        *(f"{side}_jurisdiction__{f}" for side in ("giver", "receiver")
          for f in ("code", "level", "parent_id", "name_zh")),
        "listing__title", "listing__asset_id", "listing__office_space_id",
        "listing__asset__original_value", "listing__asset__acquired_on", "listing__asset__asset_class_id",
        "listing__asset__asset_class__code").order_by("id")
