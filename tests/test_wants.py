"""Want lists and watch alerts: a want is notified when a matching item is listed (nearest first, once),
or when it enters the regional window; "matches my wants" lists what the warehouse holds for them."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from kernel.errors import PermissionDenied, ValidationFailed
from lifecycle.models import Want
from lifecycle.services import wants
from notifications.models import Notification
from tests import factories as f
from tests import factories_exchange as fx

MATCHES = "{ wantMatches { distanceKm want { pk } listing { pk title } } }"


@pytest.fixture
def world(region_world):
    fx.standard_set(region_world["region"], own_window_days=0)  # straight into the regional window
    f.AssetClassFactory()
    return region_world


def want(world, agency="agency_b", user="staff_b", **kwargs):
    from exchange.models import AssetClass

    kwargs.setdefault("quantity", 2)
    kwargs.setdefault("until", timezone.localdate() + timedelta(days=30))
    kwargs.setdefault("reason", "新入职人员需要电脑")
    with transaction.atomic():
        return wants.record_want(world["users"][user], agency=world[agency],
                                 asset_class=AssetClass.objects.get(code="2010104"), **kwargs)


def alerts(user):
    return list(Notification.objects.filter(recipient=user, kind="want_matched").order_by("id"))


def test_a_matching_listing_notifies_the_want_once(world):
    want(world)
    listing = fx.open_listing(world)
    [note] = alerts(world["users"]["staff_b"])
    assert note.params["listing"] == listing.pk and Decimal(note.params["km"]) > 100  # Shanghai → Hangzhou
    assert listing.title in note.message and note.url == f"/listings/{listing.pk}/"
    assert wants.alert_wants(listing) == 0  # re-run: nothing new
    assert wants.alert_regional_wants() == 0


def test_condition_radius_class_date_and_withdrawal_are_respected(world):
    good = want(world, min_condition="good")
    want(world, within_km=50)  # Shanghai is ~160 km from Hangzhou
    today = want(world, until=timezone.localdate())
    withdrawn = want(world)
    with transaction.atomic():
        wants.withdraw_want(world["users"]["staff_b"], withdrawn)
    fair = fx.open_listing(world, condition="fair")
    assert [n.params["want_id"] for n in alerts(world["users"]["staff_b"])] == [today.pk]
    fx.open_listing(world, condition="good")
    assert [n.params["want_id"] for n in alerts(world["users"]["staff_b"])] == [today.pk, good.pk, today.pk]
    tomorrow = timezone.now() + timedelta(days=1)
    assert [w.pk for w, _km in wants.wants_matching(fair, now=tomorrow)] == []  # the want's date has passed


def test_nearest_wants_are_notified_first(world):
    near_agency = f.AgencyFactory(jurisdiction=world["city_a"], name_zh="上海近单位")
    world["agency_near"] = near_agency
    near_user = f.user_with_role("agency_staff", near_agency, "staff_near")
    world["users"]["staff_near"] = near_user
    far = want(world)
    near = want(world, agency="agency_near", user="staff_near")
    listing = fx.open_listing(world)
    ordered = Notification.objects.filter(kind="want_matched", params__listing=listing.pk).order_by("id")
    assert [n.params["want_id"] for n in ordered] == [near.pk, far.pk]
    matches = wants.wants_matching(listing)
    assert [w.pk for w, _km in matches] == [near.pk, far.pk] and matches[0][1] < matches[1][1]


def test_own_window_listings_alert_only_their_jurisdiction_then_the_region(world):
    from regions.models import StandardSet

    StandardSet.objects.update(own_window_days=7)
    want(world)
    listing = fx.open_listing(world)
    assert alerts(world["users"]["staff_b"]) == []  # Hangzhou may not request a Shanghai item yet
    assert wants.alert_regional_wants(now=listing.own_window_ends_at - timedelta(minutes=1)) == 0
    assert wants.alert_regional_wants(now=listing.own_window_ends_at + timedelta(minutes=1)) == 1
    assert wants.alert_regional_wants(now=listing.own_window_ends_at + timedelta(minutes=6)) == 0


def test_record_want_validates_and_authorizes(world):
    for bad, field in [({"quantity": 0}, "quantity"), ({"until": date(2020, 1, 1)}, "until"),
                       ({"within_km": -3}, "within_km"), ({"reason": " "}, "reason"),
                       ({"min_condition": "mint"}, "min_condition")]:
        with pytest.raises(ValidationFailed) as exc:
            want(world, **bad)
        assert exc.value.field == field
    with pytest.raises(PermissionDenied):
        want(world, user="staff_a")
    assert not Want.objects.exists()


def test_matches_my_wants_graphql_nearest_first(world, gql):
    w = want(world)
    first = fx.open_listing(world)
    fx.open_listing(world, condition="poor")  # below the default (fair)
    data = gql.login(world["users"]["staff_b"]).execute(MATCHES)["data"]["wantMatches"]
    assert [(m["want"]["pk"], m["listing"]["pk"]) for m in data] == [(w.pk, first.pk)]
    assert gql.login(world["users"]["staff_a"]).execute(MATCHES)["data"]["wantMatches"] == []
    created = gql.login(world["users"]["staff_b"]).execute(
        """mutation($i: RecordWantInput!) { recordWant(input: $i) {
             want { pk minCondition } errors { field code } } }""",
        {"i": {"assetClassCode": "2010104", "quantity": 1, "until": "2099-01-01", "reason": "会议室",
               "minCondition": "GOOD", "withinKm": 300}})["data"]["recordWant"]
    assert created["errors"] == [] and created["want"]["minCondition"] == "GOOD"


def test_wants_page_shows_matches(world, client):
    want(world)
    listing = fx.open_listing(world)
    client.force_login(world["users"]["staff_b"])
    html = client.get("/lifecycle/wants/").content.decode()
    assert listing.title in html and "km" in html
    response = client.post("/lifecycle/wants/", {"agency": world["agency_b"].pk, "asset_class": "2010104",
                                                 "quantity": "0", "min_condition": "fair", "until": "2099-01-01",
                                                 "reason": "x"})
    assert response.status_code == 400 and Want.objects.count() == 1
