"""Single sign-on end to end: the test starts a real OpenID Connect provider (django-oauth-toolkit, tests/idp)
in its own process on 127.0.0.1; the official signs in there, the provider redirects back with a code, our
relying party (mozilla-django-oidc) exchanges it over HTTP, checks the RS256 ID token against the provider's
JWKS and maps the subject to one local person. Roles stay granted here."""
import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import transaction
from django.test import Client

from kernel.models import AuditEvent
from regions.models import ExternalIdentity
from regions.services import emergency

ROOT = Path(__file__).resolve().parent.parent
PORTS = range(8211, 8220)  # this project's test ports for the provider
CLIENT_ID, CLIENT_SECRET = "gongwucang-test", "s3cret-for-tests-only"
ME = "query { me { username } }"


def _free_port():
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port for the test identity provider")


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    folder = tmp_path_factory.mktemp("idp")
    config = folder / "idp.json"
    config.write_text(json.dumps({
        "rsa_key": key,
        "client": {"id": CLIENT_ID, "secret": CLIENT_SECRET, "redirect_uris": ["http://testserver/oidc/callback/"]},
        "users": [
            {"username": "zhang.wei", "password": "idp-pass-1", "email": "bureau_a@example.org",
             "first_name": "张伟"},
            {"username": "li.na", "password": "idp-pass-2", "email": "li.na@gov.example", "first_name": "李娜"},
            {"username": "staff.a", "password": "idp-pass-3", "email": "staff_a@example.org"},
        ]}), encoding="utf-8")
    port = _free_port()
    log = (folder / "idp.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "tests.idp.serve", str(port), str(config)], cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"{base}/o/.well-known/openid-configuration/", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the test identity provider did not start: "
                                   + (folder / "idp.log").read_text()[-2000:])
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def sso(idp, settings, region_world):
    settings.OIDC_OP_ISSUER = f"{idp}/o"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{idp}/o/authorize/"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{idp}/o/token/"
    settings.OIDC_OP_USER_ENDPOINT = f"{idp}/o/userinfo/"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{idp}/o/.well-known/jwks.json"
    settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
    for name in ("bureau_a", "staff_a"):
        user = region_world["users"][name]
        user.email = f"{name}@example.org"
        user.save()
    return region_world


def sign_in(username, password, next_url="/roles/"):
    """The official's browser: our sign-in button, the provider's sign-in page, back to our callback.
    Returns (our client, the callback's response)."""
    ours = Client()
    start = ours.get(f"/oidc/authenticate/?next={next_url}")
    assert start.status_code == 302, start
    authorize = start["Location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["client_id"] == [CLIENT_ID]  # PKCE
    browser = requests.Session()
    login_page = browser.get(authorize, timeout=10)  # the provider asks the official to sign in
    assert "idp-sign-in" in login_page.text, login_page.text[:500]
    back = browser.post(login_page.url, data={"username": username, "password": password,
                                              "csrfmiddlewaretoken": browser.cookies["csrftoken"],
                                              "next": parse_qs(urlsplit(login_page.url).query)["next"][0]},
                        headers={"Referer": login_page.url}, allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text[:500]
    back = browser.get(urljoin(login_page.url, back.headers["Location"]), allow_redirects=False, timeout=10)
    callback = back.headers["Location"]  # http://testserver/oidc/callback/?code=...&state=...
    assert callback.startswith("http://testserver/oidc/callback/?"), callback
    response = ours.get(callback.removeprefix("http://testserver"))
    return ours, response


def me(client):
    return client.post("/graphql/", {"query": ME}, content_type="application/json").json()


def test_login_page_offers_sso_only_when_configured(client, settings, db):
    settings.OIDC_RP_CLIENT_ID = ""
    assert 'id="sso"' not in client.get("/accounts/login/").content.decode()
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    assert 'href="/oidc/authenticate/' in client.get("/accounts/login/").content.decode()


def test_a_registered_official_signs_in_through_the_provider_and_keeps_the_roles_granted_here(sso):
    u = sso["users"]
    client, response = sign_in("zhang.wei", "idp-pass-1")
    assert response.status_code == 302 and response["Location"] == "/roles/"
    assert me(client)["data"]["me"]["username"] == "bureau_a"  # linked by the verified email
    identity = ExternalIdentity.objects.get(user=u["bureau_a"])
    assert identity.issuer.endswith("/o") and identity.subject
    assert client.get("/roles/").status_code == 200
    event = AuditEvent.objects.get(action="identity.linked")
    assert event.after["created"] is False and event.after["subject"] == identity.subject
    # a second sign-in maps the same subject to the same person, whatever the email says now
    u["bureau_a"].email = "changed@example.org"
    u["bureau_a"].save()
    client, _response = sign_in("zhang.wei", "idp-pass-1")
    assert me(client)["data"]["me"]["username"] == "bureau_a"
    assert ExternalIdentity.objects.count() == 1 and AuditEvent.objects.filter(action="identity.linked").count() == 1


def test_a_new_official_gets_one_local_identity_without_roles_and_can_ask_for_one(sso):
    from django.contrib.auth import get_user_model

    client, response = sign_in("li.na", "idp-pass-2")
    assert response.status_code == 302
    user = get_user_model().objects.get(external_identity__isnull=False, email="li.na@gov.example")
    assert user.username == "li.na" and user.first_name == "李娜" and not user.has_usable_password()
    assert not user.role_bindings.exists()  # roles are granted here, never taken from the provider
    assert me(client)["data"]["me"]["username"] == "li.na"
    asked = client.post("/graphql/", {"query": (
        'mutation($a: String!) { requestAccess(input: {role: AGENCY_STAFF, agencyCode: $a, reason: "新入职"}) '
        "{ errors { code } accessRequest { status } } }"), "variables": {"a": sso["agency_a"].code}},
        content_type="application/json").json()
    assert asked["data"]["requestAccess"]["errors"] == []
    client, _response = sign_in("li.na", "idp-pass-2")
    assert get_user_model().objects.filter(email="li.na@gov.example").count() == 1


def test_sso_is_refused_during_an_emergency_stop_and_with_a_forged_state(sso):
    u = sso["users"]
    with transaction.atomic():
        emergency.stop_jurisdiction(u["coordinator"], sso["city_a"], reason="演练")
    client, response = sign_in("staff.a", "idp-pass-3")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?sso=failed")
    assert "errors" in me(client) or me(client)["data"]["me"] is None
    forged = Client().get("/oidc/callback/?code=abc&state=forged")
    assert forged.status_code in (302, 400) and "_auth_user_id" not in forged.wsgi_request.session

