"""The audit trail: append-only in the database (both vendors), hash chain verified by `verify_audit`."""
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction

from kernel import audit
from kernel.models import AuditEvent
from tests import factories as f
from tests import factories_exchange as fx
from tests.test_exchange_services import request


@pytest.fixture
def trail(region_world):
    fx.standard_set(region_world["region"], own_window_days=0)
    listing = fx.open_listing(region_world)
    request(region_world, listing)
    return list(AuditEvent.objects.order_by("id"))


def test_update_and_delete_are_refused_by_the_database(trail):
    for statement in ("UPDATE exchange_auditevent SET action = 'forged' WHERE id = %s",
                      "DELETE FROM exchange_auditevent WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(statement, [trail[0].pk])
    assert AuditEvent.objects.get(pk=trail[0].pk).action == trail[0].action
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=trail[0].pk).delete()


def test_verify_audit_passes_on_an_intact_chain(trail, capsys):
    assert len(trail) >= 4
    call_command("verify_audit")
    assert f"{len(trail)} events" in capsys.readouterr().out


def _tamper(event_id):
    """Forge one event's `after` with the trigger out of the way (what a DBA with rights could do)."""
    forge = ("UPDATE exchange_auditevent SET after = %s WHERE id = %s", ['{"quantity": 99}', event_id])
    if connection.vendor == "postgresql":  # the application's role cannot: the owner can (tests/owner.py)
        from tests.owner import run_as_owner

        run_as_owner(forge)
        return
    with connection.cursor() as cur:
        cur.execute("SELECT sql FROM sqlite_master WHERE name = 'exchange_auditevent_no_update'")
        (guard,) = cur.fetchone()
        cur.execute("DROP TRIGGER exchange_auditevent_no_update")
        cur.execute(*forge)
        cur.execute(guard)


@pytest.mark.django_db(transaction=True)  # PostgreSQL: the owner's connection must see the rows
def test_tampering_is_detected_at_the_first_broken_link(trail):
    target = trail[2]
    _tamper(target.pk)
    assert audit.verify_chain().pk == target.pk
    with pytest.raises(CommandError, match=f"event {target.pk}"):
        call_command("verify_audit")


def test_events_carry_who_role_and_transfer(trail):
    allocated = next(e for e in trail if e.action == "transfer.allocated")
    assert allocated.actor.username == "staff_b" and allocated.role == "agency_staff"
    assert allocated.transfer_id and allocated.before == {"quantity_available": 1}
    for chain in {e.chain for e in trail}:
        linked = [e for e in trail if e.chain == chain]
        assert all(b.prev_hash == a.hash for a, b in zip(linked, linked[1:], strict=False))


def _record(region, what):
    with transaction.atomic():
        return audit.record(None, "test.recorded", region, after={"what": what}, region=region)


@pytest.mark.django_db(transaction=True)  # PostgreSQL: one transaction per event, as services run
def test_each_region_has_its_own_chain():
    north, south = f.RegionFactory(code="north"), f.RegionFactory(code="south")
    events = [_record(north, 1), _record(south, 2), _record(None, 3), _record(north, 4), _record(south, 5)]
    assert [e.chain for e in events] == [north.pk, south.pk, None, north.pk, south.pk]
    assert events[3].prev_hash == events[0].hash and events[4].prev_hash == events[1].hash
    assert events[0].prev_hash == audit.GENESIS and events[1].prev_hash == audit.GENESIS
    assert audit.verify_chain() is None
    with transaction.atomic():  # the set-based twin appends to the chain of its first entry's region
        many = audit.record_many(None, [{"action": "test.many", "obj": south, "region": south}] * 3)
    assert [e.chain for e in many] == [south.pk] * 3 and many[0].prev_hash == events[4].hash
    assert audit.verify_chain() is None
    moved = AuditEvent(**{k: getattr(events[4], k) for k in ("at", "action", "object_type", "object_id",
                                                                "region_id", "after", "prev_hash", "hash")})
    moved.chain = north.pk  # the same event shown in another chain breaks that chain
    chains = list(AuditEvent.objects.order_by("id"))
    assert audit.verify_chain(chains[:4] + [moved]) == moved


@pytest.mark.postgis
@pytest.mark.django_db(transaction=True)
def test_postgres_writers_of_two_regions_do_not_wait_for_each_other():
    """One writer holds the north chain (its transaction open); a writer of the south appends at once, a
    second writer of the north waits for the first to commit, and a transaction that holds the north chain
    appends a south event to the north chain (one chain per transaction: never two chain locks)."""
    north, south = f.RegionFactory(code="north"), f.RegionFactory(code="south")
    holding, release, outcome = threading.Event(), threading.Event(), {}

    def hold_north():
        try:
            with transaction.atomic():
                audit.record(None, "test.hold", north, region=north)
                outcome["mixed"] = audit.record(None, "test.mixed", south, region=south).chain
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_north)
    holder.start()
    assert holding.wait(10)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '3s'")
            assert _record(south, "free").chain == south.pk
        with pytest.raises(DatabaseError, match="lock timeout"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '200ms'")
            _record(north, "waits")
    finally:
        release.set()
        holder.join()
    assert outcome["mixed"] == north.pk
    assert _record(north, "after").prev_hash == AuditEvent.objects.get(action="test.mixed").hash
    assert audit.verify_chain() is None
