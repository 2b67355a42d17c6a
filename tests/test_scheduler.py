"""The scheduler: `make run` runs a worker and beat on an embedded broker (kombu filesystem transport)
unless CELERY_BROKER_URL names one; every periodic task of the beat schedule is idempotent (a re-run or
a redelivery changes nothing), shown by a case below or by the test named for it."""
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import timezone

from tests import factories_exchange as fx
from tests.test_exchange_services import request

ROOT = Path(__file__).resolve().parent.parent


def _allocation_pending(world):
    from regions.models import AllocationMode

    fx.standard_set(world["region"], mode=AllocationMode.WINDOW_CLOSE, own_window_days=0)
    listing = fx.open_listing(world)
    request(world, listing)
    return {"now": listing.region_window_ends_at + timedelta(minutes=1)}


def _unclaimed_listing(world):
    fx.standard_set(world["region"])
    listing = fx.open_listing(world)
    return {"now": listing.region_window_ends_at + timedelta(minutes=1)}


def _listing_entering_the_region(world):
    from exchange.models import AssetClass
    from lifecycle.services import wants

    fx.standard_set(world["region"])
    listing = fx.open_listing(world)
    wants.record_want(world["users"]["staff_b"], agency=world["agency_b"], asset_class=AssetClass.objects.get(),
                      quantity=1, until=timezone.localdate() + timedelta(days=60), reason="需要")
    return {"now": listing.own_window_ends_at + timedelta(minutes=1)}


def _loan_overdue(world):
    from tests.test_loans import out_loan

    fx.standard_set(world["region"])
    loan, _asset = out_loan(world)
    return {"now": loan.due_at + timedelta(hours=1)}
def _audit_events(world):
    fx.standard_set(world["region"], own_window_days=0)
    fx.open_listing(world)  # an event since the last checkpoint (there is none yet)
    return {"now": timezone.now()}


def _loan_approval_overdue(world):
    from lifecycle.services import loans
    from tests.test_loans import atomic

    fx.standard_set(world["region"])
    u = world["users"]
    offer = atomic(loans.offer_for_loan, u["staff_a"], asset=fx.asset(world["agency_a"]))
    loan = atomic(loans.request_loan, u["staff_b"], offer=offer, borrower=world["agency_b"], quantity=1, days=3,
                  reason="借用")
    return {"now": loan.approval_due_at + timedelta(hours=1)}


def _webhook_due(world):
    from lifecycle.models import WebhookDelivery
    from lifecycle.services import webhooks

    fx.standard_set(world["region"])
    endpoint, _secret = webhooks.register(world["users"]["bureau_a"], jurisdiction=world["city_a"],
                                          url="https://127.0.0.1:9/unreachable")  # nothing listens: attempt fails
    fx.open_listing(world)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint, event="listing.opened")
    return {"now": delivery.next_attempt_at + timedelta(seconds=1)}


def _stage_overdue(world):
    from regions.models import AllocationMode, Duty

    fx.standard_set(world["region"], mode=AllocationMode.WINDOW_CLOSE, own_window_days=0)
    listing = fx.open_listing(world)
    request(world, listing)
    return {"now": Duty.objects.get().due_at + timedelta(minutes=1)}


# task name -> builder(world) returning {"now": when to run} after creating work for the task, or the
# "tests/file.py::test" that runs the task twice and asserts the second run changes nothing.
CASES = {
    "exchange.tasks.allocate_closed_windows": _allocation_pending,
    "lifecycle.tasks.open_disposals": _unclaimed_listing,
    "lifecycle.tasks.alert_regional_wants": _listing_entering_the_region,
    "lifecycle.tasks.send_loan_lights": _loan_overdue,
    "lifecycle.tasks.send_loan_approval_lights": _loan_approval_overdue,
    "lifecycle.tasks.retry_webhooks": _webhook_due,
    "regions.tasks.escalate_overdue_stages": _stage_overdue,
    "exchange.tasks.send_approval_reminders": "tests/test_approvals.py::test_reminders_once_per_step_per_light",
    "kernel.tasks.audit_checkpoint": _audit_events,
    "ledger.tasks.post_monthly_rent":
        "tests/test_compensation_figures.py::test_monthly_rent_task_posts_once_per_occupancy_and_month",
    "evaluation.tasks.close_evaluation_cycles": "tests/test_evaluation.py::test_the_scheduler_freezes_once",
}


def _fingerprint():
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()
            if m._meta.app_label not in {"sessions", "axes", "admin"}}


def test_every_periodic_task_has_an_idempotency_case():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    missing = scheduled - set(CASES)
    assert not missing, f"periodic tasks without an idempotency case in {__file__}: {sorted(missing)}"
    for case in CASES.values():
        if isinstance(case, str):
            path, test = case.split("::")
            assert f"def {test}(" in (ROOT / path).read_text(), case


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if callable(c)))
def test_periodic_task_runs_once_and_a_rerun_changes_nothing(region_world, name, monkeypatch):
    from config.celery import app

    when = CASES[name](region_world)["now"]
    monkeypatch.setattr(timezone, "now", lambda: when)
    app.loader.import_default_modules()  # what a worker does at start: autodiscover the tasks
    task = app.tasks[name]
    first = task.apply().get()
    assert first, f"{name} found nothing to do"
    after_first = _fingerprint()
    assert not task.apply().get()  # a re-run, or a redelivered message
    assert _fingerprint() == after_first


def _settings_in_subprocess(**env):
    code = ("import django, json; django.setup(); from django.conf import settings as s; "
            "print(json.dumps([s.CELERY_BROKER_URL, s.CELERY_TASK_ALWAYS_EAGER, "
            "getattr(s, 'CELERY_BROKER_TRANSPORT_OPTIONS', {}).get('data_folder_in', '')]))")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CELERY_")}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env})
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_embedded_broker_is_a_folder_under_var_and_redis_when_configured():
    assert _settings_in_subprocess() == ["", True, ""]  # tests and shells: eager
    url, eager, folder = _settings_in_subprocess(CELERY_EMBEDDED="1")
    assert (url, eager) == ("filesystem://", False) and folder == str(ROOT / "var" / "celery" / "queue")
    assert _settings_in_subprocess(CELERY_EMBEDDED="1", CELERY_BROKER_URL="redis://127.0.0.1:6390/0")[:2] == [
        "redis://127.0.0.1:6390/0", False]


def test_make_run_starts_a_worker_with_beat():
    script = (ROOT / "scripts" / "run.sh").read_text()
    assert "worker --beat" in script and "CELERY_EMBEDDED=1" in script
    assert "scripts/run.sh" in (ROOT / "Makefile").read_text()
