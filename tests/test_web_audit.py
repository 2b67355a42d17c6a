"""Auditors' transfer search (text, agency, jurisdiction, dates, amount, certificate number) and the
CSV/XLSX export of the filtered list, cells neutralised against formula injection."""
import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from exchange.models import Transfer
from exchange.services import transfer_requests
from tests import factories_exchange as fx
from tests.conftest import count_queries


@pytest.fixture
def world(region_world):
    region_world["standards"] = fx.standard_set(region_world["region"], own_window_days=0)
    return region_world


def make_transfer(world, description="联想台式机", value="3000.00"):
    listing = fx.open_listing(world, description=description, original_value=value)
    _request, transfer = transfer_requests.create_request(world["users"]["staff_b"], listing=listing,
                                                          agency=world["agency_b"], quantity=1,
                                                          justification="办公需要")
    return transfer


def found(client, **params):
    response = client.get(reverse("web:transfers"), params)
    assert response.status_code == 200, response.context["form"].errors
    return [t.pk for t in response.context["rows"]]


def test_search_by_text_certificate_amount_dates_agency_and_jurisdiction(client, world):
    desk = make_transfer(world, description="钢木办公桌", value="1800.00")
    printer = make_transfer(world, description="=HYPERLINK 打印机", value="2600.00")
    Transfer.objects.filter(pk=printer.pk).update(certificate_code="ABCD2345EFGH")
    client.force_login(world["users"]["auditor"])
    assert set(found(client)) == {desk.pk, printer.pk}
    assert found(client, text="办公桌") == [desk.pk]
    assert found(client, certificate="abcd2345efgh") == [printer.pk]
    assert found(client, text="ABCD2345EFGH") == [printer.pk]
    assert found(client, value_min="2000") == [printer.pk]
    assert found(client, value_max="2000") == [desk.pk]
    today = timezone.localdate().isoformat()
    assert set(found(client, date_from=today, date_to=today)) == {desk.pk, printer.pk}
    assert found(client, date_from="2000-01-01", date_to="2000-01-02") == []
    assert set(found(client, agency=world["agency_a"].pk)) == {desk.pk, printer.pk}
    assert set(found(client, jurisdiction=world["city_b"].pk)) == {desk.pk, printer.pk}


def test_bad_search_input_is_a_translated_error_in_place(client, world):
    client.force_login(world["users"]["auditor"])
    response = client.get(reverse("web:transfers"), {"date_from": "2026-05-02", "date_to": "2026-05-01",
                                                     "value_min": "5", "value_max": "1"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "截止日期早于起始日期" in html and "上限低于下限" in html
    assert 'value="2026-05-02"' in html  # what was typed is kept


def test_outsiders_find_nothing(client, world):
    make_transfer(world)
    client.force_login(world["users"]["outsider"])
    assert found(client) == []


def test_csv_and_xlsx_export_the_filtered_list_with_neutralised_cells(client, world):
    from openpyxl import load_workbook

    make_transfer(world, description="钢木办公桌")
    printer = make_transfer(world, description="=HYPERLINK 打印机")
    client.force_login(world["users"]["auditor"])
    response = client.get(reverse("web:transfer_export", args=["csv"]), {"text": "打印机"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "调拨" and len(rows) == 2
    assert rows[1][0] == str(printer.pk) and rows[1][3].startswith("'=HYPERLINK")
    response = client.get(reverse("web:transfer_export", args=["xlsx"]), {"text": "打印机"},
                          HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert values[0][0] == "Transfer" and len(values) == 2
    assert values[1][3].startswith("'=") and Decimal(str(values[1][5])) == printer.value
    assert client.get(reverse("web:transfer_export", args=["exe"])).status_code == 404


def test_search_and_export_run_constant_queries(client, world):
    make_transfer(world)
    client.force_login(world["users"]["auditor"])
    client.get(reverse("web:transfers"))
    with count_queries() as one:
        client.get(reverse("web:transfers"))
        client.get(reverse("web:transfer_export", args=["csv"]))
    for _ in range(4):
        make_transfer(world)
    with count_queries() as many:
        client.get(reverse("web:transfers"))
        client.get(reverse("web:transfer_export", args=["csv"]))
    assert len(one) == len(many), (len(one), len(many))
