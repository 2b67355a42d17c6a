"""Session login (page, brute-force lockout by django-axes) and the permission layer per role."""
from datetime import date

import pytest

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


def test_sixth_bad_password_locks_the_account_out(region_world, client, settings):
    """AXES_FAILURE_LIMIT = 5: four wrong passwords get the form error, the fifth failure reaches the limit
    and is answered with the lockout, so the sixth attempt (and the right password) is refused."""
    assert settings.AXES_FAILURE_LIMIT == 5
    for attempt in range(4):
        response = client.post("/accounts/login/", {"username": "bureau_a", "password": f"bad{attempt}"},
                               REMOTE_ADDR="10.0.0.3")
        assert response.status_code == 200, attempt  # form error, not yet locked
    assert client.post("/accounts/login/", {"username": "bureau_a", "password": "bad4"},
                       REMOTE_ADDR="10.0.0.3").status_code == 429
    sixth = client.post("/accounts/login/", {"username": "bureau_a", "password": "bad5"}, REMOTE_ADDR="10.0.0.3")
    assert sixth.status_code == 429
    # while locked, even the right password is refused, from another address too (locked by username)
    again = client.post("/accounts/login/", {"username": "bureau_a", "password": "pw-123456"},
                        REMOTE_ADDR="10.0.0.4")
    assert again.status_code == 429 and "_auth_user_id" not in client.session
    # another account is not affected
    assert client.post("/accounts/login/", {"username": "bureau_b", "password": "pw-123456"},
                       REMOTE_ADDR="10.0.0.5").status_code == 302


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
