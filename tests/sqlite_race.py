"""Scenario for the SQLite race test, run inside a real server's database (`manage.py shell`): one open
1-unit listing, 20 requesting agencies with a signed-in session each, one extra asset owner, and a transfer
approved and awaiting its handover with the receiver's session. Prints JSON with the ids and session keys."""
import json
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from exchange.services import approvals, transfer_requests
from tests import factories as f
from tests import factories_exchange as fx

RACERS = 20


def session_for(user):
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]  # the model backend (sign-in by password)
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def main():
    region = f.RegionFactory(code="yrd-race")
    city_a = f.JurisdictionFactory(code="310000", lon=121.47, lat=31.23)
    city_b = f.JurisdictionFactory(code="330100", lon=120.16, lat=30.27)
    for city in (city_a, city_b):
        f.MembershipFactory(region=region, jurisdiction=city)
    agency_a = f.AgencyFactory(jurisdiction=city_a)
    fx.standard_set(region, own_window_days=0)
    f.AssetClassFactory()
    world = {"agency_a": agency_a, "users": {"staff_a": f.user_with_role("agency_staff", agency_a, "giver")}}
    listing = fx.open_listing(world, original_value=Decimal("100.00"), acquired_on=date(2010, 1, 1))
    racers = []
    for i in range(RACERS):
        agency = f.AgencyFactory(jurisdiction=city_b, name_zh=f"杭州单位{i}")
        racers.append({"agency": agency.pk, "session": session_for(f.user_with_role("agency_staff", agency, f"r{i}"))})
    handover = _transfer_awaiting_handover(region, city_a, city_b, world)
    print(json.dumps({"listing": listing.pk, "racers": racers, "giver": session_for(world["users"]["staff_a"]),
                      **handover}))


def _transfer_awaiting_handover(region, city_a, city_b, world):
    receiver = f.AgencyFactory(jurisdiction=city_b, name_zh="杭州接收单位")
    staff = f.user_with_role("agency_staff", receiver, "receiver")
    deciders = {"giving_bureau": f.user_with_role("bureau_manager", city_a, "bureau_a"),
                "receiving_bureau": f.user_with_role("bureau_manager", city_b, "bureau_b"),
                "coordinator": f.user_with_role("coordinator", region, "coordinator")}
    listing = fx.open_listing(world, original_value=Decimal("100.00"), acquired_on=date(2010, 1, 1))
    _request, transfer = transfer_requests.create_request(staff, listing=listing, agency=receiver, quantity=1,
                                                          justification="交接并发")
    for step in transfer.steps.all():
        approvals.decide_step(deciders[step.kind], step, approve=True)
    return {"transfer": transfer.pk, "receiver": session_for(staff)}
