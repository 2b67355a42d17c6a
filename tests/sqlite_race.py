"""Scenario for the SQLite race test, run inside a real server's database (`manage.py shell`): one open
1-unit listing, 20 requesting agencies with a signed-in session each, and one extra asset owner. Prints
JSON with the listing id and the session keys."""
import json
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

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
    print(json.dumps({"listing": listing.pk, "racers": racers, "giver": session_for(world["users"]["staff_a"])}))
