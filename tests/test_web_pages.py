"""Workbench pages for office space, my listings (withdraw), asset import (CSV/XLSX, dry run, per-row
errors, progress) and API tokens (created with the key shown once, listed, revoked): every action through
its service (audited), typed errors in place, nothing saved on bad input, constant SQL per list."""
import io
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from exchange import models as ex
from kernel.models import AuditEvent
from regions.models import ApiToken
from regions.services.tokens import authenticate
from tests import factories_exchange as fx
from tests.conftest import count_queries
from tests.test_web import make_transfer


@pytest.fixture
def world(region_world):
    region_world["standards"] = fx.standard_set(region_world["region"], own_window_days=0)
    ex.AssetClass.objects.get_or_create(code="2010104", defaults={
        "name_zh": "台式计算机", "name_en": "Desktop computer", "kind": "equipment"})
    return region_world


def as_user(client, world, key):
    client.force_login(world["users"][key])
    return client


# --- office space ---------------------------------------------------------------------------------
def office_data(world, **overrides):
    data = {"agency": world["agency_a"].pk, "building": "市府大楼", "floor": "5", "rooms": "501-503",
            "area_m2": "86.50", "available_from": timezone.localdate().isoformat(), "available_to": "",
            "list_now": "on"}
    data.update(overrides)
    return data


def test_office_space_is_registered_and_listed_at_once(client, world):
    response = as_user(client, world, "staff_a").post(reverse("web:office_space_new"), office_data(world))
    listing = ex.Listing.objects.get(office_space__building="市府大楼")
    assert response.status_code == 302 and response["Location"] == reverse("web:listing", args=[listing.pk])
    assert listing.office_space.area_m2 == 86.5 and listing.office_space.status == "listed"
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {"office_space.registered", "listing.opened"}


def test_office_space_errors_stay_on_their_fields_and_nothing_is_saved(client, world):
    today = timezone.localdate()
    response = as_user(client, world, "staff_a").post(reverse("web:office_space_new"), office_data(
        world, available_to=(today - timedelta(days=1)).isoformat()))
    assert response.status_code == 400
    assert response.context["form"].errors["available_to"]  # the service's rule, on the field typed
    assert response.context["form"]["building"].value() == "市府大楼"  # what was typed is kept
    assert not ex.OfficeSpace.objects.exists() and not AuditEvent.objects.filter(action__startswith="office").exists()


def test_office_space_page_is_for_those_who_act_for_an_agency(client, world):
    assert as_user(client, world, "coordinator").get(reverse("web:office_space_new")).status_code == 404
    response = as_user(client, world, "staff_a").post(reverse("web:office_space_new"),
                                                     office_data(world, agency=world["agency_b"].pk))
    assert response.status_code == 400 and "agency" in response.context["form"].errors
    assert not ex.OfficeSpace.objects.exists()


# --- my listings ----------------------------------------------------------------------------------
def test_my_listings_shows_mine_with_waiting_requests_and_withdraws_through_the_service(client, world):
    transfer_listing = make_transfer(world).listing
    other = fx.open_listing(world)
    transfer_requests_pending = ex.TransferRequest.objects.filter(listing=other)
    response = as_user(client, world, "staff_a").get(reverse("web:my_listings"))
    assert {row.pk for row in response.context["rows"]} == {transfer_listing.pk, other.pk}
    assert as_user(client, world, "staff_b").get(reverse("web:my_listings")).context["rows"].paginator.count == 0
    url = reverse("web:withdraw_listing", args=[other.pk])
    response = as_user(client, world, "staff_a").post(url, {"reason": ""})
    assert response.status_code == 400 and response.context["failed"]["form"].errors["reason"]
    other.refresh_from_db()
    assert other.status == "open"
    response = client.post(url, {"reason": "本单位继续使用"})
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.status == "withdrawn" and other.asset.status == "idle" and not transfer_requests_pending.exists()
    assert AuditEvent.objects.filter(action="listing.withdrawn").count() == 1
    assert as_user(client, world, "staff_b").post(url, {"reason": "x"}).status_code == 404  # not theirs


def test_my_listings_query_count_does_not_grow(client, world):
    fx.open_listing(world)
    as_user(client, world, "staff_a").get(reverse("web:my_listings"))
    with count_queries() as first:
        assert client.get(reverse("web:my_listings")).status_code == 200
    for _ in range(5):
        make_transfer(world)
    with count_queries() as later:
        assert client.get(reverse("web:my_listings")).status_code == 200
    assert len(first) == len(later)


# --- import ---------------------------------------------------------------------------------------
HEADER = "asset_class,description,quantity,unit,original_value,acquired_on,condition,lon,lat,asset_number\n"


@pytest.fixture
def run_jobs(settings, django_capture_on_commit_callbacks):
    """Import jobs run as soon as the upload commits (eager Celery), as `make run`'s worker would."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    return django_capture_on_commit_callbacks


def upload(client, world, content, name="assets.csv", dry_run=False, run_jobs=None):
    data = {"agency": world["agency_a"].pk, "file": SimpleUploadedFile(name, content)}
    if dry_run:
        data["dry_run"] = "on"
    if run_jobs is None:
        return client.post(reverse("web:imports"), data)
    with run_jobs(execute=True):
        return client.post(reverse("web:imports"), data)


def test_a_csv_with_bad_rows_imports_nothing_and_lists_each_row_error(client, world, run_jobs):
    text = (HEADER + "2010104,台式机,2,台,4500,2022-03-01,good,,,A-1\n2010104,,1,台,4500,2022-03-01,good,,,A-2\n"
            "2010104,显示器,0,台,4500,2022-03-01,good,,,A-3\n")
    response = upload(as_user(client, world, "staff_a"), world, text.encode(), run_jobs=run_jobs)
    job = ex.ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("web:import_job", args=[job.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200 and page.context["job"].status == "failed"
    errors = page.context["errors"]
    assert {(e["row"], e["field"]) for e in errors} == {(3, "description"), (4, "quantity")}
    assert 'id="row-errors"' in page.content.decode()
    assert not ex.Asset.objects.filter(asset_number__in=["A-1", "A-2"]).exists()


def test_a_dry_run_checks_and_imports_nothing_then_the_import_creates_the_assets(client, world, run_jobs):
    text = (HEADER + "2010104,台式机,2,台,4500,2022-03-01,good,,,A-1\n").encode()
    as_user(client, world, "staff_a")
    upload(client, world, text, dry_run=True, run_jobs=run_jobs)
    job = ex.ImportJob.objects.get()
    assert (job.status, job.dry_run, job.total_rows) == ("succeeded", True, 1) and not ex.Asset.objects.exists()
    upload(client, world, text, run_jobs=run_jobs)
    assert ex.Asset.objects.get(asset_number="A-1").quantity == 2
    rows = client.get(reverse("web:imports")).context["rows"]
    assert [j.imported_rows for j in rows] == [1, 0]


def test_an_xlsx_workbook_is_read_as_its_first_sheet(client, world, run_jobs):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(["2010104", "台式机（表格）", 3, "台", 4500.5, date(2021, 5, 6), "good", None, None, "X-9"])
    sheet.append([None] * 10)  # blank rows at the end of a sheet are skipped
    out = io.BytesIO()
    book.save(out)
    response = upload(as_user(client, world, "staff_a"), world, out.getvalue(), name="资产.xlsx",
                      run_jobs=run_jobs)
    assert response.status_code == 302
    asset = ex.Asset.objects.get(asset_number="X-9")
    assert (asset.quantity, str(asset.original_value), asset.acquired_on) == (3, "4500.50", date(2021, 5, 6))
    assert ex.ImportJob.objects.get().file.name.endswith(".csv")


def test_an_unreadable_file_is_refused_on_the_form(client, world):
    response = upload(as_user(client, world, "staff_a"), world, b"PK\x03\x04 not a workbook", name="x.xlsx")
    assert response.status_code == 400 and response.context["form"].errors["file"]
    response = upload(client, world, "规格".encode("gbk"), name="gbk.csv")
    assert response.status_code == 400 and response.context["form"].errors["file"]
    assert not ex.ImportJob.objects.exists()


def test_import_jobs_are_seen_by_their_agency_only(client, world, run_jobs):
    text = HEADER + "2010104,台式机,1,台,1,2022-03-01,good,,,\n"
    upload(as_user(client, world, "staff_a"), world, text.encode(), run_jobs=run_jobs)
    job = ex.ImportJob.objects.get()
    assert as_user(client, world, "staff_b").get(reverse("web:import_job", args=[job.pk])).status_code == 404
    assert client.get(reverse("web:imports")).context["rows"].paginator.count == 0
    response = upload(client, world, b"x", run_jobs=run_jobs)  # staff_b may not import for agency A: not a choice
    assert response.status_code == 400 and "agency" in response.context["form"].errors


# --- API tokens -----------------------------------------------------------------------------------
def test_a_token_is_created_with_its_key_shown_once_then_listed_and_revoked(client, world):
    as_user(client, world, "bureau_a")
    response = client.post(reverse("web:tokens"), {"jurisdiction": world["city_a"].pk, "name": "上海资产系统",
                                                   "days": 30})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    key = response.context["created"]["key"]
    assert key.startswith("gwc_") and key in response.content.decode()
    token = ApiToken.objects.get()
    assert (token.name, token.can_write, token.jurisdiction) == ("上海资产系统", False, world["city_a"])
    assert authenticate(key).api_token == token
    listed = client.get(reverse("web:tokens")).content.decode()
    assert "上海资产系统" in listed and key not in listed and token.prefix in listed
    assert client.post(reverse("web:token_revoke", args=[token.pk])).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert list(AuditEvent.objects.filter(action__startswith="token.").values_list("action", flat=True).order_by(
        "id")) == ["token.create", "token.revoke"]


def test_token_errors_and_scope(client, world):
    as_user(client, world, "bureau_a")
    response = client.post(reverse("web:tokens"), {"jurisdiction": world["city_b"].pk, "name": "", "days": 999})
    assert response.status_code == 400
    assert {"jurisdiction", "name", "days"} <= set(response.context["form"].errors)
    assert not ApiToken.objects.exists()
    as_user(client, world, "bureau_b").post(reverse("web:tokens"), {"jurisdiction": world["city_b"].pk,
                                                                    "name": "杭州", "days": 10})
    token = ApiToken.objects.get()
    as_user(client, world, "bureau_a")
    assert client.get(reverse("web:tokens")).context["rows"].paginator.count == 0  # another city's token
    assert client.post(reverse("web:token_revoke", args=[token.pk])).status_code == 404
    assert as_user(client, world, "staff_a").get(reverse("web:tokens")).status_code == 404


def test_an_open_listing_is_corrected_until_someone_requests_it(client, world):
    listing = fx.open_listing(world, quantity=3)
    url = reverse("web:edit_listing", args=[listing.pk])
    as_user(client, world, "staff_a")
    assert client.get(url).context["form"]["description"].value() == listing.asset.description
    response = client.post(url, {"description": "", "condition": "fair"})
    assert response.status_code == 400 and response.context["form"].errors["description"]
    response = client.post(url, {"description": "联想台式机 M720（已核对）", "condition": "fair"})
    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.title == "联想台式机 M720（已核对）" and listing.asset.condition == "fair"
    assert "已核对" in listing.search_text
    event = AuditEvent.objects.get(action="listing.edited")
    assert event.after == {"description": "联想台式机 M720（已核对）", "condition": "fair"}
    assert as_user(client, world, "staff_b").get(url).status_code == 404  # not theirs
    from exchange.services import transfer_requests

    transfer_requests.create_request(world["users"]["staff_b"], listing=listing, agency=world["agency_b"],
                                     quantity=1, justification="办公需要")
    response = as_user(client, world, "staff_a").post(url, {"description": "改", "condition": "good"})
    assert response.status_code == 400 and response.context["form"].non_field_errors()
    listing.refresh_from_db()
    assert listing.title == "联想台式机 M720（已核对）"  # a requested listing is not rewritten
