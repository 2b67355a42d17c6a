"""Two-factor sign-in (TOTP): required of coordinators (who close settlement periods) where the region asks
for it, available to everyone; through the real sign-in page and the pages a person sees."""
import base64
import re

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from kernel.models import AuditEvent
from regions import two_factor

PASSWORD = "pw-123456"
ME = "query { me { username } }"


@pytest.fixture
def world(region_world):
    region = region_world["region"]
    region.two_factor_required = True
    region.save()
    return region_world


def sign_in(username, next_url="/settlement/"):
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD, "next": next_url})
    assert response.status_code == 302, response.content[:300]
    return client, response


def code(device, drift=0):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):06d}"


def me(client):
    response = client.post("/graphql/", {"query": ME}, content_type="application/json")
    return response.status_code, response.json()


def test_a_coordinator_enrols_at_first_sign_in_then_confirms_a_code_every_time(world):
    client, response = sign_in("coordinator")
    assert response["Location"] == "/settlement/"
    setup = client.get("/settlement/")
    assert setup.status_code == 302 and setup["Location"].startswith("/accounts/two-factor/setup/?next=/settlement/")
    assert me(client)[0] == 401  # GraphQL closed until the code is confirmed
    assert client.get("/admin/").status_code == 302
    page = client.get(setup["Location"])
    html = page.content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', html).group(1)
    assert 'id="totp-qr" src="data:image/svg+xml;base64,' in html
    device = TOTPDevice.objects.get(user=world["users"]["coordinator"], confirmed=False)
    assert secret == base64.b32encode(device.bin_key).decode()
    wrong = client.post("/accounts/two-factor/setup/", {"token": "000000", "next": "/settlement/"})
    assert wrong.status_code == 400 and not TOTPDevice.objects.filter(confirmed=True).exists()
    device.refresh_from_db()
    device.throttle_reset()
    done = client.post("/accounts/two-factor/setup/", {"token": code(device), "next": "/settlement/"})
    assert done.status_code == 302 and done["Location"] == "/settlement/"
    assert client.get("/settlement/").status_code == 200
    assert me(client)[1]["data"]["me"]["username"] == "coordinator"
    assert AuditEvent.objects.get(action="two_factor.enrolled").actor == world["users"]["coordinator"]

    # the next sign-in asks for a code of the enrolled device
    client, _response = sign_in("coordinator")
    ask = client.get("/settlement/")
    assert ask["Location"].startswith("/accounts/two-factor/?next=")
    device.refresh_from_db()
    assert client.post("/accounts/two-factor/", {"token": "123456"}).status_code == 400
    assert me(client)[0] == 401
    device.refresh_from_db()
    device.throttle_reset()
    # django-otp refuses a code of a time step already used, so take the next step's (within its tolerance)
    ok = client.post("/accounts/two-factor/", {"token": code(device, drift=1), "next": "/settlement/"})
    assert ok.status_code == 302 and me(client)[1]["data"]["me"]["username"] == "coordinator"


def test_a_bureau_signs_in_without_a_second_factor_unless_it_enrolled_one(world):
    client, response = sign_in("bureau_a", "/roles/")
    assert client.get("/roles/").status_code == 200 and me(client)[1]["data"]["me"]["username"] == "bureau_a"
    assert not two_factor.required(world["users"]["bureau_a"])
    # available to everyone: bureau_a enrols on its own
    page = client.get("/accounts/two-factor/setup/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=world["users"]["bureau_a"])
    assert client.post("/accounts/two-factor/setup/", {"token": code(device)}).status_code == 302
    client, _response = sign_in("bureau_a", "/roles/")
    assert client.get("/roles/")["Location"].startswith("/accounts/two-factor/?")


def test_required_per_region(world):
    coordinator = world["users"]["coordinator"]
    assert two_factor.required(coordinator)
    world["region"].two_factor_required = False
    world["region"].save()
    coordinator._principal = None
    del coordinator._principal
    assert not two_factor.required(coordinator)
    client, _response = sign_in("coordinator")
    assert client.get("/settlement/").status_code == 200


def test_signing_out_of_a_half_open_session(world):
    client, _response = sign_in("coordinator")
    response = client.post("/accounts/two-factor/cancel/")
    assert response.status_code == 302 and "_auth_user_id" not in client.session
    body = me(client)[1]
    assert "two_factor_required" not in str(body) and not (body.get("data") or {}).get("me")  # signed out
