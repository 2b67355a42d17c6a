"""Accountability and two-factor sign-in in a real browser: the transfer page shows every stage's responsible
person, deadline and light and a bureau takes a step on; a coordinator enrols an authenticator at first sign-in.
Screenshots in tests/artifacts/."""
import pytest
from django.db import transaction
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from regions.models import Duty
from tests import factories_exchange as fx
from tests.test_browser import CHROMEDRIVER, CHROMIUM, Session, browser, delete_triggers, server  # noqa: F401
from tests.test_exchange_services import request

pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromedriver")


def test_the_transfer_page_names_who_answers_for_each_stage(browser, server, region_world):  # noqa: F811
    world = region_world
    fx.standard_set(world["region"], own_window_days=0)
    with transaction.atomic():
        transfer = request(world, fx.open_listing(world))[1]
    s = Session(browser, server)
    s.sign_in(world["users"]["bureau_a"]).open(f"/transfers/{transfer.pk}/").wait_for("#stages")
    assert len(browser.find_elements("css selector", "#stages tr[data-stage]")) == 4  # request, 2 steps, handover
    s.shot("21-10-stages-before")
    s.click("#stages .claim-button")
    s.wait_for("#stages [data-responsible='bureau_a']")
    s.shot("21-11-stage-taken-on")
    duty = Duty.objects.get(responsible=world["users"]["bureau_a"])
    assert duty.stage == "approval" and duty.subject.kind == "giving_bureau"

def test_a_coordinator_enrols_an_authenticator_at_first_sign_in(browser, server, region_world):  # noqa: F811
    world = region_world
    world["region"].two_factor_required = True
    world["region"].save()
    s = Session(browser, server)
    s.sign_in_with_form("coordinator", "pw-123456", "/roles/")
    s.wait_for("#totp-qr")
    s.shot("21-12-two-factor-enrol")
    device = TOTPDevice.objects.get(user=world["users"]["coordinator"])
    s.fill("token", f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}")
    s.click("#totp-confirm")
    s.wait_for("#grant-form")
    s.shot("21-13-signed-in-with-two-factor")
    device.refresh_from_db()
    assert device.confirmed
