"""Bulk asset import: validation of every row, all-or-nothing, error report, dry run, permissions, the
management command, the Celery job and the GraphQL upload mutation."""
import base64
import csv
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config import schema as project_schema
from exchange.models import Asset, ImportJob
from exchange.services import bulk_import
from kernel.errors import PermissionDenied
from kernel.models import AuditEvent
from tests import factories as f
from tests.factories import gid

HEADER = "asset_class,description,quantity,unit,original_value,acquired_on,condition,lon,lat\n"
GOOD = [
    "2010104,联想台式机 A,2,台,4500.00,2019-03-01,good,121.47,31.23",
    "2010104,联想台式机 B,1,,4499.5,2020-01-15,,121.40,31.20",
    "2010104,办公电脑 C,3,台,0,2018-06-30,fair,,",
]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """region_world hashes seven passwords; PBKDF2 makes each test's setup take seconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(region_world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    f.AssetClassFactory()
    return region_world


def csv_text(*rows):
    return HEADER + "\n".join(rows) + "\n"


def test_valid_file_imports_every_row_and_audits(world):
    agency, user = world["agency_a"], world["users"]["staff_a"]
    result = bulk_import.import_assets(user, agency, csv_text(*GOOD))
    assert result.ok and (result.total_rows, result.imported_rows) == (3, 3)
    assets = {a.description: a for a in Asset.objects.filter(agency=agency)}
    assert str(assets["联想台式机 B"].original_value) == "4499.50" and assets["联想台式机 B"].unit == "台"
    assert assets["办公电脑 C"].location == agency.location and assets["办公电脑 C"].condition == "fair"
    event = AuditEvent.objects.get(action="asset.imported")
    assert event.actor == user and event.after == {"rows": 3, "agency": agency.code}


@pytest.mark.parametrize("row, field", [
    ("9999999,未知分类,1,台,100.00,2019-01-01,good,121.47,31.23", "asset_class"),
    ("2010104,三位小数,1,台,100.005,2019-01-01,good,121.47,31.23", "original_value"),
    ("2010104,负数,1,台,-1,2019-01-01,good,121.47,31.23", "original_value"),
    ("2010104,非数字,1,台,abc,2019-01-01,good,121.47,31.23", "original_value"),
    ("2010104,未来日期,1,台,100.00,2999-01-01,good,121.47,31.23", "acquired_on"),
    ("2010104,日期格式,1,台,100.00,01/02/2019,good,121.47,31.23", "acquired_on"),
    ("2010104,数量为零,0,台,100.00,2019-01-01,good,121.47,31.23", "quantity"),
    ("2010104,杭州位置,1,台,100.00,2019-01-01,good,120.16,30.27", "lon"),
    ("2010104,坐标,1,台,100.00,2019-01-01,good,east,31.23", "lon"),
    ("2010104,状况,1,台,100.00,2019-01-01,broken,121.47,31.23", "condition"),
    (",,1,台,100.00,2019-01-01,good,121.47,31.23", "asset_class"),
])
def test_one_bad_row_imports_nothing_and_is_reported(world, row, field):
    rows = [GOOD[0], row, GOOD[1]]
    result = bulk_import.import_assets(world["users"]["staff_a"], world["agency_a"], csv_text(*rows))
    assert not result.ok and result.imported_rows == 0
    assert {(e["row"], e["field"]) for e in result.errors} >= {(3, field)}
    assert {e["row"] for e in result.errors} == {3}
    assert not Asset.objects.exists() and not AuditEvent.objects.filter(action="asset.imported").exists()


def test_missing_columns_are_reported(world):
    result = bulk_import.import_assets(world["users"]["staff_a"], world["agency_a"], "description,quantity\nx,1\n")
    assert result.errors[0]["row"] == 1 and "asset_class" in result.errors[0]["field"]


def test_outside_china_when_jurisdiction_has_no_boundary(world):
    agency = world["agency_a"]
    agency.jurisdiction.boundary = None
    result = bulk_import.import_assets(None, agency, csv_text(GOOD[0], "2010104,x,1,台,1,2019-01-01,,10.0,50.0"),
                                       system=True)
    assert [e["row"] for e in result.errors] == [3]


def test_dry_run_validates_but_writes_nothing(world):
    result = bulk_import.import_assets(world["users"]["staff_a"], world["agency_a"], csv_text(*GOOD), dry_run=True)
    assert result.ok and result.total_rows == 3 and result.imported_rows == 0
    assert not Asset.objects.exists()


def test_permission_is_checked(world):
    for user in (world["users"]["staff_b"], world["users"]["auditor"], world["users"]["coordinator"]):
        with pytest.raises(PermissionDenied):
            bulk_import.import_assets(user, world["agency_a"], csv_text(*GOOD))
    assert bulk_import.import_assets(world["users"]["bureau_a"], world["agency_a"], csv_text(*GOOD)).ok


def test_batches_and_progress(world, monkeypatch):
    monkeypatch.setattr(bulk_import, "BATCH_SIZE", 2)
    seen = []
    rows = [f"2010104,机{i},1,台,10.00,2019-01-01,good,121.47,31.23" for i in range(5)]
    result = bulk_import.import_assets(None, world["agency_a"], csv_text(*rows), system=True,
                                       progress=lambda done, total, phase: seen.append((phase, done, total)))
    assert result.imported_rows == 5 == Asset.objects.count()
    assert [s for s in seen if s[0] == "import"] == [("import", 2, 5), ("import", 4, 5), ("import", 5, 5)]


# --- command ---------------------------------------------------------------------------------------
def test_command_imports_and_writes_an_empty_report(world, tmp_path, capsys):
    path = tmp_path / "assets.csv"
    path.write_text(csv_text(*GOOD), encoding="utf-8")
    call_command("import_assets", str(path), agency=world["agency_a"].code)
    assert Asset.objects.count() == 3
    report = tmp_path / "assets.errors.csv"
    assert report.read_text(encoding="utf-8-sig").splitlines() == ["row,field,message"]
    assert "3 rows imported" in capsys.readouterr().out
    assert AuditEvent.objects.get(action="asset.imported").role == "system"


def test_command_rejects_file_with_a_bad_row_and_lists_it(world, tmp_path):
    path = tmp_path / "assets.csv"
    path.write_text(csv_text(GOOD[0], "2010104,坏,1,台,1.001,2019-01-01,,121.47,31.23"), encoding="utf-8")
    report = tmp_path / "report.csv"
    with pytest.raises(CommandError, match="1 error"):
        call_command("import_assets", str(path), agency=world["agency_a"].code, errors=str(report))
    assert not Asset.objects.exists()
    rows = list(csv.DictReader(report.open(encoding="utf-8-sig")))
    assert [(r["row"], r["field"]) for r in rows] == [("3", "original_value")]


def test_command_dry_run_and_user(world, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(csv_text(*GOOD), encoding="utf-8")
    call_command("import_assets", str(path), agency=world["agency_a"].code, dry_run=True)
    assert not Asset.objects.exists()
    with pytest.raises(CommandError):
        call_command("import_assets", str(path), agency=world["agency_a"].code, user="staff_b")
    call_command("import_assets", str(path), agency=world["agency_a"].code, user="staff_a")
    assert Asset.objects.count() == 3


# --- Celery job ------------------------------------------------------------------------------------
def test_job_runs_to_success_with_progress(world):
    user = world["users"]["staff_a"]
    job = bulk_import.start_import_job(user, world["agency_a"], filename="../a.csv",
                                       content=csv_text(*GOOD).encode())
    assert job.status == "queued" and "/" not in job.file.name.removeprefix("imports/")
    from exchange.tasks_import import run_import_job

    assert run_import_job.apply(args=[job.pk]).get()["status"] == "succeeded"
    job.refresh_from_db()
    assert (job.status, job.total_rows, job.processed_rows, job.imported_rows) == ("succeeded", 3, 3, 3)
    assert job.finished_at is not None and Asset.objects.count() == 3
    assert AuditEvent.objects.filter(action="import.finished", object_id=str(job.pk)).exists()
    assert bulk_import.run_import_job(job.pk).imported_rows == 3  # a finished job never runs twice
    assert Asset.objects.count() == 3


def test_job_fails_with_row_errors_and_imports_nothing(world):
    job = bulk_import.start_import_job(world["users"]["staff_a"], world["agency_a"], filename="a.csv",
                                       content=csv_text(GOOD[0], "2010104,x,1,台,1,2999-01-01,,,").encode())
    job = bulk_import.run_import_job(job.pk)
    assert job.status == "failed" and job.imported_rows == 0 and not Asset.objects.exists()
    assert [(e["row"], e["field"]) for e in job.errors] == [(3, "acquired_on")]


def test_job_limits_size_and_encoding(world):
    user = world["users"]["staff_a"]
    with pytest.raises(Exception, match="文件超过"):
        bulk_import.start_import_job(user, world["agency_a"], filename="a.csv",
                                     content=b"x" * (bulk_import.MAX_UPLOAD_BYTES + 1))
    with pytest.raises(Exception, match="UTF-8"):
        bulk_import.start_import_job(user, world["agency_a"], filename="a.csv", content=b"\xff\xfe\x00")
    assert not ImportJob.objects.exists()


# --- GraphQL -----------------------------------------------------------------------------------------
schema = project_schema.schema


def run(user, name, variables):
    from tests.conftest import OPERATIONS

    request = RequestFactory().post("/graphql/")
    request.user = user
    result = schema.execute((OPERATIONS / f"{name}.graphql").read_text(encoding="utf-8"), variables=variables,
                            context_value=request)
    assert not result.errors, result.errors
    return result.data


def test_upload_mutation_runs_the_job(world, django_capture_on_commit_callbacks):
    user, agency = world["users"]["staff_a"], world["agency_a"]
    with django_capture_on_commit_callbacks(execute=True):
        data = run(user, "ImportAssets", {"input": {"agencyId": gid(agency), "text": csv_text(*GOOD)}})
    payload = data["importAssets"]
    assert payload["errors"] == [] and payload["job"]["status"] == "QUEUED"
    job = ImportJob.objects.get()
    assert (job.status, job.imported_rows) == ("succeeded", 3)
    jobs = run(user, "ImportJobs", {"first": 10})["importJobs"]
    assert jobs["totalCount"] == 1 and jobs["edges"][0]["node"]["importedRows"] == 3


def test_upload_mutation_base64_with_errors_reports_rows(world, django_capture_on_commit_callbacks):
    user, agency = world["users"]["staff_a"], world["agency_a"]
    content = base64.b64encode(csv_text(GOOD[0], "2010104,x,0,台,1,2019-01-01,,,").encode()).decode()
    with django_capture_on_commit_callbacks(execute=True):
        run(user, "ImportAssets", {"input": {"agencyId": gid(agency), "contentBase64": content}})
    node = run(user, "ImportJobs", {"first": 10})["importJobs"]["edges"][0]["node"]
    assert node["status"] == "FAILED" and node["rowErrors"] == [
        {"row": 3, "field": "quantity", "message": node["rowErrors"][0]["message"]}]
    assert not Asset.objects.exists()


@pytest.mark.parametrize("extra, code", [
    ({"text": "a", "contentBase64": "YQ=="}, "INVALID"),
    ({}, "INVALID"),
    ({"contentBase64": "not base64!"}, "INVALID"),
    ({"text": "x" * (bulk_import.MAX_UPLOAD_BYTES * 2)}, "LIMIT_EXCEEDED"),
])
def test_upload_mutation_rejects_bad_input_and_changes_nothing(world, extra, code):
    data = run(world["users"]["staff_a"], "ImportAssets", {"input": {"agencyId": gid(world["agency_a"]), **extra}})
    assert data["importAssets"]["errors"][0]["code"] == code
    assert not ImportJob.objects.exists()


def test_upload_mutation_denies_other_agency(world):
    data = run(world["users"]["staff_b"], "ImportAssets",
               {"input": {"agencyId": gid(world["agency_a"]), "text": csv_text(*GOOD)}})
    assert data["importAssets"]["errors"][0]["code"] == "PERMISSION_DENIED"
    assert not ImportJob.objects.exists()


def test_import_jobs_are_scoped_and_query_count_is_constant(world):
    users = world["users"]
    for agency, user in ((world["agency_a"], users["staff_a"]), (world["agency_b"], users["staff_b"])):
        for _ in range(3):
            bulk_import.start_import_job(user, agency, filename="a.csv", content=csv_text(*GOOD).encode())
    ImportJob.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    assert run(world["users"]["staff_b"], "ImportJobs", {"first": 10})["importJobs"]["totalCount"] == 3
    assert run(world["users"]["coordinator"], "ImportJobs", {"first": 10})["importJobs"]["totalCount"] == 6
    counts = []
    for size in (1, 100):
        with CaptureQueriesContext(connection) as ctx:
            run(world["users"]["coordinator"], "ImportJobs", {"first": size})
        counts.append(len(ctx))
    assert counts[0] == counts[1]


def test_asset_numbers_import_once_and_a_repeat_is_reported_as_a_duplicate(world):
    agency, user = world["agency_a"], world["users"]["staff_a"]
    header = HEADER.rstrip("\n") + ",asset_number\n"
    first = bulk_import.import_assets(user, agency, header + GOOD[0] + ",ZC-0001\n" + GOOD[1] + ",ZC-0002\n")
    assert first.ok and first.imported_rows == 2
    assert set(Asset.objects.filter(agency=agency).values_list("asset_number", flat=True)) == {"ZC-0001", "ZC-0002"}
    before = list(Asset.objects.filter(agency=agency).order_by("pk").values_list("pk", "description", "quantity"))
    again = bulk_import.import_assets(user, agency, header + "2010104,改名,9,台,1,2019-01-01,,,,ZC-0001\n"
                                      + GOOD[2] + ",ZC-0003\n" + GOOD[2] + ",ZC-0003\n")
    assert again.imported_rows == 0
    assert [(e["row"], e["field"]) for e in again.errors] == [(2, "asset_number"), (4, "asset_number")]
    assert "ZC-0001" in again.errors[0]["message"] and "3" in again.errors[1]["message"]
    assert list(Asset.objects.filter(agency=agency).order_by("pk").values_list(
        "pk", "description", "quantity")) == before  # nothing updated, nothing added
    other = bulk_import.import_assets(world["users"]["staff_b"], world["agency_b"],
                                      header + GOOD[0].replace("121.47,31.23", ",") + ",ZC-0001\n")
    assert other.ok  # numbers are unique per agency, not across agencies


def test_registering_a_repeated_asset_number_is_a_typed_duplicate(world):
    from datetime import date

    from exchange.models import AssetClass
    from exchange.services import items
    from kernel.errors import ValidationFailed

    agency, user = world["agency_a"], world["users"]["staff_a"]
    cls = AssetClass.objects.get(code="2010104")
    kwargs = dict(agency=agency, asset_class=cls, description="台式机", original_value="100.00",
                  acquired_on=date(2020, 1, 1), asset_number="ZC-9")
    items.register_asset(user, **kwargs)
    with pytest.raises(ValidationFailed) as refused:
        items.register_asset(user, **kwargs)
    assert refused.value.code == "duplicate" and refused.value.field == "asset_number"
    assert Asset.objects.filter(agency=agency, asset_number="ZC-9").count() == 1
