"""The permission principal in one SQL query gives the same sets as the rule written out step by step
(active bindings, tree walks, memberships in force), for every role, revoked and expired bindings, deputies,
nested jurisdictions and memberships that ended."""
from datetime import timedelta

import pytest
from django.utils import timezone

from regions import membership
from regions.models import Jurisdiction, Membership, Role, RoleBinding
from regions.permissions import get_principal
from tests import factories as f


def reference(user):
    """The principal's sets computed the long way, from the membership helpers."""
    bindings = list(RoleBinding.objects.active().filter(user=user).select_related("agency"))
    by_role = {role: set() for role in Role.values}
    staff_jurisdictions = set()
    for b in bindings:
        by_role[b.role].add(b.region_id or b.jurisdiction_id or b.agency_id)
        if b.agency_id:
            staff_jurisdictions.add(b.agency.jurisdiction_id)
    roots = by_role[Role.BUREAU_MANAGER] | by_role[Role.DEPUTY_BUREAU_MANAGER]
    return {
        "coordinator_regions": by_role[Role.COORDINATOR], "auditor_regions": by_role[Role.AUDITOR],
        "bureau_jurisdictions": set(membership.descendants(roots)),
        "manager_jurisdictions": set(membership.descendants(by_role[Role.BUREAU_MANAGER])),
        "manager_roots": by_role[Role.BUREAU_MANAGER], "staff_agencies": by_role[Role.AGENCY_STAFF],
        "staff_agency_jurisdictions": staff_jurisdictions,
        "coordinator_jurisdictions": set(membership.region_jurisdictions(by_role[Role.COORDINATOR])),
        "auditor_jurisdictions": set(membership.region_jurisdictions(by_role[Role.AUDITOR])),
        "member_regions": set(membership.regions_of(roots | staff_jurisdictions)),
        "roles": {b.role for b in bindings},
    }


def fresh(user):
    user.__dict__.pop("_principal", None)
    return get_principal(user)


@pytest.fixture
def deep_world(region_world):
    today = timezone.localdate()
    city = region_world["city_a"]
    district = f.JurisdictionFactory(code="310101", name_zh="黄浦区", name_en="Huangpu", lon=121.49, lat=31.23,
                                     parent=city, level=Jurisdiction.Level.COUNTY)
    street = f.JurisdictionFactory(code="310102", name_zh="街道", name_en="Street", lon=121.5, lat=31.24,
                                   parent=district, level=Jurisdiction.Level.COUNTY)
    other = f.RegionFactory(code="other-test", name_zh="另一区域", name_en="Other region")
    f.MembershipFactory(region=other, jurisdiction=district)
    ended = f.RegionFactory(code="ended-test", name_zh="已退出区域", name_en="Ended region")
    Membership.objects.create(region=ended, jurisdiction=region_world["city_b"], joined_on=today - timedelta(days=90),
                              left_on=today - timedelta(days=1))
    users = region_world["users"]
    mixed = f.user_with_role("deputy_bureau_manager", district, "mixed")
    for role, scope in (("agency_staff", region_world["agency_b"]), ("auditor", other), ("coordinator", ended)):
        RoleBinding.objects.create(user=mixed, role=role, **{type(scope).__name__.lower(): scope}, reason="test")
    RoleBinding.objects.create(user=mixed, role="bureau_manager", jurisdiction=region_world["outside"],
                               reason="test", revoked_at=timezone.now())
    RoleBinding.objects.create(user=mixed, role="coordinator", region=region_world["region"], reason="test",
                               ends_on=today - timedelta(days=1))
    RoleBinding.objects.create(user=users["bureau_a"], role="auditor", region=other, reason="test",
                               ends_on=today)
    return {**region_world, "district": district, "street": street, "users": {**users, "mixed": mixed}}


def test_one_query_principal_matches_the_step_by_step_rule(deep_world, django_assert_num_queries):
    for name, user in deep_world["users"].items():
        expected = reference(user)
        user.__dict__.pop("_principal", None)
        with django_assert_num_queries(1):
            principal = get_principal(user)
        got = {key: set(getattr(principal, key)) for key in expected}
        assert got == expected, name


def test_the_sets_are_what_the_rules_say(deep_world):
    p = fresh(deep_world["users"]["mixed"])
    assert p.bureau_jurisdictions == {deep_world["district"].pk, deep_world["street"].pk}
    assert not p.manager_jurisdictions  # a deputy only; the revoked manager binding is ignored
    assert p.staff_agencies == {deep_world["agency_b"].pk}
    assert not p.coordinator_jurisdictions  # the region it coordinates lost its only member; the other lapsed
    assert p.auditor_jurisdictions == {deep_world["district"].pk, deep_world["street"].pk}
    assert p.member_regions == {deep_world["region"].pk, Membership.objects.get(
        jurisdiction=deep_world["district"]).region_id}
    coordinator = fresh(deep_world["users"]["coordinator"])
    assert coordinator.coordinator_jurisdictions == {deep_world["city_a"].pk, deep_world["city_b"].pk,
                                                     deep_world["district"].pk, deep_world["street"].pk}
    assert fresh(deep_world["users"]["bureau_a"]).auditor_regions  # ends today: still in force today
