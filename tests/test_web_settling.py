"""Issue 16 in the workbench: the coordinator sets the region's settling level from a future date (service,
GraphQL, page; audited; postings already made keep their accounts), and a bureau reads its account
statement for a period with the settlement statement PDF one click away."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from kernel.errors import PermissionDenied, ValidationFailed
from kernel.models import AuditEvent
from ledger.models import Account, Leg
from regions.models import SettlingLevel
from regions.services.settling import set_settling_level
from regions.settling import settling_level
from tests import factories_exchange as fx
from tests.test_web import complete, make_transfer


@pytest.fixture
def world(region_world):
    region_world["standards"] = fx.standard_set(region_world["region"], own_window_days=0)
    return region_world


def tomorrow():
    return timezone.localdate() + timedelta(days=1)


def test_the_coordinator_sets_a_future_level_and_may_set_it_again_before_it_applies(world):
    region, coordinator = world["region"], world["users"]["coordinator"]
    SettlingLevel.objects.create(region=region, level="city", effective_from=date(2020, 1, 1))
    on = timezone.localdate() + timedelta(days=30)
    set_settling_level(coordinator, region, level="province", effective_from=on)
    set_settling_level(coordinator, region, level="county", effective_from=on)
    assert settling_level(region, on) == "county" and settling_level(region, on - timedelta(days=1)) == "city"
    assert SettlingLevel.objects.filter(region=region).count() == 2
    events = AuditEvent.objects.filter(action="settling_level.set").order_by("id")
    assert [(e.before["level"], e.after["level"], e.before["replaced"]) for e in events] == [
        ("city", "province", False), ("province", "county", True)]


@pytest.mark.parametrize("days,level,field", [(0, "city", "effective_from"), (-3, "city", "effective_from"),
                                              (5, "district", "level")])
def test_a_level_for_today_or_the_past_or_of_no_known_level_is_refused(world, days, level, field):
    with pytest.raises(ValidationFailed) as caught:
        set_settling_level(world["users"]["coordinator"], world["region"], level=level,
                           effective_from=timezone.localdate() + timedelta(days=days))
    assert caught.value.field == field
    assert not SettlingLevel.objects.exists() and not AuditEvent.objects.filter(action="settling_level.set").exists()


@pytest.mark.parametrize("key", ["auditor", "bureau_a", "staff_a"])
def test_only_the_coordinator_changes_the_level(world, key):
    with pytest.raises(PermissionDenied):
        set_settling_level(world["users"][key], world["region"], level="province", effective_from=tomorrow())


def test_postings_made_before_a_change_keep_their_accounts(world):
    """A transfer posted under the members-settle-themselves rule keeps its city accounts after the region
    schedules (and later applies) a province level."""
    complete(world, make_transfer(world, original_value=Decimal("4500.00"), acquired_on=date(2023, 1, 1)))
    accounts_before = set(Leg.objects.values_list("account__code", flat=True))
    set_settling_level(world["users"]["coordinator"], world["region"], level="province", effective_from=tomorrow())
    assert set(Leg.objects.values_list("account__code", flat=True)) == accounts_before
    assert {a.jurisdiction for a in Account.objects.filter(kind="compensation")} == {world["city_a"],
                                                                                     world["city_b"]}


def test_set_settling_level_mutation(gql, world):
    query = (
        "mutation($input: SetSettlingLevelInput!) { setSettlingLevel(input: $input) { "
        "errors { field code message } settlingLevel { regionCode level effectiveFrom } } }")
    on = tomorrow().isoformat()
    variables = {"input": {"regionCode": world["region"].code, "level": "PROVINCE", "effectiveFrom": on}}
    data = gql.login(world["users"]["coordinator"]).execute(query, variables)["data"]["setSettlingLevel"]
    assert data["errors"] == [] and data["settlingLevel"] == {"regionCode": world["region"].code,
                                                              "level": "PROVINCE", "effectiveFrom": on}
    variables["input"]["effectiveFrom"] = timezone.localdate().isoformat()
    data = gql.execute(query, variables)["data"]["setSettlingLevel"]
    assert [(e["field"], e["code"]) for e in data["errors"]] == [("effectiveFrom", "INVALID")]


def test_settling_page_shows_the_history_and_sets_the_level(client, world):
    SettlingLevel.objects.create(region=world["region"], level="city", effective_from=date(2020, 1, 1))
    client.force_login(world["users"]["coordinator"])
    url = reverse("web:settling_level")
    page = client.get(url)
    assert page.status_code == 200 and page.context["histories"][0]["current"].level == "city"
    response = client.post(url, {"region": world["region"].code, "level": "province",
                                 "effective_from": timezone.localdate().isoformat()})
    assert response.status_code == 400 and response.context["form"].errors["effective_from"]
    response = client.post(url, {"region": world["region"].code, "level": "province",
                                 "effective_from": tomorrow().isoformat()})
    assert response.status_code == 302
    assert settling_level(world["region"], tomorrow()) == "province"
    client.force_login(world["users"]["auditor"])
    page = client.get(url)
    assert page.status_code == 200 and page.context["form"] is None  # auditors read, never write
    assert client.post(url, {"region": world["region"].code, "level": "county",
                             "effective_from": tomorrow().isoformat()}).status_code == 404
    client.force_login(world["users"]["bureau_a"])
    assert client.get(url).status_code == 404


def test_statement_page_shows_the_bureau_its_account_for_the_period(client, world):
    complete(world, make_transfer(world, original_value=Decimal("4500.00"), acquired_on=date(2023, 1, 1)))
    client.force_login(world["users"]["bureau_b"])
    today = timezone.localdate()
    response = client.get(reverse("web:statement"), {"start": (today - timedelta(days=10)).isoformat(),
                                                     "end": today.isoformat()})
    assert response.status_code == 200
    account = response.context["account"]
    assert account.jurisdiction == world["city_b"]
    figures = response.context["figures"]
    assert figures["opening"] == 0 and figures["debits"] > 0 and figures["closing"] == figures["debits"]
    assert [leg.account_id for leg in response.context["rows"]] == [account.pk]
    page = response.content.decode()
    assert 'name="kind" value="settlement_statement"' in page and f'value="{world["city_b"].code}"' in page
    before = client.get(reverse("web:statement"), {"account": account.pk, "start": "2020-01-01",
                                                   "end": "2020-12-31"}).context["figures"]
    assert before == {"opening": 0, "debits": 0, "credits": 0, "closing": 0}


def test_statement_page_is_scoped_and_checks_dates(client, world):
    complete(world, make_transfer(world))
    receiver = Account.objects.get(kind="compensation", jurisdiction=world["city_b"])
    client.force_login(world["users"]["bureau_a"])
    response = client.get(reverse("web:statement"), {"account": receiver.pk, "start": "2026-01-01",
                                                     "end": "2026-02-01"})
    assert "account" in response.context["form"].errors  # another city's account is not a choice
    assert response.context["account"].jurisdiction == world["city_a"]
    response = client.get(reverse("web:statement"), {"start": "2026-05-01", "end": "2026-04-01"})
    assert response.status_code == 400 and response.context["form"].errors["end"]
    client.force_login(world["users"]["outsider"])
    assert client.get(reverse("web:statement")).status_code == 404
