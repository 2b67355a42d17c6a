"""Set-based posting: many completed transfers posted in a constant number of statements, with the same
figures as the one-at-a-time rule, balanced legs, every invariant on, the audit chain intact, idempotent."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from exchange.models import Transfer
from exchange.signals import transfer_completed
from kernel import bulk
from kernel.audit import verify_chain
from kernel.models import AuditEvent
from ledger import selectors
from ledger.models import CompensationBreakdown, JournalTransaction, Leg, SettlementPeriod
from ledger.services import batch, compensation, posting
from regions.services.standards import standard_in_force
from tests import factories_exchange as fx
from tests.test_ledger import accounts, complete, world  # noqa: F401 - fixtures


def _completed_unposted(world, n):  # noqa: F811
    transfer_completed.disconnect(sender=Transfer, dispatch_uid="ledger.compensation")
    try:
        return [complete(world, fx.open_listing(world, original_value=Decimal(1000 + 250 * i),
                                                acquired_on=date(2022, 1 + i, 1))) for i in range(n)]
    finally:
        transfer_completed.connect(compensation.post_completed_transfer, sender=Transfer,
                                   dispatch_uid="ledger.compensation")


def test_a_batch_posts_what_the_single_rule_computes(world, django_assert_max_num_queries):  # noqa: F811
    transfers = _completed_unposted(world, 4)
    assert not CompensationBreakdown.objects.exists()
    events = AuditEvent.objects.count()
    loaded = list(batch.completed_for_posting(Transfer.objects.filter(pk__in=[t.pk for t in transfers])))
    with django_assert_max_num_queries(40), transaction.atomic():  # incl. creating accounts and the period
        made = batch.post_compensations(loaded, world["users"]["coordinator"])
    assert len(made) == 4
    standard_set = standard_in_force(world["region"], date.today())
    for t in loaded:
        b = CompensationBreakdown.objects.get(transfer=t)
        assert b.total == compensation.compute(t, standard_set)[4]
        txn = JournalTransaction.objects.get(transfer=t)
        assert txn.posted and txn.key == f"compensation:{t.pk}"
        sides = dict(Leg.objects.filter(transaction=txn).values_list("side").annotate(s=Sum("amount")))
        assert sides == {"debit": b.total, "credit": b.total}
    assert AuditEvent.objects.count() == events + 4
    assert verify_chain() is None
    with transaction.atomic():
        assert batch.post_compensations(loaded, world["users"]["coordinator"]) == []
    assert JournalTransaction.objects.count() == 4


def test_the_batch_statement_count_does_not_grow_with_its_size(world):  # noqa: F811
    def run(n):
        ts = _completed_unposted(world, n)
        loaded = list(batch.completed_for_posting(Transfer.objects.filter(pk__in=[t.pk for t in ts])))
        with CaptureQueriesContext(connection) as ctx, transaction.atomic():
            batch.post_compensations(loaded, world["users"]["coordinator"])
        return len(ctx)

    run(1)  # accounts and the period created
    assert run(2) == run(6) <= 20


def _drafts(region, a, b, amounts, prefix):
    """Unposted transactions [(debit, credit)] dated 2026-01-05, their legs inserted in one statement (COPY on
    PostgreSQL once there are enough of them)."""
    period, _ = posting.period_for(region, date(2026, 1, 5))
    txns = bulk.insert(JournalTransaction, [
        JournalTransaction(region=region, period=period, date=date(2026, 1, 5), kind="compensation",
                           description="d", key=f"{prefix}:{i}") for i in range(len(amounts))])
    bulk.insert(Leg, [Leg(transaction=t, account=account, side=side, amount=amount)
                      for t, (debit, credit) in zip(txns, amounts, strict=True)
                      for account, side, amount in ((a, "debit", debit), (b, "credit", credit)) if amount],
                with_pk=False)
    return txns


def _post_all(txns):
    return JournalTransaction.objects.filter(pk__in=[t.pk for t in txns]).update(posted=True)


@pytest.mark.parametrize("n", [2, bulk.COPY_FROM + 5])  # one INSERT, and COPY on PostgreSQL
def test_one_bad_transaction_refuses_the_whole_posting_statement(accounts, n):  # noqa: F811
    region, a, b = accounts
    good = [(Decimal("1.00"), Decimal("1.00"))] * (n - 1)
    for bad in ((Decimal("2.00"), Decimal("1.99")), (Decimal("2.00"), None)):  # unbalanced; a single leg
        with transaction.atomic():
            txns = _drafts(region, a, b, good + [bad], f"bad{n}{bad[1]}")
            with pytest.raises(DatabaseError), transaction.atomic():
                _post_all(txns)
            assert not JournalTransaction.objects.filter(pk__in=[t.pk for t in txns], posted=True).exists()
            transaction.set_rollback(True)  # PostgreSQL would refuse the unbalanced draft at commit anyway
    with transaction.atomic():
        txns = _drafts(region, a, b, good, f"good{n}")
        assert _post_all(txns) == n - 1
    assert selectors.balance_of(a) == Decimal(n - 1)
    with pytest.raises(DatabaseError), transaction.atomic():  # no leg into a posted transaction, in bulk too
        bulk.insert(Leg, [Leg(transaction=t, account=a, side="debit", amount=Decimal(1)) for t in txns],
                    with_pk=False)


@pytest.mark.parametrize("n", [2, bulk.COPY_FROM + 5])
def test_bulk_inserts_into_a_closed_period_are_refused(accounts, n):  # noqa: F811
    region, a, b = accounts
    period, _ = posting.period_for(region, date(2026, 1, 5))
    SettlementPeriod.objects.filter(pk=period.pk).update(status="closed")
    with pytest.raises(DatabaseError), transaction.atomic():
        _drafts(region, a, b, [(Decimal(1), Decimal(1))] * n, f"closed{n}")
    assert not JournalTransaction.objects.filter(key__startswith=f"closed{n}:").exists()


def test_bulk_insert_gives_ascending_keys_in_row_order(accounts):  # noqa: F811
    region, a, b = accounts
    with transaction.atomic():
        txns = _drafts(region, a, b, [(Decimal(i + 1), Decimal(i + 1)) for i in range(bulk.COPY_FROM + 5)], "order")
        _post_all(txns)
    pks = [t.pk for t in txns]
    assert pks == sorted(pks) and None not in pks
    stored = dict(JournalTransaction.objects.filter(pk__in=pks).values_list("pk", "key"))
    assert [stored[pk] for pk in pks] == [t.key for t in txns]
    assert [selectors.balance_of(a), selectors.balance_of(b)] == [Decimal(325), Decimal(-325)]


def test_accounts_are_remembered_only_once_committed(world, django_capture_on_commit_callbacks):  # noqa: F811
    batch.ACCOUNTS.clear()
    first, second = batch.completed_for_posting(Transfer.objects.filter(
        pk__in=[t.pk for t in _completed_unposted(world, 2)]))

    def post(transfer):
        with CaptureQueriesContext(connection) as ctx, transaction.atomic():
            batch.post_compensations([transfer], world["users"]["coordinator"])
        return sum("ledger_account" in q["sql"] for q in ctx.captured_queries)

    with transaction.atomic():  # rolled back: its accounts are not remembered
        post(first)
        transaction.set_rollback(True)
    assert batch.ACCOUNTS.get("compensation", dict) == {}
    with django_capture_on_commit_callbacks(execute=True):
        assert post(first) >= 1  # read (and created) in the database
    assert post(second) == 0
    assert {a.pk for a in batch.ACCOUNTS.get("compensation", dict).values()} == set(
        Leg.objects.filter(transaction__transfer=first).values_list("account_id", flat=True))


def _post_one(world, transfer):  # noqa: F811
    (loaded,) = batch.completed_for_posting(Transfer.objects.filter(pk=transfer.pk))
    with transaction.atomic():
        return compensation.on_transfer_completed(loaded, world["users"]["coordinator"])


def test_a_period_closed_since_it_was_remembered_sends_the_posting_to_the_next(
        world, django_capture_on_commit_callbacks):  # noqa: F811
    first, second = _completed_unposted(world, 2)
    batch.PERIODS.clear()
    with django_capture_on_commit_callbacks(execute=True):
        posted = _post_one(world, first)
    period = posted.transaction.period
    SettlementPeriod.objects.filter(pk=period.pk).update(status="closed")  # as another process closes it
    events = AuditEvent.objects.count()
    moved = _post_one(world, second).transaction
    assert moved.period != period and moved.period.start == period.end + timedelta(days=1)
    assert moved.date == moved.period.start and moved.posted
    assert AuditEvent.objects.count() == events + 1 and verify_chain() is None
    assert second.compensation.transaction == moved  # the refused attempt left nothing behind


def test_posting_again_refused_by_the_database_returns_the_first_and_leaves_the_chain_intact(world):  # noqa: F811
    (transfer,) = _completed_unposted(world, 1)
    made = _post_one(world, transfer)
    events = AuditEvent.objects.count()
    assert _post_one(world, transfer) == made
    assert AuditEvent.objects.count() == events and verify_chain() is None
    assert CompensationBreakdown.objects.filter(transfer=transfer).count() == 1


def test_a_single_posting_reads_back_what_it_wrote(world):  # noqa: F811
    (transfer,) = _completed_unposted(world, 1)
    made = _post_one(world, transfer)
    stored = CompensationBreakdown.objects.get(pk=made.pk)
    for field in ("details", "total", "created_at", "transaction_id", "value_not_bought", "savings"):
        assert getattr(stored, field) == getattr(made, field), field
    for field in ("residual_amount", "transport"):  # numeric(24, 10)
        assert getattr(stored, field) == getattr(made, field).quantize(Decimal("1E-10")), field
    txn = JournalTransaction.objects.get(pk=made.transaction_id)
    assert (txn.description, txn.created_at, txn.date, txn.posted) == (
        made.transaction.description, made.transaction.created_at, made.transaction.date, True)
    event = AuditEvent.objects.get(action="ledger.compensation_posted", object_id=str(made.pk))
    assert event.after == {"total": str(made.total), "transaction": made.transaction_id}
    assert verify_chain() is None


def test_a_single_posting_takes_a_few_round_trips_on_postgresql(world, django_capture_on_commit_callbacks):  # noqa: F811
    first, second = _completed_unposted(world, 2)
    with django_capture_on_commit_callbacks(execute=True):
        _post_one(world, first)  # accounts and the period created and remembered
    (loaded,) = batch.completed_for_posting(Transfer.objects.filter(pk=second.pk))
    with CaptureQueriesContext(connection) as ctx, transaction.atomic():
        compensation.on_transfer_completed(loaded, world["users"]["coordinator"])
    statements = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT \"" not in q["sql"]]  # the test's atomic
    if connection.vendor == "postgresql":  # members, lock, head and keys; the writes; webhooks listening
        assert len(statements) <= 3, statements
    else:
        assert len(statements) <= 14, statements


def test_a_webhook_hears_of_a_single_posting(world):  # noqa: F811
    from lifecycle.models import WebhookDelivery
    from lifecycle.services import webhooks

    receiver = world["city_b"]
    webhooks.register(world["users"]["bureau_b"], jurisdiction=receiver, url="https://example.invalid/hook",
                      secret="s3cret-of-the-city-system-0123", events=["ledger.compensation_posted"])
    (transfer,) = _completed_unposted(world, 1)
    made = _post_one(world, transfer)
    event = AuditEvent.objects.get(action="ledger.compensation_posted", object_id=str(made.pk))
    delivery = WebhookDelivery.objects.get(event_key=f"audit:{event.pk}")
    assert delivery.event == "ledger.compensation_posted" and delivery.payload["data"]["total"] == str(made.total)
