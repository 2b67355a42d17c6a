"""Posting the compensation of completed transfers, many at once or one (`compensation.on_transfer_completed`
is this with one transfer), in a constant number of statements whatever their number.

Every transaction is inserted unposted, its legs inserted, then all are marked posted in one UPDATE, which
fires the database's balance and period-freeze checks (set-based on PostgreSQL: migration 0007), and on
PostgreSQL the deferred balance check at commit. Audit events are chained in order under the chain's lock
(`kernel.audit`). What never changes once in force is read once per process: the class norms of a standard
set in force (sets in force are never edited, a change is a new version: regions.services.standards), the
jurisdiction tree (regions.reference) and the accounts. Callers hold the transaction open.

On PostgreSQL a posting is two round trips whatever its size: the region's members and settling level per
distinct region and handover date, the audit chain's lock and head, and every key drawn; then the writes
(transactions, legs, the posting UPDATE, breakdowns, audit events) sent together inside a savepoint. The
chain's lock is so held from the first round trip to the commit (writers of one region post one after
another; of different regions, side by side). The periods the process has seen open are not read again, nor
whether the transfers are posted already: the database refuses a write into a closed period and a second
breakdown or transaction key, and then the posting is made again from what it reads (the period rule of
`posting.period_for`). On SQLite each write is its own statement, after reading the breakdowns made already
and the period.
"""
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from kernel import audit, bulk
from kernel.errors import NotFound
from kernel.geo import geodesic_m
from kernel.models import AuditEvent
from kernel.money import cny
from kernel.refcache import Memo
from ledger.models import SAVINGS_DEFINITION, Account, CompensationBreakdown, JournalTransaction, Leg, SettlementPeriod
from regions.models import AssetClassNorm, Jurisdiction, Region, StandardSet
from regions.services.standards import standard_in_force
from regions.settling import settlers_from, settlers_on, settlers_query

from .compensation import _local_date, compute
from .posting import compensation_account, period_for

IN_FORCE = Memo(StandardSet, AssetClassNorm)  # (region, day) → set in force; set → {class code: norm}
ACCOUNTS = Memo(Account, Region, Jurisdiction)  # "compensation" → {(region, jurisdiction): account}
PERIODS = Memo(SettlementPeriod)  # "open" → {(region, day): (period, posted on)} seen in committed transactions


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
    loaded (see `completed_for_posting`). `signal`: the audit events are announced one by one, so that
    post_save listeners (notices, webhooks) hear of each, as `audit.record` does; otherwise none is sent.

    On PostgreSQL it first trusts what it remembers: the periods it saw open (PERIODS) and that the transfers
    are not posted yet. Its writes are then refused by the database if either is wrong (a period closed
    since, a breakdown or transaction key that exists: the triggers and unique constraints), and it posts
    again from what the database says now."""
    transfers = list(transfers)
    if connection.vendor == "postgresql":
        try:
            return _post(transfers, user, signal, trusted=True)
        except _Refused:
            PERIODS.clear()
            unposted = CompensationBreakdown.transfer.field.remote_field  # the refused breakdowns, on each transfer
            for t in transfers:
                if unposted.is_cached(t):
                    unposted.delete_cached_value(t)
    return _post(transfers, user, signal, trusted=False)


class _Refused(Exception):
    """The database refused a write made from remembered facts (rolled back to before it)."""


def _post(transfers, user, signal, *, trusted):
    if not trusted:
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
    posting_days = {}
    for transfer, on, _ in rows:
        posting_days.setdefault((transfer.region_id, on), []).append(transfer)
    head = None
    if connection.vendor == "postgresql":  # one round trip: members, the chain's lock and head, every key
        first = (skipped or [t for t, _, _ in rows])[0]  # the chain of _entries' first event
        head = audit.lock(first.region, len(skipped) + len(rows),
                          draw=((JournalTransaction, len(rows)), (CompensationBreakdown, len(rows))),
                          reads=[settlers_query(on_day[0].region, on) for (_, on), on_day in posting_days.items()])
        members = dict(zip(posting_days, head.reads, strict=True))
    settlers = {}
    for (region_pk, on), on_day in posting_days.items():
        parties = list({j.pk: j for t in on_day for j in (t.giver_jurisdiction, t.receiver_jurisdiction)}.values())
        found = (settlers_from(members[(region_pk, on)], parties) if head is not None
                 else settlers_on(on_day[0].region, parties, on))
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
                periods[(region.pk, on)] = _period(region, on, trusted)
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
    if head is not None:
        _write_postgresql(txns, legs, breakdowns, skipped, user, signal, head, trusted=trusted)
    else:
        _write_orm(txns, legs, breakdowns, skipped, user, signal)
    if periods:
        found = dict(periods)
        transaction.on_commit(lambda: PERIODS.get("open", dict).update(found))
    return breakdowns


def _period(region, on, trusted):
    """`period_for`, or what it answered before in a committed transaction when `trusted`."""
    if trusted:
        known = PERIODS.get("open", dict).get((region.pk, on))
        if known is not None:
            return known
    return period_for(region, on)


def _link(breakdowns):
    """Each breakdown names its transaction by its key, once the transaction has one."""
    for b in breakdowns:
        if b.transaction is not None:
            b.transaction = b.transaction  # its key, now that it has one
            b.details["posting"] = {"transaction": b.transaction.pk, **b.details["posting"]}


def _entries(skipped, breakdowns):
    return [
        {"action": "ledger.compensation_skipped", "obj": t, "after": {"reason": "no standard set in force"},
         "transfer": t, "region": t.region} for t in skipped] + [
        {"action": "ledger.compensation_posted", "obj": b,
         "after": {"total": b.total, "transaction": b.transaction_id}, "transfer": b.transfer,
         "region": b.transfer.region, "jurisdiction": b.receiver_jurisdiction} for b in breakdowns]


def _write_orm(txns, legs, breakdowns, skipped, user, signal):
    """Transactions inserted unposted, their legs, all posted in one UPDATE (the database checks each
    transaction's balance and its period here), the breakdowns, then the audit events."""
    if txns:
        bulk.insert(JournalTransaction, txns)
        bulk.insert(Leg, legs, with_pk=False)
        JournalTransaction.objects.filter(pk__in=[t.pk for t in txns]).update(posted=True)
        for txn in txns:
            txn.posted = True
    _link(breakdowns)
    bulk.insert(CompensationBreakdown, breakdowns)
    entries = _entries(skipped, breakdowns)
    if signal:
        for entry in entries:
            audit.record(user, **entry)
    else:
        audit.record_many(user, entries)


def _write_postgresql(txns, legs, breakdowns, skipped, user, signal, head, *, trusted):
    """`_write_orm`'s statements in one round trip, inside a savepoint: the transactions inserted unposted,
    their legs, the UPDATE that posts them (where the database checks each balance and period), the
    breakdowns and the audit events, chained from `head` (`audit.lock`: their ids and the rows' keys drawn
    after the chain's lock). A refusal rolls back to the savepoint: _Refused when `trusted`, else the
    database's error."""
    for obj, pk in zip(txns, head.keys[0], strict=False):  # keys were drawn for every transfer that might post
        obj.pk = pk
    for obj, pk in zip(breakdowns, head.keys[1], strict=True):
        obj.pk = pk
    _link(breakdowns)
    events = audit.chain(user, _entries(skipped, breakdowns), head=head)
    statements = []
    if txns:
        statements += [bulk.json_insert(JournalTransaction, txns), bulk.json_insert(Leg, legs, with_pk=False),
                       ("UPDATE ledger_journaltransaction SET posted = true WHERE id = ANY(%s)", [t.pk for t in txns])]
    statements += [bulk.json_insert(CompensationBreakdown, breakdowns), bulk.json_insert(AuditEvent, events)]
    sql = "; ".join(["SAVEPOINT ledger_post", *(s for s, _ in statements), "RELEASE SAVEPOINT ledger_post"])
    with connection.cursor() as cursor:
        try:
            cursor.execute(sql, [p for _, p in statements])
        except DatabaseError:
            cursor.execute("ROLLBACK TO SAVEPOINT ledger_post; RELEASE SAVEPOINT ledger_post")
            if trusted:
                raise _Refused from None
            raise
    for txn in txns:
        txn.posted = True
    bulk.saved(txns + legs + breakdowns)
    if signal:
        audit.announce(events)
    else:
        bulk.saved(events)


def _distances_m(transfers):
    """{transfer id: the unrounded geodesic between the agencies in metres} for the asset transfers, from the
    one distance function (kernel.geo.geodesic_m), as a single posting computes it."""
    return {t.pk: geodesic_m(t.giver.location, t.receiver.location) for t in transfers
            if t.listing.asset_id is not None}


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
