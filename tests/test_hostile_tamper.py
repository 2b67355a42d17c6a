"""Tampering with the protected tables from the application's own database connection: UPDATE, DELETE,
REPLACE (SQLite), TRUNCATE and disabling triggers (PostgreSQL) on the audit trail, its checkpoints, legs,
journal transactions, closing balances, periods and payment instructions — all refused. And the trail's
anchoring: every column is hashed, deleted newest events are caught against the last checkpoint."""
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from kernel import audit
from kernel.models import AuditCheckpoint, AuditEvent
from ledger.models import ClosingBalance, PaymentInstruction
from ledger.services import posting
from tests import factories_exchange as fx

PROTECTED = ("exchange_auditevent", "kernel_auditcheckpoint", "ledger_leg", "ledger_journaltransaction",
             "ledger_closingbalance", "ledger_settlementperiod", "ledger_paymentinstruction")


def refused(sql, params=()):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def rows(region_world):
    """One row in every protected table: events (a listing opened), a checkpoint, a posted transaction and
    its legs, a closing balance and a payment instruction of a closed period."""
    world = region_world
    fx.standard_set(world["region"], own_window_days=0)
    fx.open_listing(world)
    fx.open_listing(world)
    region = world["region"]
    a = posting.compensation_account(region, world["city_a"])
    b = posting.compensation_account(region, world["city_b"])
    txn = posting.post(region, on=date(2026, 1, 10), kind="compensation", description="t", key="k",
                       legs=[(a, "debit", Decimal("10.00")), (b, "credit", Decimal("10.00"))])[0]
    period = txn.period
    balance = ClosingBalance.objects.create(period=period, account=a, balance=Decimal("10.00"))
    instruction = PaymentInstruction.objects.create(period=period, payer=b, payee=a, amount=Decimal("10.00"))
    with transaction.atomic():
        point = audit.checkpoint("daily")
    return {"event": AuditEvent.objects.order_by("id").first(), "checkpoint": point, "txn": txn,
            "leg": txn.legs.first(), "balance": balance, "instruction": instruction, "period": period}


def test_update_and_delete_are_refused_everywhere(rows):
    event, leg, txn = rows["event"], rows["leg"], rows["txn"]
    cases = [
        ("UPDATE exchange_auditevent SET action = 'x' WHERE id = %s", event.pk),
        ("UPDATE exchange_auditevent SET jurisdiction_id = NULL WHERE id = %s", event.pk),
        ("DELETE FROM exchange_auditevent WHERE id = %s", event.pk),
        ("UPDATE kernel_auditcheckpoint SET event_count = 0 WHERE id = %s", rows["checkpoint"].pk),
        ("DELETE FROM kernel_auditcheckpoint WHERE id = %s", rows["checkpoint"].pk),
        ("UPDATE ledger_leg SET amount = 1 WHERE id = %s", leg.pk),
        ("DELETE FROM ledger_leg WHERE id = %s", leg.pk),
        ("UPDATE ledger_journaltransaction SET description = 'x' WHERE id = %s", txn.pk),
        ("DELETE FROM ledger_journaltransaction WHERE id = %s", txn.pk),
        ("UPDATE ledger_closingbalance SET balance = 0 WHERE id = %s", rows["balance"].pk),
        ("DELETE FROM ledger_closingbalance WHERE id = %s", rows["balance"].pk),
        ("DELETE FROM ledger_paymentinstruction WHERE id = %s", rows["instruction"].pk),
        ("UPDATE ledger_paymentinstruction SET amount = 1 WHERE id = %s", rows["instruction"].pk),
    ]
    for sql, pk in cases:
        refused(sql, [pk])
    assert AuditEvent.objects.filter(pk=event.pk, action=event.action).exists()
    assert audit.verify_trail() == ([], AuditEvent.objects.count())


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_sqlite_replace_fires_the_delete_guards(rows):
    with connection.cursor() as cursor:
        assert cursor.execute("PRAGMA recursive_triggers").fetchone() == (1,)
    event, leg, txn = rows["event"], rows["leg"], rows["txn"]
    refused("""INSERT OR REPLACE INTO exchange_auditevent (id, at, role, action, object_type, object_id, before,
               after, prev_hash, hash) SELECT id, at, role, 'rewritten', object_type, object_id, before, after,
               prev_hash, hash FROM exchange_auditevent WHERE id = %s""", [event.pk])
    refused("REPLACE INTO ledger_leg (id, transaction_id, account_id, side, amount) VALUES (%s, %s, %s, %s, 99)",
            [leg.pk, txn.pk, leg.account_id, leg.side])
    refused("""INSERT OR REPLACE INTO ledger_closingbalance (id, period_id, account_id, balance)
               VALUES (%s, %s, %s, 0)""", [rows["balance"].pk, rows["period"].pk, rows["balance"].account_id])
    assert AuditEvent.objects.get(pk=event.pk).action == event.action
    leg.refresh_from_db()
    assert leg.amount == Decimal("10.00")


@pytest.mark.postgis
def test_postgres_truncate_and_trigger_tampering_are_refused(rows):
    for table in PROTECTED:
        refused(f"TRUNCATE {table} CASCADE")
        refused(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
    refused("DROP TRIGGER exchange_auditevent_no_update ON exchange_auditevent")
    refused("SET session_replication_role = replica")
    assert AuditEvent.objects.count() >= 2 and audit.verify_trail()[0] == []


@pytest.mark.postgis
def test_postgres_app_role_owns_nothing(db):
    from django.conf import settings

    if not settings.DATABASE_OWNER:
        pytest.skip("DATABASE_OWNER_URL not set: one role only")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        user, superuser = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user")
        owned = cursor.fetchone()[0]
        cursor.execute("SELECT has_table_privilege(current_user, 'exchange_auditevent', 'TRUNCATE'), "
                       "has_table_privilege(current_user, 'exchange_auditevent', 'UPDATE'), "
                       "has_table_privilege(current_user, 'exchange_auditevent', 'INSERT')")
        truncate, update, insert = cursor.fetchone()
    assert user == settings.DATABASE_APP_ROLE and not superuser and owned == 0
    assert (truncate, insert) == (False, True) and update  # UPDATE is granted; the trigger refuses it


@pytest.mark.postgis
@pytest.mark.django_db(transaction=True)
def test_postgres_tables_the_owner_creates_later_are_granted_too():
    """createcachetable (the rate-limit counters without Redis) runs after the migrations, as the owner."""
    from django.conf import settings

    from tests.owner import run_as_owner

    if not settings.DATABASE_OWNER:
        pytest.skip("DATABASE_OWNER_URL not set: one role only")
    run_as_owner(("CREATE TABLE gwc_probe (id serial PRIMARY KEY, v text)", None))
    try:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO gwc_probe (v) VALUES ('x') RETURNING id")
            cursor.execute("SELECT has_table_privilege(current_user, 'gwc_probe', 'TRUNCATE')")
            assert cursor.fetchone()[0] is False
    finally:
        run_as_owner(("DROP TABLE gwc_probe", None))


# --- the chain and its anchors ----------------------------------------------------------------------------
def test_every_column_is_hashed_scope_included(rows):
    event = rows["event"]
    for column, value in (("jurisdiction_id", None), ("region_id", 999_999), ("role", "x"),
                          ("object_id", "999"), ("actor_id", None)):
        original = getattr(event, column)
        setattr(event, column, value)
        assert audit.event_hash(event.prev_hash, event) != event.hash, column
        setattr(event, column, original)
    assert audit.event_hash(event.prev_hash, event) == event.hash


def _delete_newest(n):
    """What an attacker with the owner's rights could do: delete the newest events, triggers set aside."""
    ids = sorted(AuditEvent.objects.order_by("-id").values_list("pk", flat=True)[:n])
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'exchange_auditevent_no_delete'")
            (guard,) = cursor.fetchone()
            cursor.execute("DROP TRIGGER exchange_auditevent_no_delete")
            cursor.execute(f"DELETE FROM exchange_auditevent WHERE id IN ({','.join(map(str, ids))})")
            cursor.execute(guard)
        return ids
    from tests.owner import run_as_owner

    run_as_owner(("DELETE FROM exchange_auditevent WHERE id = ANY(%s)", [ids]))
    return ids


@pytest.mark.django_db(transaction=True)  # PostgreSQL: the owner's connection must see the rows
def test_verify_audit_catches_a_deleted_tail_against_the_last_checkpoint(rows):
    total = AuditEvent.objects.count()
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert f"intact: {total} events" in out.getvalue()
    assert total >= 2
    gone = _delete_newest(total - 1)  # all but the first
    assert audit.verify_chain() is None  # the chain alone still verifies: what is left is consistent
    with pytest.raises(CommandError) as caught:
        call_command("verify_audit")
    message = str(caught.value)
    first = AuditEvent.objects.get().pk
    assert f"{total - 1} event(s) missing" in message
    assert f"the events after event {first} up to event {gone[-1]} are gone" in message
    assert f"checkpoint {rows['checkpoint'].pk}" in message


def test_settlement_close_writes_a_checkpoint(region_world):
    from ledger.services import settlement

    region = region_world["region"]
    fx.standard_set(region, own_window_days=0)
    fx.open_listing(region_world)
    a = posting.compensation_account(region, region_world["city_a"])
    b = posting.compensation_account(region, region_world["city_b"])
    txn = posting.post(region, on=date(2026, 1, 10), kind="compensation", description="t", key="close",
                       legs=[(a, "debit", Decimal("10.00")), (b, "credit", Decimal("10.00"))])[0]
    with transaction.atomic():
        settlement.close_period(region_world["users"]["coordinator"], txn.period)
    point = AuditCheckpoint.objects.get()
    head = AuditEvent.objects.order_by("-id").first()
    assert point.kind == "settlement_close" and point.reference == f"period:{txn.period.pk}"
    assert head.action == "ledger.period_closed"
    assert (point.head_event_id, point.head_hash, point.event_count) == (head.pk, head.hash,
                                                                        AuditEvent.objects.count())
    from reports.builders import build_settlement_statement

    statement = build_settlement_statement(region, period_from=txn.period.start, period_to=txn.period.end)
    assert point.head_hash in statement.audit_anchor and f"{point.event_count} events" in statement.audit_anchor


def test_daily_checkpoint_task(rows, region_world):
    from kernel.tasks import audit_checkpoint

    assert audit_checkpoint() is None  # the head has not moved since the fixture's checkpoint
    fx.open_listing(region_world)
    result = audit_checkpoint()
    assert result["count"] == AuditEvent.objects.count()
    assert AuditCheckpoint.objects.order_by("-id").first().kind == "daily"
