"""The audit trail: append-only in the database (both vendors), hash chain verified by `verify_audit`."""
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from kernel import audit
from kernel.models import AuditEvent
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
    assert all(b.prev_hash == a.hash for a, b in zip(trail, trail[1:], strict=False))
