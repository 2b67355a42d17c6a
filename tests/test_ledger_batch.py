"""Set-based posting: many completed transfers posted in a constant number of statements, with the same
figures as the one-at-a-time rule, balanced legs, every invariant on, the audit chain intact, idempotent."""
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from exchange.models import Transfer
from exchange.signals import transfer_completed
from kernel.audit import verify_chain
from kernel.models import AuditEvent
from ledger.models import CompensationBreakdown, JournalTransaction, Leg
from ledger.services import batch, compensation
from regions.services.standards import standard_in_force
from tests import factories_exchange as fx
from tests.test_ledger import complete, world  # noqa: F401 - fixture


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
