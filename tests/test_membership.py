"""One effective-dated membership rule everywhere: a membership counts from `joined_on` to `left_on`,
both days included, for permissions, the exchange, posting and reports alike."""
from datetime import timedelta

from django.utils import timezone

from exchange.services.common import region_for
from regions import membership
from regions.models import Jurisdiction, Membership
from regions.permissions import get_principal
from tests import factories as f


def _fresh(user):
    user.__dict__.pop("_principal", None)
    return get_principal(user)


def test_a_membership_that_ends_later_still_counts_today(region_world):
    today = timezone.localdate()
    Membership.objects.filter(jurisdiction=region_world["city_b"]).update(left_on=today + timedelta(days=30))
    coordinator = _fresh(region_world["users"]["coordinator"])
    assert region_world["city_b"].pk in coordinator.coordinator_jurisdictions
    assert region_world["region"].pk in _fresh(region_world["users"]["bureau_b"]).member_regions
    assert region_for(region_world["city_b"]) == region_world["region"].pk


def test_a_membership_that_starts_later_or_has_ended_does_not_count(region_world):
    today = timezone.localdate()
    Membership.objects.filter(jurisdiction=region_world["city_a"]).update(joined_on=today + timedelta(days=1))
    Membership.objects.filter(jurisdiction=region_world["city_b"]).update(joined_on=today - timedelta(days=9),
                                                                         left_on=today - timedelta(days=1))
    coordinator = _fresh(region_world["users"]["coordinator"])
    assert not coordinator.coordinator_jurisdictions
    assert not _fresh(region_world["users"]["bureau_a"]).member_regions
    assert membership.members([region_world["region"].pk], today + timedelta(days=1)) == {region_world["city_a"].pk}
    assert membership.members([region_world["region"].pk], today - timedelta(days=1)) == {region_world["city_b"].pk}


def test_tree_walks_and_the_settling_member(region_world):
    city = region_world["city_a"]
    district = f.JurisdictionFactory(code="310101", name_zh="黄浦区", name_en="Huangpu", lon=121.49, lat=31.23,
                                     parent=city, level=Jurisdiction.Level.COUNTY)
    assert membership.descendants([city.pk]) == {city.pk, district.pk}
    assert membership.ancestors([district.pk]) == {city.pk, district.pk}
    assert membership.region_jurisdictions([region_world["region"].pk]) >= {city.pk, district.pk}
    assert membership.regions_of([district.pk]) == [region_world["region"].pk]
    assert membership.member_of(region_world["region"], district) == city
    outside = region_world["outside"]
    assert membership.member_of(region_world["region"], outside) == outside
