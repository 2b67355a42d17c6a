"""The coordinator dashboard: KPIs per jurisdiction from the scorecard's own builder (one definition for
the page and the PDF), the monthly trend, the map outlines, the vendored chart library (no CDN),
constant SQL, one language per page, nothing for those without a regional role."""
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from reports.builders import build_scorecard
from tests import factories_exchange as fx
from tests.conftest import count_queries
from tests.test_web import complete, make_transfer
from workbench.dashboard import default_period

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def world(region_world):
    region_world["standards"] = fx.standard_set(region_world["region"], own_window_days=0)
    return region_world


def get(client, world, key="coordinator", **query):
    client.force_login(world["users"][key])
    return client.get(reverse("web:dashboard"), query)


def test_default_period_is_the_last_twelve_months():
    assert default_period(date(2026, 12, 1)) == (date(2026, 1, 1), date(2026, 12, 1))
    assert default_period(date(2026, 3, 15)) == (date(2025, 4, 1), date(2026, 3, 15))


def test_kpis_are_the_scorecard_lines_and_the_trend_counts_the_months_transfers(client, world):
    complete(world, make_transfer(world, original_value=Decimal("4500.00"), acquired_on=date(2023, 1, 1)))
    make_transfer(world)  # still approving: allocated, not received
    response = get(client, world)
    assert response.status_code == 200
    start, end = default_period(timezone.localdate())
    expected = build_scorecard(world["region"], None, start, end, user=world["users"]["coordinator"])
    board = response.context["board"]
    assert board.scorecard.lines == expected.lines
    by_code = {line.code: line for line in board.scorecard.lines}
    receiver, giver = by_code[world["city_b"].code], by_code[world["city_a"].code]
    assert (receiver.items_taken, giver.items_given) == (1, 1)
    assert receiver.compensation_paid > 0
    assert receiver.value_saved == receiver.value_received - receiver.compensation_paid
    totals = response.context["totals"]
    assert totals["transfers"] == 2 and totals["items_taken"] == 1
    assert totals["compensation_paid"] == receiver.compensation_paid
    chart = response.context["chart"]
    this_month = timezone.localdate().strftime("%Y-%m")
    assert [(m["month"], m["transfers"]) for m in chart["months"]] == [(this_month, 2)]
    assert {line["code"] for line in chart["lines"]} == {world["city_a"].code, world["city_b"].code}
    page = response.content.decode()
    assert 'id="dashboard-data"' in page and 'id="kpi-table"' in page


def test_idle_rate_by_value_weighs_the_records_by_their_value(client, world):
    fx.asset(world["agency_a"], original_value=Decimal("1000.00"), quantity=3)  # in use: 3,000
    fx.open_listing(world, original_value=Decimal("1000.00"), quantity=1)  # listed: 1,000
    response = get(client, world)
    line = next(x for x in response.context["board"].scorecard.lines if x.code == world["city_a"].code)
    assert line.idle_rate == Decimal("0.500")  # one record of two
    assert line.idle_value_rate == Decimal("0.250")  # 1,000 of 4,000


def test_a_period_that_ends_before_it_starts_is_refused_and_the_default_shown(client, world):
    response = get(client, world, region=world["region"].code, period_from="2026-05-01", period_to="2026-04-01")
    assert response.status_code == 200
    assert "period_to" in response.context["form"].errors
    assert (response.context["period_from"], response.context["period_to"]) == default_period(timezone.localdate())


def test_scorecard_pdf_is_one_click_away(client, world):
    response = get(client, world, region=world["region"].code, period_from="2026-01-01", period_to="2026-06-30")
    page = response.content.decode()
    assert f'action="{reverse("web:reports")}"' in page and 'name="kind" value="scorecard"' in page
    form = re.search(r'<form method="post" action="[^"]+" class="card" id="scorecard-request">(.*?)</form>', page, re.S)
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(1)))
    assert fields["region"] == world["region"].code and fields["period_to"] == "2026-06-30"
    fields.pop("csrfmiddlewaretoken")
    assert client.post(reverse("web:reports"), fields).status_code == 302
    from reports.models import ReportJob

    job = ReportJob.objects.get(kind="scorecard")
    assert job.parameters["period_from"] == "2026-01-01" and job.region == world["region"]


def test_map_outlines_are_the_region_settling_jurisdictions(client, world):
    client.force_login(world["users"]["coordinator"])
    data = client.get(reverse("web:dashboard_outlines")).json()
    codes = {f["properties"]["name"] for f in data["features"]}
    assert codes == {world["city_a"].code, world["city_b"].code}  # not the city outside the region
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in data["features"])


@pytest.mark.parametrize("key", ["staff_a", "bureau_b", "outsider"])
def test_dashboard_is_for_coordinators_and_auditors_only(client, world, key):
    assert get(client, world, key).status_code == 404
    assert client.get(reverse("web:dashboard_outlines")).status_code == 404
    assert get(client, world, "auditor").status_code == 200


def test_dashboard_query_count_does_not_grow_with_transfers(client, world):
    complete(world, make_transfer(world))
    get(client, world)  # warm: session, cached principal
    with count_queries() as first:
        assert get(client, world).status_code == 200
    for _ in range(4):
        complete(world, make_transfer(world))
        make_transfer(world)
    with count_queries() as later:
        assert get(client, world).status_code == 200
    assert len(later) == len(first), (len(first), len(later))


def test_echarts_is_vendored_and_no_script_comes_from_another_host(client, world):
    path = finders.find("web/echarts/echarts.min.js")
    assert path and Path(path).stat().st_size > 500_000
    assert 'version:"6.1.0"' in Path(path).read_text(encoding="utf-8")
    assert (Path(path).parent / "LICENSE").read_text().lstrip().startswith("Apache License")
    page = get(client, world).content.decode()
    sources = re.findall(r'<script[^>]+src="([^"]+)"', page)
    assert f"{settings.STATIC_URL}web/echarts/echarts.min.js" in sources
    assert not [s for s in sources if s.startswith(("http:", "https:", "//"))]


def test_one_language_per_page(client, world):
    complete(world, make_transfer(world))
    client.force_login(world["users"]["coordinator"])
    english = client.get(reverse("web:dashboard"), HTTP_ACCEPT_LANGUAGE="en")
    text = english.content.decode()
    labels = json.loads(re.search(r'id="dashboard-data"[^>]*>(.*?)</script>', text, re.S).group(1))["labels"]
    assert labels["saved"] == "Savings (CNY)" and not any(CJK.search(v) for v in labels.values())
    table = re.search(r'<table id="kpi-table">(.*?)</table>', text, re.S).group(1)
    assert not CJK.search(table), table[:500]  # jurisdiction names in English too
    chinese = client.get(reverse("web:dashboard"), HTTP_ACCEPT_LANGUAGE="zh-Hans")
    table = re.search(r'<table id="kpi-table">(.*?)</table>', chinese.content.decode(), re.S).group(1)
    headers = re.findall(r"<th>(.*?)</th>", table)
    assert headers and all(CJK.search(h) for h in headers if h != "PDF"), headers
