"""Emergency stop: a coordinator (or the city's own bureau) cuts a city's tokens and sessions in the same
second, with a reason, in the trail; sign-in is refused while it lasts; lifting restores unexpired tokens."""
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from kernel.errors import InvalidState, PermissionDenied, ValidationFailed
from kernel.models import AuditEvent
from regions.models import ApiToken, EmergencyStop
from regions.services import emergency, tokens

ME = "query { me { username viaToken } }"


@pytest.fixture
def world(region_world):
    u = region_world["users"]
    with transaction.atomic():
        region_world["token_a"], region_world["key_a"] = tokens.create_token(u["bureau_a"], region_world["city_a"],
                                                                           name="erp", can_write=True)
        region_world["token_b"], region_world["key_b"] = tokens.create_token(u["bureau_b"], region_world["city_b"],
                                                                           name="erp")
    return region_world


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def me(client, **headers):
    response = client.post("/graphql/", {"query": ME}, content_type="application/json", **headers)
    return response.status_code, response.json()


def can_sign_in(username):
    """Through the real sign-in page (django.contrib.auth + axes): a redirect means signed in."""
    response = Client().post("/accounts/login/", {"username": username, "password": "pw-123456"})
    return response.status_code == 302


def bearer(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_stop_cuts_the_citys_token_and_sessions_in_the_same_second_and_is_in_the_trail(world):
    u = world["users"]
    coordinator, staff_a, bureau_a, staff_b = (signed_in(u[n]) for n in ("coordinator", "staff_a", "bureau_a",
                                                                           "staff_b"))
    api = Client()
    assert me(api, **bearer(world["key_a"]))[1]["data"]["me"]["viaToken"] is True
    assert me(staff_a)[1]["data"]["me"]["username"] == "staff_a"

    started = time.monotonic()
    result = coordinator.post("/graphql/", {"query": (
        'mutation { stopJurisdiction(input: {jurisdictionCode: "310000", reason: "上海市令牌疑似泄露"}) '
        "{ errors { code } emergencyStop { id sessionsEnded tokensSuspended } } }")}, content_type="application/json")
    payload = result.json()["data"]["stopJurisdiction"]
    token_status, token_body = me(api, **bearer(world["key_a"]))
    staff_status, staff_body = me(staff_a)
    _status, bureau_body = me(bureau_a)
    elapsed = time.monotonic() - started

    assert payload["errors"] == [] and payload["emergencyStop"]["sessionsEnded"] == 2  # staff_a, bureau_a
    assert payload["emergencyStop"]["tokensSuspended"] == 1
    assert token_status == 401 and token_body["errors"][0]["extensions"]["code"].lower() == "not_authenticated"
    assert staff_body["errors"][0]["extensions"]["code"].lower() == "not_authenticated"  # the session is gone
    assert bureau_body["errors"][0]["extensions"]["code"].lower() == "not_authenticated"
    assert elapsed < 1.0, f"stop to refusal took {elapsed:.3f}s"
    stop = EmergencyStop.objects.get()
    token = ApiToken.objects.get(pk=world["token_a"].pk)
    assert token.suspended_at == stop.started_at  # one instant, one transaction
    event = AuditEvent.objects.get(action="emergency.stopped")
    assert event.actor == u["coordinator"] and event.jurisdiction == world["city_a"]
    assert event.after["reason"] == "上海市令牌疑似泄露" and event.after["tokens_suspended"] == [token.pk]
    assert event.after["webhooks"] == "paused" and abs(event.at - stop.started_at) < timedelta(seconds=1)
    # another city and the coordinator go on working
    assert me(staff_b)[1]["data"]["me"]["username"] == "staff_b"
    assert me(coordinator)[1]["data"]["me"]["username"] == "coordinator"
    assert me(Client(), **bearer(world["key_b"]))[1]["data"]["me"]["viaToken"] is True
    assert emergency.is_stopped(world["city_a"].pk) and not emergency.is_stopped(world["city_b"].pk)


def test_sign_in_is_refused_while_stopped_and_lifting_restores_unexpired_tokens(world):
    u = world["users"]
    with transaction.atomic():
        expiring, expiring_key = tokens.create_token(u["bureau_a"], world["city_a"], name="short", days=1)
        stop = emergency.stop_jurisdiction(u["coordinator"], world["city_a"], reason="演练")
    assert not can_sign_in("staff_a")
    assert can_sign_in("staff_b")
    ApiToken.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationFailed), transaction.atomic():
        emergency.lift_stop(u["coordinator"], stop, reason="")
    with pytest.raises(PermissionDenied), transaction.atomic():
        emergency.lift_stop(u["bureau_b"], stop, reason="x")
    with transaction.atomic():
        emergency.lift_stop(u["coordinator"], stop, reason="已更换密钥")
    assert me(Client(), **bearer(world["key_a"]))[1]["data"]["me"]["viaToken"] is True  # restored
    assert me(Client(), **bearer(expiring_key))[0] == 401  # expired meanwhile: stays refused
    assert can_sign_in("staff_a")
    lifted = AuditEvent.objects.get(action="emergency.lifted")
    assert lifted.after["tokens_restored"] == [world["token_a"].pk] and lifted.after["reason"] == "已更换密钥"
    with pytest.raises(InvalidState), transaction.atomic():
        emergency.lift_stop(u["coordinator"], stop, reason="again")


def test_a_bureau_stops_its_own_jurisdiction_not_anothers_and_needs_a_reason(world):
    u = world["users"]
    with pytest.raises(PermissionDenied), transaction.atomic():
        emergency.stop_jurisdiction(u["bureau_b"], world["city_a"], reason="x")
    with pytest.raises(ValidationFailed), transaction.atomic():
        emergency.stop_jurisdiction(u["bureau_a"], world["city_a"], reason=" ")
    assert not EmergencyStop.objects.exists() and ApiToken.objects.filter(suspended_at__isnull=False).count() == 0
    with transaction.atomic():
        emergency.stop_jurisdiction(u["bureau_a"], world["city_a"], reason="本市系统遭入侵")
    with pytest.raises(InvalidState), transaction.atomic():
        emergency.stop_jurisdiction(u["coordinator"], world["city_a"], reason="again")
