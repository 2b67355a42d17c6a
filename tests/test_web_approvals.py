"""Approvers decide with the facts: the queue and the transfer page show the request's justification,
needed-by date, exception, standards result with its numbers, value, km, a compensation estimate and the
time left; the transfer page itself carries approve/refuse."""
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from exchange.services import transfer_requests
from tests import factories_exchange as fx
from tests.conftest import count_queries
from workbench.templatetags.workbench import time_left


@pytest.fixture
def world(region_world):
    region_world["standards"] = fx.standard_set(region_world["region"], own_window_days=0)
    return region_world


def request_transfer(world, justification="新入职人员办公需要", **asset_kwargs):
    listing = fx.open_listing(world, **asset_kwargs)
    _request, transfer = transfer_requests.create_request(
        world["users"]["staff_b"], listing=listing, agency=world["agency_b"], quantity=1,
        justification=justification, needed_by=timezone.localdate() + timedelta(days=30),
        exception_requested=True, exception_justification="窗口单位急需，经局务会研究同意")
    return transfer


def test_queue_shows_the_facts_and_the_time_left(client, world):
    transfer = request_transfer(world, original_value="6000.00")  # above the 5000 CNY cap: a breach
    client.force_login(world["users"]["bureau_a"])
    html = client.get(reverse("web:approvals")).content.decode()
    assert "新入职人员办公需要" in html
    assert (timezone.localdate() + timedelta(days=30)).isoformat() in html
    assert "窗口单位急需，经局务会研究同意" in html
    assert "超过 2010104 类配置上限 5000 元" in html  # the rule and its numbers, in Chinese
    assert f"¥{transfer.value}" in html and f"{transfer.distance_km} km" in html
    assert "剩余" in html and "个工作日" in html
    english = client.get(reverse("web:approvals"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "exceeds the class 2010104 price cap of 5000 CNY" in english and "working days left" in english


def test_compensation_estimate_is_the_posting_rule_applied_today(client, world):
    from ledger.selectors import compensation_estimates
    from ledger.services.compensation import compute

    transfer = request_transfer(world, original_value="3000.00", acquired_on=date(2015, 1, 5))
    _details, residual, _fee, _transport, expected = compute(transfer, world["standards"])
    assert residual > 0  # within its 6-year life part of the value is compensated (80 % rate)
    assert compensation_estimates([transfer]) == {transfer.pk: expected}
    client.force_login(world["users"]["bureau_a"])
    assert f"¥{expected}" in client.get(reverse("web:transfer", args=[transfer.pk])).content.decode()


def test_long_justification_is_whole_on_the_transfer_page_and_shortened_in_the_queue(client, world):
    transfer = request_transfer(world)
    long_text = "理由" * 20000 + "终"
    transfer.request.__class__.objects.filter(pk=transfer.request_id).update(justification=long_text)
    client.force_login(world["users"]["bureau_a"])
    queue = client.get(reverse("web:approvals")).content.decode()
    assert long_text not in queue and "理由理由" in queue
    assert long_text in client.get(reverse("web:transfer", args=[transfer.pk])).content.decode()


def test_approve_and_refuse_on_the_transfer_page(client, world):
    transfer = request_transfer(world)
    url = reverse("web:transfer", args=[transfer.pk])
    client.force_login(world["users"]["bureau_a"])
    page = client.get(url)
    step = page.context["my_step"]
    assert step.kind == "giving_bureau" and 'id="approve-button"' in page.content.decode()
    refused = client.post(reverse("web:decide", args=[step.pk]), {"decision": "refuse", "from": "transfer"})
    assert refused.status_code == 400 and "reason" in refused.context["decision"].errors
    assert refused.context["transfer"].pk == transfer.pk  # the error is shown on the transfer page
    step.refresh_from_db()
    assert step.decision == "pending"
    approved = client.post(reverse("web:decide", args=[step.pk]), {"decision": "approve", "from": "transfer"})
    assert approved.status_code == 302 and approved["Location"] == url
    step.refresh_from_db()
    assert step.decision == "approved"
    assert client.get(url).context["my_step"] is None
    client.force_login(world["users"]["staff_b"])  # a party without a step sees no decision form
    assert 'id="decide-form"' not in client.get(url).content.decode()


def test_queue_with_facts_runs_constant_queries(client, world):
    request_transfer(world)
    client.force_login(world["users"]["bureau_a"])
    client.get(reverse("web:approvals"))
    with count_queries() as one:
        client.get(reverse("web:approvals"))
    for _ in range(5):
        request_transfer(world)
    with count_queries() as many:
        response = client.get(reverse("web:approvals"))
    assert len(response.context["rows"]) == 6
    assert len(one) == len(many), (len(one), len(many))


@pytest.mark.parametrize("days,zh,en", [(-1, "已超期 1 天", "overdue by 1 day"),
                                        (-3, "已超期 3 天", "overdue by 3 days")])
def test_overdue_counts_calendar_days(days, zh, en):
    now = timezone.now()
    with translation.override("zh-hans"):
        assert time_left(now + timedelta(days=days), now) == ("overdue", zh)
    with translation.override("en"):
        assert time_left(now + timedelta(days=days), now) == ("overdue", en)


def test_time_left_counts_working_days():
    friday = timezone.make_aware(timezone.datetime(2026, 3, 6, 10, 0))  # a Friday, no holiday around
    with translation.override("zh-hans"):
        assert time_left(friday + timedelta(days=4), friday) == ("left", "剩余 2 个工作日")  # Mon, Tue
        assert time_left(friday + timedelta(hours=2), friday)[0] == "today"
