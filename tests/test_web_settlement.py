"""The coordinator closes a settlement period and confirms its payments on the settlement page; bureaus
read it; the service's refusals come back as translated messages and change nothing."""
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from ledger.models import PaymentInstruction, SettlementPeriod
from ledger.services import posting


@pytest.fixture
def booked(region_world):
    region = region_world["region"]
    a, b = (posting.compensation_account(region, region_world[k]) for k in ("city_a", "city_b"))
    posting.post(region, on=date(2026, 3, 5), kind="compensation", description="调拨补偿", key="m1",
                 legs=[(b, "debit", Decimal("812.40")), (a, "credit", Decimal("812.40"))])
    region_world["period"] = SettlementPeriod.objects.get(region=region, start=date(2026, 3, 1))
    return region_world


def test_coordinator_closes_the_period_and_confirms_the_payment(client, booked):
    period = booked["period"]
    client.force_login(booked["users"]["coordinator"])
    html = client.get(reverse("web:settlement")).content.decode()
    assert f'id="close-{period.pk}"' in html
    response = client.post(reverse("web:settlement_close", args=[period.pk]), follow=True)
    period.refresh_from_db()
    assert period.status == "closed" and "已关闭" in response.content.decode()
    instruction = PaymentInstruction.objects.get(period=period)
    assert instruction.amount == Decimal("812.40") and f"¥{instruction.amount}" in response.content.decode()
    again = client.post(reverse("web:settlement_close", args=[period.pk]), follow=True)
    assert "该结算期已关闭" in again.content.decode()
    client.post(reverse("web:settlement_confirm", args=[instruction.pk]))
    instruction.refresh_from_db()
    assert instruction.transaction_id is not None


def test_bureaus_read_but_cannot_close(client, booked):
    period = booked["period"]
    client.force_login(booked["users"]["bureau_a"])
    html = client.get(reverse("web:settlement")).content.decode()
    assert f'id="period-{period.pk}"' in html
    assert f'id="close-{period.pk}"' not in html
    response = client.post(reverse("web:settlement_close", args=[period.pk]), follow=True)
    period.refresh_from_db()
    assert period.status == "open"
    assert "您无权执行此操作" in response.content.decode()
    client.force_login(booked["users"]["outsider"])
    assert client.post(reverse("web:settlement_close", args=[period.pk])).status_code == 404
