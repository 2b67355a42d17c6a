"""The lifecycle walk of issue 19, driven by the real scheduler: every task of CELERY_BEAT_SCHEDULE run
through the Celery app at each tick, as beat runs them under `make run`, with the clock moved by the test
(never by sleeping). A want is notified when a matching item is listed; a purchase request for the class
is answered with the listing and its PDF; a loan goes out, turns red when overdue, comes back and posts its
fee; the unclaimed listing reaches disposal and is disposed of with its proceeds posted; each step is in
someone's inbox; a local webhook receiver gets every event signed."""
import hashlib
import hmac
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from exchange.models import Asset, AssetClass
from ledger.models import JournalTransaction
from lifecycle.documents import render_purchase_check
from lifecycle.models import Disposal, Loan
from lifecycle.services import disposal, loans, purchases, wants, webhooks
from notifications.models import Notification
from regions.models import AssetClassNorm
from tests import factories_exchange as fx
from tests.test_webhooks import SECRET, Receiver


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def walk(region_world, settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_LOCAL_HTTP = True
    standards = fx.standard_set(region_world["region"], own_window_days=0)
    AssetClassNorm.objects.filter(standard_set=standards).update(loan_fee_per_day=Decimal("10.00"))
    clock = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", clock)
    receiver = Receiver()
    yield region_world, clock, receiver
    receiver.close()


def beat(clock, when):
    """One beat tick at `when`: every periodic task of the schedule, as the worker runs them."""
    from config.celery import app

    clock.now = when
    app.loader.import_default_modules()
    return {name: app.tasks[entry["task"]].apply().get() for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}


def atomic(call, *args, **kwargs):
    with transaction.atomic():
        return call(*args, **kwargs)


def inbox(user):
    return set(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_the_whole_lifecycle_on_the_scheduler(walk):
    world, clock, receiver = walk
    u, start = world["users"], clock.now
    for city, manager in (("city_a", "bureau_a"), ("city_b", "bureau_b")):
        atomic(webhooks.register, u[manager], jurisdiction=world[city], url=receiver.url, secret=SECRET)
    desktops = AssetClass.objects.get_or_create(code="2010104", defaults={
        "name_zh": "台式计算机", "name_en": "Desktop computer", "kind": "equipment"})[0]

    # a want, then a matching listing: the want's owner hears of it
    atomic(wants.record_want, u["staff_b"], agency=world["agency_b"], asset_class=desktops, quantity=2,
           until=timezone.localdate() + timedelta(days=60), reason="新入职人员需要电脑")
    listing = fx.open_listing(world, quantity=3)
    assert "want_matched" in inbox(u["staff_b"])

    # the purchase check answers "take these instead", with the listing, in its PDF
    purchase = atomic(purchases.file_purchase, u["staff_b"], agency=world["agency_b"], asset_class=desktops,
                      quantity=2, unit_price="4800.00", reason="新增编制 2 人")
    assert purchase.outcome == "take_instead" and [m["listing"] for m in purchase.matches] == [listing.pk]
    assert render_purchase_check(purchase)[:5] == b"%PDF-" and "purchase_answered" in inbox(u["staff_b"])

    # a loan: approved by both bureaus, handed out, red when overdue, returned, its fee posted
    offer = atomic(loans.offer_for_loan, u["staff_a"], asset=fx.asset(world["agency_a"], quantity=2))
    loan = atomic(loans.request_loan, u["staff_b"], offer=offer, borrower=world["agency_b"], quantity=1, days=3,
                  reason="会议期间临时使用")
    assert "loan_approval_opened" in inbox(u["bureau_a"]) & inbox(u["bureau_b"])
    for manager in ("bureau_a", "bureau_b"):
        loan = atomic(loans.decide_loan, u[manager], loan, approve=True)
    loan = atomic(loans.confirm_handout, u["staff_b"], loan)
    beat(clock, loan.yellow_at + timedelta(minutes=5))
    assert "loan_due" in inbox(u["staff_b"])
    beat(clock, loan.due_at + timedelta(hours=1))
    loan.refresh_from_db()
    assert loan.light_at() == "red" and "loan_overdue" in inbox(u["staff_b"]) & inbox(u["staff_a"])
    loan = atomic(loans.confirm_return, u["staff_a"], loan, condition="good")
    assert loan.status == Loan.Status.RETURNED and loan.fee == Decimal("40.00")  # 1 × 4 started days × 10
    assert JournalTransaction.objects.filter(kind="loan_fee", posted=True).count() == 1
    assert "loan_returned" in inbox(u["staff_b"])

    # nobody claims the listing: once its regional window ends, the scheduler moves it to disposal
    beat(clock, listing.region_window_ends_at - timedelta(minutes=1))
    assert not Disposal.objects.exists()
    beat(clock, listing.region_window_ends_at + timedelta(minutes=1))
    beat(clock, listing.region_window_ends_at + timedelta(minutes=2))  # a second tick changes nothing
    item = Disposal.objects.get()
    assert item.quantity == 3 and "disposal_pending" in inbox(u["staff_a"])
    atomic(disposal.propose, u["staff_a"], item, method="auction", reason="无人申领，已满使用年限")
    assert "disposal_proposed" in inbox(u["bureau_a"])
    atomic(disposal.decide, u["bureau_a"], item, approve=True)
    item = atomic(disposal.complete, u["staff_a"], item, proceeds="1500.00", note="公共资源交易中心拍卖成交")
    assert item.status == Disposal.Status.DISPOSED and "disposal_decided" in inbox(u["staff_a"])
    assert Asset.objects.get(pk=item.asset_id).status == Asset.Status.DISPOSED
    assert JournalTransaction.objects.filter(kind="disposal", posted=True).count() == 1

    # the scheduler's webhook task delivers everything, signed; nothing is left pending
    beat(clock, clock.now + timedelta(minutes=1))
    events = [json.loads(body)["event"] for _headers, body in receiver.requests]
    for expected in ("listing.opened", "purchase.checked", "loan.requested", "loan.out", "loan.returned",
                     "ledger.loan_fee_posted", "disposal.opened", "disposal.completed",
                     "ledger.disposal_proceeds_posted"):
        assert expected in events, expected
    for headers, body in receiver.requests:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Gongwucang-Signature"], expected)
    from lifecycle.models import WebhookDelivery

    assert not WebhookDelivery.objects.exclude(status="delivered").exists()
    assert clock.now - start > timedelta(days=14)  # weeks of the lifecycle, no sleeping
