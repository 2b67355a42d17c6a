"""Approval lights as SQL (filter and sort), overdue lists, and idempotent reminders."""
from datetime import timedelta

import pytest
from django.core import mail

from exchange import selectors
from exchange.models import ApprovalStep
from exchange.services.reminders import send_approval_reminders
from exchange.tasks import send_approval_reminders as reminder_task
from kernel.models import AuditEvent
from tests import factories_exchange as fx
from tests.test_exchange_services import request


@pytest.fixture
def transfer(region_world):
    fx.standard_set(region_world["region"], own_window_days=0)
    for key in ("bureau_a", "bureau_b", "coordinator"):
        user = region_world["users"][key]
        user.email = f"{key}@example.org"
        user.save()
    listing = fx.open_listing(region_world)
    return request(region_world, listing)[1]


def test_light_is_computed_in_sql_and_matches_python(region_world, transfer):
    step = transfer.steps.get(kind="giving_bureau")
    user = region_world["users"]["coordinator"]
    for when, light in [(step.opened_at, "green"), (step.yellow_at, "yellow"), (step.due_at, "red")]:
        rows = selectors.approval_steps_for(user, when=when).filter(pk=step.pk)
        assert rows.get().light_now == light == step.light_at(when)
        assert rows.filter(light_now=light).exists()


def test_steps_sort_most_urgent_first(region_world, transfer):
    giving = transfer.steps.get(kind="giving_bureau")
    ApprovalStep.objects.filter(pk=giving.pk).update(due_at=giving.opened_at + timedelta(seconds=3),
                                                     yellow_at=giving.opened_at + timedelta(seconds=2))
    when = giving.opened_at + timedelta(minutes=1)
    rows = list(selectors.approval_steps_for(region_world["users"]["coordinator"], when=when)
                .order_by("light_rank", "due_at"))
    assert [r.kind for r in rows] == ["giving_bureau", "receiving_bureau"]
    assert [r.light_now for r in rows] == ["red", "green"]


def test_my_overdue_steps_are_only_those_i_decide(region_world, transfer):
    later = transfer.steps.first().due_at + timedelta(seconds=1)
    mine = selectors.my_overdue_steps(region_world["users"]["bureau_a"], when=later)
    assert [s.kind for s in mine] == ["giving_bureau"]
    assert not selectors.my_overdue_steps(region_world["users"]["coordinator"], when=later).exists()
    assert not selectors.my_overdue_steps(region_world["users"]["bureau_a"], when=transfer.allocated_at).exists()


def test_reminders_once_per_step_per_light(region_world, transfer):
    step = transfer.steps.first()
    assert send_approval_reminders(now=step.opened_at) == 0
    assert send_approval_reminders(now=step.yellow_at) == 2
    assert len(mail.outbox) == 2 and {m.to[0] for m in mail.outbox} == {"bureau_a@example.org",
                                                                        "bureau_b@example.org"}
    assert "即将到期" in mail.outbox[0].subject
    assert send_approval_reminders(now=step.yellow_at + timedelta(seconds=1)) == 0  # idempotent
    assert send_approval_reminders(now=step.due_at) == 2
    assert send_approval_reminders(now=step.due_at + timedelta(hours=1)) == 0
    assert len(mail.outbox) == 4 and "已超期" in mail.outbox[-1].subject
    assert AuditEvent.objects.filter(action="approval.reminded", transfer=transfer).count() == 4


def test_decided_steps_get_no_reminder(region_world, transfer):
    from exchange.services.approvals import decide_step

    decide_step(region_world["users"]["bureau_a"], transfer.steps.get(kind="giving_bureau"), approve=True)
    assert send_approval_reminders(now=transfer.steps.first().due_at) == 1


def test_celery_task_runs_the_reminders(region_world, transfer):
    ApprovalStep.objects.filter(transfer=transfer).update(
        opened_at=transfer.allocated_at - timedelta(days=10), yellow_at=transfer.allocated_at - timedelta(days=5),
        due_at=transfer.allocated_at - timedelta(days=1))
    assert reminder_task.delay().get() == 2
    assert reminder_task.delay().get() == 0
