"""Session login (page, brute-force lockout by django-axes) and the permission layer per role."""
from datetime import date

import pytest
from django.utils import timezone

from exchange.models import Asset
from kernel.errors import NotAuthenticated, PermissionDenied
from regions.models import ApiToken, StandardSet
from regions.permissions import get_principal, require, restrict
from regions.scope import Scope
from regions.services import tokens
from tests import factories as f


def test_login_page_speaks_one_language_and_signs_in(region_world, client):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "登录" in html and "Sign in" not in html and "csrfmiddlewaretoken" in html
    english = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Sign in" in english and "登录" not in english
    response = client.post("/accounts/login/", {"username": "bureau_a", "password": "pw-123456"},
                           REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(region_world["users"]["bureau_a"].pk)


def test_wrong_password_shows_the_error(region_world, client):
    response = client.post("/accounts/login/", {"username": "bureau_a", "password": "nope"}, REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 200 and "用户名或密码错误" in response.content.decode()


def _sign_in(client, username, password, address, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address,
                       **extra)


def test_sixth_bad_password_locks_the_pair_out_and_says_when_to_retry(region_world, client, settings):
    """AXES_FAILURE_LIMIT = 5 per (username, address): four wrong passwords get the form error, the fifth failure
    reaches the limit and is answered with the lockout (HTTP 429, Retry-After, the time to try again), so the
    sixth attempt and the right password are refused from that address."""
    assert settings.AXES_FAILURE_LIMIT == 5
    for attempt in range(4):
        assert _sign_in(client, "bureau_a", f"bad{attempt}", "10.0.0.3").status_code == 200, attempt
    locked = _sign_in(client, "bureau_a", "bad4", "10.0.0.3")
    assert locked.status_code == 429 and 14 * 60 < int(locked["Retry-After"]) <= 15 * 60
    html = locked.content.decode()
    retry = timezone.localtime(timezone.now() + settings.AXES_COOLOFF_TIME)
    assert "登录失败次数过多" in html and "15 分钟" in html
    assert any(f"{retry.hour:02d}:{minute:02d}" in html for minute in (retry.minute, (retry.minute - 1) % 60))
    assert _sign_in(client, "bureau_a", "bad5", "10.0.0.3").status_code == 429
    again = _sign_in(client, "bureau_a", "pw-123456", "10.0.0.3")
    assert again.status_code == 429 and "_auth_user_id" not in client.session
    english = _sign_in(client, "bureau_a", "pw-123456", "10.0.0.3", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Too many failed sign-ins for this account from your address. Try again after" in english


def test_one_guesser_locks_neither_the_office_nor_the_person_elsewhere(region_world, client):
    """The pair is locked, not the address (colleagues behind the same NAT sign in) nor the username (its owner
    signs in from another address)."""
    for attempt in range(6):
        _sign_in(client, "bureau_a", f"bad{attempt}", "10.0.0.7")
    assert _sign_in(client, "bureau_a", "pw-123456", "10.0.0.7").status_code == 429
    assert _sign_in(client, "bureau_b", "pw-123456", "10.0.0.7").status_code == 302  # same office address
    client.logout()
    assert _sign_in(client, "bureau_a", "pw-123456", "10.0.0.8").status_code == 302  # the person elsewhere


def test_username_is_locked_everywhere_only_after_the_higher_count(region_world, client, settings):
    """Failures spread over many addresses lock the username for every address once they reach
    AXES_USERNAME_FAILURE_LIMIT; the message then says so."""
    settings.AXES_USERNAME_FAILURE_LIMIT = 12
    for n in range(11):  # 11 failures from 11 addresses: no pair reaches 5, the username total is under 12
        assert _sign_in(client, "bureau_a", "bad", f"10.0.1.{n}").status_code == 200, n
    assert _sign_in(client, "bureau_a", "pw-123456", "10.0.2.1").status_code == 302
    client.logout()
    assert _sign_in(client, "bureau_a", "bad", "10.0.1.99").status_code == 429  # the twelfth failure
    everywhere = _sign_in(client, "bureau_a", "pw-123456", "10.0.2.2")
    assert everywhere.status_code == 429 and "_auth_user_id" not in client.session
    text = everywhere.content.decode()
    assert "该账号登录失败次数过多" in text and "您的地址" not in text


def test_the_lock_ends_after_the_cool_off(region_world, client, settings):
    from datetime import timedelta

    from axes.models import AccessAttempt

    for attempt in range(5):
        _sign_in(client, "bureau_a", f"bad{attempt}", "10.0.0.9")
    assert _sign_in(client, "bureau_a", "pw-123456", "10.0.0.9").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    assert _sign_in(client, "bureau_a", "pw-123456", "10.0.0.9").status_code == 302


# --- restrict / require per role ------------------------------------------------------------------------
@pytest.fixture
def data(region_world):
    w = region_world
    w["asset_a"] = f.AssetFactory(agency=w["agency_a"])
    w["asset_b"] = f.AssetFactory(agency=w["agency_b"])
    w["asset_out"] = f.AssetFactory(agency=w["agency_out"])
    w["standards"] = f.StandardSetFactory(region=w["region"], effective_from=date(2014, 12, 1))
    return w


def _visible(user, model=Asset):
    return set(restrict(model.objects.all(), user).values_list("pk", flat=True))


def test_restrict_limits_reads_to_each_role_scope(data):
    u, a, b, out = data["users"], data["asset_a"].pk, data["asset_b"].pk, data["asset_out"].pk
    assert _visible(u["coordinator"]) == {a, b}
    assert _visible(u["auditor"]) == {a, b}
    assert _visible(u["bureau_a"]) == {a}
    assert _visible(u["bureau_b"]) == {b}
    assert _visible(u["staff_a"]) == {a}
    assert _visible(u["outsider"]) == {out}
    assert _visible(u["staff_a"], StandardSet) == {data["standards"].pk}  # member region's standards
    assert _visible(u["outsider"], StandardSet) == set()


@pytest.mark.parametrize("who, action, target, allowed", [
    ("coordinator", "standards.edit", "region", True),
    ("auditor", "standards.edit", "region", False),
    ("bureau_a", "standards.edit", "region", False),
    ("auditor", "report.request", "region", True),
    ("auditor", "asset.register", "asset_a", False),
    ("auditor", "approval.decide", "asset_a", False),
    ("coordinator", "approval.decide", "asset_a", True),
    ("coordinator", "asset.register", "asset_a", False),
    ("bureau_a", "asset.register", "asset_a", True),
    ("bureau_a", "asset.register", "asset_b", False),
    ("bureau_a", "token.manage", "asset_a", True),
    ("staff_a", "token.manage", "asset_a", False),
    ("staff_a", "asset.register", "asset_a", True),
    ("staff_a", "asset.register", "asset_b", False),
    ("staff_b", "listing.open", "asset_a", False),
    ("outsider", "asset.register", "asset_a", False),
    ("outsider", "asset.register", "asset_out", True),
])
def test_require_per_role(data, who, action, target, allowed):
    obj = Scope(region_id=data["region"].pk) if target == "region" else data[target]
    user = data["users"][who]
    if allowed:
        assert require(user, action, obj) is get_principal(user)
    else:
        with pytest.raises(PermissionDenied):
            require(user, action, obj)


def test_anonymous_is_not_authenticated(data):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(NotAuthenticated):
        restrict(Asset.objects.all(), AnonymousUser())
    with pytest.raises(NotAuthenticated):
        require(None, "asset.register", data["asset_a"])


def test_token_acts_as_bureau_of_its_city_and_read_only_unless_write(data):
    from django.db import transaction

    with transaction.atomic():
        _, ro_key = tokens.create_token(data["users"]["bureau_a"], data["city_a"], name="ro")
        _, rw_key = tokens.create_token(data["users"]["bureau_a"], data["city_a"], name="rw", can_write=True)
    ro, rw = tokens.authenticate(ro_key), tokens.authenticate(rw_key)
    assert _visible(ro) == {data["asset_a"].pk} == _visible(rw)
    with pytest.raises(PermissionDenied):
        require(ro, "asset.register", data["asset_a"])
    require(rw, "asset.register", data["asset_a"])
    with pytest.raises(PermissionDenied):
        require(rw, "asset.register", data["asset_b"])
    assert ApiToken.objects.filter(last_used_at__isnull=False).count() == 2


def test_unknown_action_is_a_programming_error(data):
    with pytest.raises(KeyError):
        require(data["users"]["coordinator"], "no.such.action", Scope(region_id=data["region"].pk))
