"""Querysets compiled once per process (kernel.compiled): the same rows as the queryset, for any arguments,
and a refusal when an argument shapes more of the SQL than its parameters."""
from datetime import date

import pytest

from kernel.compiled import Compiled, NotCompilable
from regions.membership import in_force
from regions.models import Membership
from tests import factories as f


@pytest.fixture
def memberships(db):
    region = f.RegionFactory(code="cmp")
    a, b = f.JurisdictionFactory(code="320000"), f.JurisdictionFactory(code="310000")
    f.MembershipFactory(region=region, jurisdiction=a, joined_on=date(2020, 1, 1), left_on=date(2022, 6, 30))
    f.MembershipFactory(region=region, jurisdiction=b, joined_on=date(2021, 1, 1))
    return region, a, b


def _members(region_id, on):
    return Membership.objects.filter(in_force(on), region_id=region_id).order_by("jurisdiction_id").values_list(
        "jurisdiction_id", "joined_on")


def test_compiled_rows_are_the_querysets_rows_for_every_argument(memberships):
    region, a, b = memberships
    compiled = Compiled(_members, stand_ins=(-1, date(1901, 2, 3)), others=(-2, date(1902, 3, 4)))
    for on in (date(2019, 1, 1), date(2021, 6, 1), date(2022, 6, 30), date(2022, 7, 1)):
        assert compiled.rows(region.pk, on) == list(_members(region.pk, on)), on
    assert compiled.rows(region.pk, date(2021, 6, 1)) == [(a.pk, date(2020, 1, 1)), (b.pk, date(2021, 1, 1))]
    assert compiled.rows(region.pk + 1, date(2021, 6, 1)) == []


def test_an_argument_that_shapes_the_sql_is_refused(memberships):
    region, *_ = memberships
    shaped = Compiled(lambda region_id, n: Membership.objects.filter(region_id=region_id)[:n].values_list("id"),
                      stand_ins=(-1, 3), others=(-2, 4))
    with pytest.raises(NotCompilable):
        shaped.rows(region.pk, 5)
