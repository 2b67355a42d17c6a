"""CO₂ avoided by reuse: effective-dated embodied-carbon factors per asset class, each with its source,
credited to a transfer at completion (units received × the factor in force that day), shown on the
transfer and counted as a fact of the evaluation, scored by indicator set version 2."""
from datetime import date, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from evaluation import indicators, services
from exchange.models import AssetClass, CarbonFactor
from exchange.services import carbon, handover
from tests import factories_exchange as fx
from tests.factories import gid
from tests.test_exchange_services import approve_all, request

SH = ZoneInfo("Asia/Shanghai")
DELL = "Dell, Carbon Footprint of a Typical Business Desktop From Dell (OptiPlex 780 Mini Tower), 2010"


@pytest.fixture
def world(region_world):
    fx.standard_set(region_world["region"], own_window_days=0)
    return region_world


def desktop():
    return AssetClass.objects.get_or_create(code="2010104", defaults={"name_zh": "台式计算机",
                                                                      "name_en": "Desktop computer",
                                                                      "kind": "equipment"})[0]


def factor(on, **values):
    return CarbonFactor.objects.create(asset_class=desktop(), effective_from=on, source=DELL, **values)


def completed(world, quantity=3, received=2, **asset):
    listing = fx.open_listing(world, quantity=quantity, **asset)
    _, transfer = request(world, listing, quantity=received)
    approve_all(world, transfer)
    return handover.confirm_handover(world["users"]["staff_b"], transfer, received_quantity=received,
                                     received_condition="good")


def test_a_completed_transfer_is_credited_with_the_factor_in_force_that_day(world):
    old = factor(date(2015, 1, 1), kg_per_unit=D("800"))
    factor(timezone.localdate() + timedelta(days=1), kg_per_unit=D("600"))  # not in force yet
    transfer = completed(world)
    assert (transfer.co2_avoided_kg, transfer.carbon_factor) == (D("1600.0"), old)
    transfer.refresh_from_db()
    assert transfer.co2_avoided_kg == D("1600.0")
    later = carbon.avoided(transfer.listing.asset, 2, timezone.localdate() + timedelta(days=1))
    assert later[0] == D("1200.0") and later[1].kg_per_unit == D("600")  # a correction applies from its date


def test_a_factor_per_cny_counts_the_original_value_and_no_factor_credits_nothing(world):
    asset = fx.asset(world["agency_a"], original_value=D("4500.00"))
    assert carbon.avoided(asset, 2, date(2026, 1, 1)) == (None, None)
    factor(date(2020, 1, 1), kg_per_cny=D("0.12345"))
    kg, _factor = carbon.avoided(asset, 2, date(2026, 1, 1))
    assert kg == D("1111.1")  # 0.12345 × 4500 × 2 = 1111.05 → half-up once


@pytest.mark.parametrize("values", [{"kg_per_unit": D("1"), "kg_per_cny": D("0.1")}, {},
                                    {"kg_per_unit": D("0")}, {"kg_per_unit": D("5"), "source": ""}])
def test_the_database_wants_one_positive_figure_and_its_source(db, values):
    with pytest.raises(IntegrityError), transaction.atomic():
        CarbonFactor.objects.create(asset_class=desktop(), effective_from=date(2020, 1, 1),
                                    **{"source": DELL, **values})


def test_shown_on_the_transfer(world, gql, client):
    factor(date(2015, 1, 1), kg_per_unit=D("800"))
    transfer = completed(world)
    query = "query($id: ID!) { node(id: $id) { ... on Transfer { co2AvoidedKg } } }"
    data = gql.login(world["users"]["staff_b"]).execute(query, {"id": gid(transfer)})["data"]
    assert data["node"] == {"co2AvoidedKg": 1600.0}
    client.force_login(world["users"]["staff_b"])
    page = client.get(f"/transfers/{transfer.pk}/").content.decode()
    assert "1600.0 kg CO₂e" in page and "OptiPlex 780" in page


def test_co2_avoided_is_a_fact_and_an_indicator_of_set_version_2(world):
    period = services.cycle_period("quarter", timezone.localdate())
    indicators.seed(world["region"], period[0] - timedelta(days=400))  # version 1, in force before
    v2 = indicators.seed(world["region"], period[0], version=2)
    assert [i.code for i in v2.indicators.all()][-1] == "co2_avoided"
    factor(date(2015, 1, 1), kg_per_unit=D("800"))
    completed(world)
    after = datetime.combine(period[1] + timedelta(days=1), datetime.min.time(), SH) + timedelta(hours=9)
    evaluation = services.freeze(world["region"], *period, now=after)
    assert evaluation.indicator_set == v2
    facts = {u.code: f for u, f in services.facts_of(evaluation).items()}
    assert facts["330100"]["co2_avoided_kg"] == D("1600.0")  # the receiver did not buy two new desktops
    assert facts["310000"]["co2_avoided_kg"] == 0
    scores = {s.jurisdiction.code: s for s in evaluation.scores.select_related("jurisdiction")}
    values = {code: D(s.indicators["co2_avoided"]["value"]) for code, s in scores.items()}
    assert values == {"330100": D("1600"), "310000": D("0")}
    score = {code: D(s.indicators["co2_avoided"]["score"]) for code, s in scores.items()}
    assert score["330100"] > score["310000"]  # higher is better


def test_the_demo_adds_co2_as_version_2_after_the_frozen_quarters(db):
    from django.core.management import call_command

    from evaluation.models import Evaluation, IndicatorSet
    from exchange.models import Transfer

    call_command("load_demo")
    call_command("load_demo")  # idempotent
    sets = {s.version: s for s in IndicatorSet.objects.filter(region__code="yrd")}
    assert set(sets) == {1, 2} and "co2_avoided" in {i.code for i in sets[2].indicators.all()}
    assert "co2_avoided" not in {i.code for i in sets[1].indicators.all()}
    frozen = list(Evaluation.objects.filter(region__code="yrd"))
    assert len(frozen) == 2 and {e.indicator_set.version for e in frozen} == {1}  # frozen stay as frozen
    assert all(e.period_to < sets[2].effective_from for e in frozen)
    assert all(f.source for f in CarbonFactor.objects.all()) and CarbonFactor.objects.count() == 3
    credited = Transfer.objects.filter(co2_avoided_kg__gt=0).select_related("listing__asset__asset_class")
    assert credited.exists()
    assert {t.listing.asset.asset_class.code for t in credited} <= {"2010104", "2010105", "6010301"}
    assert not Transfer.objects.filter(status="completed", listing__asset__asset_class__code="6010201",
                                       co2_avoided_kg__isnull=False).exists()  # desks: no factor, nothing


def test_on_the_scorecard_pdf_and_the_dashboard(world, client):
    from reports.builders import build_scorecard
    from reports.render import render
    from workbench.dashboard import default_period

    factor(date(2015, 1, 1), kg_per_unit=D("800"))
    completed(world)
    start, end = default_period(timezone.localdate())
    coordinator = world["users"]["coordinator"]
    scorecard = build_scorecard(world["region"], None, start, end, user=coordinator)
    by_code = {line.code: line.co2_avoided_kg for line in scorecard.lines}
    assert by_code == {"310000": D("0"), "330100": D("1600.0")}
    assert render(scorecard)[:5] == b"%PDF-"
    client.force_login(coordinator)
    response = client.get("/dashboard/")
    assert response.context["totals"]["co2_avoided_kg"] == D("1600.0")
    assert 'id="kpi-co2">1600.0<' in response.content.decode()
