"""Append-only, hash-chained audit trail. `record` must be called inside the service's transaction.

One chain per region (and a global chain, `chain` null, for events of no region and every event written
before chains per region): each event links to the previous event of its chain. Appending takes the chain's
lock until commit (PostgreSQL: a transaction-scoped advisory lock; SQLite serializes writers itself), so
writers of one region append one after another while writers of different regions never wait for each
other; a national deployment has one chain per province. A transaction appends to one chain only, the
first it locked (so no transaction waits for two chain locks): an event of another region in it joins
that chain. `verify_chain` walks every chain.
"""
import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Count, Max
from django.db.models.signals import post_save

from kernel import bulk
from kernel.models import AuditCheckpoint, AuditEvent

GENESIS = "0" * 64
CHAIN_LOCK = 7_140_001  # pg advisory lock class: the lock (CHAIN_LOCK, chain or 0) serializes appends to a chain


def _canonical(event):
    """Every column but the id and the hash itself (the previous hash is chained in `event_hash`); the scope
    columns `region` and `jurisdiction` decide who may read the event, so they are covered too."""
    return json.dumps(
        {
            "at": event.at.isoformat(), "actor": event.actor_id, "token": event.via_token_id, "role": event.role,
            "action": event.action, "object_type": event.object_type, "object_id": event.object_id,
            "transfer": event.transfer_id, "region": event.region_id, "jurisdiction": event.jurisdiction_id,
            "before": event.before, "after": event.after,
        },
        sort_keys=True, cls=DjangoJSONEncoder, ensure_ascii=False,
    )


def event_hash(prev_hash, event):
    return hashlib.sha256((prev_hash + _canonical(event)).encode()).hexdigest()


def _jsonable(data):
    return None if data is None else json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _chain_head(region, ids=0, draw=(), reads=()):
    """(chain, hash the next event links to, `ids` event ids, keys, rows of `reads`) under the chain's lock: the
    region's chain, or on PostgreSQL the chain this transaction already appends to (kernel migration 0005: lock
    and head in one round trip). On PostgreSQL the event ids and n keys of each (model, n) of `draw` are drawn
    in the same round trip, after the lock, and the statements `reads` [(SQL, params)] run in it too."""
    wanted = getattr(region, "pk", region)
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            rows = []
            for sql, params in reads:
                cursor.execute(sql, params)
                rows.append(cursor.fetchall())
        last = AuditEvent.objects.filter(chain=wanted).order_by("-id").values_list("hash", flat=True).first()
        return wanted, last or GENESIS, [], [[] for _ in draw], rows
    statements = [*reads, ("SELECT chain, head FROM audit_chain_head(%s)", [wanted])]
    if ids:
        statements.append(("SELECT nextval(pg_get_serial_sequence('exchange_auditevent', 'id')) "
                           "FROM generate_series(1, %s) ORDER BY 1", [ids]))
    keys = bulk.draw_ids_sql(*draw)
    if keys[0]:
        statements.append(keys)
    with connection.cursor() as cursor:
        cursor.execute("; ".join(sql for sql, _ in statements), [p for _, params in statements for p in params])
        results = [cursor.fetchall()]
        while cursor.nextset():
            results.append(cursor.fetchall())
    rows, ((chain, head),), rest = results[:len(reads)], results[len(reads)], results[len(reads) + 1:]
    drawn = [pk for (pk,) in rest.pop(0)] if ids else []
    drawn_keys = rest.pop(0) if keys[0] else []
    return chain, head or GENESIS, drawn, [bulk.keys_of(drawn_keys, i) for i in range(len(draw))], rows


class Head:
    """Where the next events of a transaction go: a chain locked, the hash they link to, their ids drawn, and
    what `lock` drew and read with them."""

    def __init__(self, region, events, draw=(), reads=()):
        self.chain, self.prev, self.ids, self.keys, self.reads = _chain_head(region, events, draw, reads)


def lock(region, events, *, draw=(), reads=()):
    """`chain`'s first step on its own, for a service whose rows' keys go into its events: the chain of
    `region` locked and its head read, on PostgreSQL with the ids of `events` events and n keys of each
    (model, n) of `draw` (`.keys`) drawn in the same round trip after the lock, and the rows of the statements
    `reads` [(SQL, params)] read in it (`.reads`); then call `chain(user, entries, head=...)`."""
    assert transaction.get_connection().in_atomic_block, "audit.lock must run inside the service transaction"
    return Head(region, events, draw, reads)


def _event(user, principal, chain, prev, action, obj, *, before=None, after=None, transfer=None, region=None,
           jurisdiction=None, role=""):
    event = AuditEvent(chain=chain,
        actor=user if getattr(user, "pk", None) else None, via_token=getattr(principal, "token", None),
        role=role or _roles(principal), action=action,
        object_type=obj._meta.label_lower if hasattr(obj, "_meta") else str(type(obj).__name__),
        object_id=str(getattr(obj, "pk", obj)), transfer=transfer, region=region, jurisdiction=jurisdiction,
        before=_jsonable(before), after=_jsonable(after), prev_hash=prev,
    )
    event.hash = event_hash(prev, event)
    return event


def record(user, action, obj, *, before=None, after=None, transfer=None, region=None, jurisdiction=None,
           role=""):
    """Append one event to the chain (saved one by one, so post_save listeners such as notices and webhooks
    hear of it)."""
    assert transaction.get_connection().in_atomic_block, "audit.record must run inside the service transaction"
    chain, prev = _chain_head(region)[:2]
    event = _event(user, getattr(user, "_principal", None), chain, prev, action, obj, before=before,
                   after=after, transfer=transfer, region=region, jurisdiction=jurisdiction, role=role)
    event.save(force_insert=True)
    return event


def record_many(user, entries):
    """Append several events in one statement, chained in order under one lock (the chain of the first
    entry's region): the set-based twin of `record` for batch services (posting runs, imports). `entries`:
    dicts of `record`'s arguments (action, obj, and optionally before, after, transfer, region, jurisdiction,
    role). Being one bulk insert, it sends no post_save."""
    assert transaction.get_connection().in_atomic_block, "audit.record_many must run inside the service transaction"
    return bulk.insert(AuditEvent, chain(user, entries))


def chain(user, entries, *, head=None):
    """The events of `entries` (as `record_many` takes them) chained in order under the lock of the first
    entry's region's chain, not saved: for a service that inserts them in the statement that writes its own
    rows, in this transaction. On PostgreSQL their ids are drawn in the same round trip as the chain's head,
    after the lock: ids ascend along each chain, as `verify_chain` walks it (`head`: from `lock`). `announce`
    them once inserted."""
    assert transaction.get_connection().in_atomic_block, "audit.chain must run inside the service transaction"
    if not entries:
        return []
    principal = getattr(user, "_principal", None)
    head = head or Head(entries[0].get("region"), len(entries))
    chain, prev, ids = head.chain, head.prev, head.ids
    events = []
    for entry in entries:
        entry = dict(entry)
        event = _event(user, principal, chain, prev, entry.pop("action"), entry.pop("obj"), **entry)
        prev = event.hash
        events.append(event)
    if ids:
        for event, pk in zip(events, ids, strict=True):
            event.pk = pk
    return events


def announce(events):
    """Send post_save for events inserted by SQL (as `record`'s save does), so that notices and webhooks hear
    of each."""
    bulk.saved(events)
    for event in events:
        post_save.send(sender=AuditEvent, instance=event, created=True, update_fields=None, raw=False,
                       using=event._state.db)


def _roles(principal):
    return ",".join(sorted(principal.roles)) if principal else ""


def verify_chain(events=None):
    """Return the first event (in id order) whose link is broken, or None when every chain verifies: each
    event links to the previous event of its chain (the first to GENESIS) and its hash is its own."""
    heads = {}
    for event in events if events is not None else AuditEvent.objects.order_by("id").iterator(chunk_size=5000):
        prev = heads.get(event.chain, GENESIS)
        if event.prev_hash != prev or event.hash != event_hash(prev, event):
            return event
        heads[event.chain] = event.hash
    return None


def checkpoint(kind, reference=""):
    """Anchor the trail: write the newest event's id and hash and the number of events, read in one
    statement (one snapshot: no event slips in between; an event of a transaction still open then has a
    smaller id and is counted later, which `verify_trail` allows)."""
    with transaction.atomic():
        seen = AuditEvent.objects.aggregate(head=Max("id"), n=Count("id"))
        head = AuditEvent.objects.filter(pk=seen["head"]).only("id", "hash").first() if seen["head"] else None
        return AuditCheckpoint.objects.create(
            kind=kind, reference=reference[:80], head_event_id=head.pk if head else None,
            head_hash=head.hash if head else GENESIS, event_count=seen["n"])


def checkpoint_if_moved(kind, reference=""):
    """`checkpoint`, unless the trail's head is the one the last checkpoint recorded (then None)."""
    last = AuditCheckpoint.objects.order_by("-id").only("head_event_id").first()
    head = AuditEvent.objects.order_by("-id").values_list("pk", flat=True).first()
    if last is not None and last.head_event_id == head:
        return None
    return checkpoint(kind, reference)


def verify_trail():
    """The whole check behind `verify_audit`: the chain, then the last checkpoint. Returns a list of
    problems in words (empty when intact) and the number of events."""
    problems = []
    broken = verify_chain()
    if broken is not None:
        problems.append(f"chain broken at event {broken.pk} ({broken})")
    count = AuditEvent.objects.count()
    last = AuditCheckpoint.objects.order_by("-id").first()
    if last is not None and last.head_event_id is not None:
        head = AuditEvent.objects.filter(pk=last.head_event_id).only("hash").first()
        upto = AuditEvent.objects.filter(pk__lte=last.head_event_id).count()
        if head is None or upto < last.event_count:
            newest = AuditEvent.objects.filter(pk__lte=last.head_event_id).order_by("-id").values_list(
                "pk", flat=True).first()
            after = f"after event {newest}" if newest else "from the start"
            problems.append(
                f"{last.event_count - upto} event(s) missing against checkpoint {last.pk} of {last.at:%Y-%m-%d %H:%M} "
                f"({last.kind}): it recorded {last.event_count} events up to event {last.head_event_id} "
                f"(hash {last.head_hash[:16]}…); the trail now has {upto} of them: the events {after} up to "
                f"event {last.head_event_id} are gone")
        elif head.hash != last.head_hash:
            problems.append(f"event {last.head_event_id} no longer has the hash recorded by checkpoint {last.pk}")
    return problems, count
