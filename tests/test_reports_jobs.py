"""Report jobs end to end: request through GraphQL (Celery eager), status, download with scope checks,
failure and retry, public certificate verification, builders' figures from the database, the command."""
import subprocess
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from exchange.models import ApprovalStep, Listing, OfficeSpace, Transfer, TransferRequest
from kernel import audit
from kernel.models import AuditEvent
from ledger.models import CompensationBreakdown, SettlementPeriod
from ledger.services import posting
from ledger.services import settlement as ledger_settlement
from regions.services.tokens import create_token
from reports import builders, services
from reports.models import ReportJob
from tests import factories as f
from tests.conftest import OPERATIONS
from tests.factories import gid, pk_of

TZ = ZoneInfo("Asia/Shanghai")
MARCH = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def make_transfer(world, *, giver="agency_a", receiver="agency_b", value="9000.00", quantity=2, status="completed",
                  allocated=MARCH, days=6, office_m2=None, late_step=False, code=None):
    g, r = world[giver], world[receiver]
    if office_m2 is None:
        item = {"asset": f.AssetFactory(agency=g, quantity=quantity, status="transferred",
                                        description="联想启天台式计算机")}
        title = "联想启天台式计算机"
    else:
        space = OfficeSpace.objects.create(agency=g, building="人民大道 200 号", floor="5F", rooms="501-503",
                                           area_m2=Decimal(office_m2), location=g.location,
                                           available_from=date(2026, 1, 1), status="occupied")
        item, title = {"office_space": space}, "人民大道 200 号 5F 办公用房"
    listing = Listing.objects.create(
        region=world["region"], agency=g, jurisdiction=g.jurisdiction, title=title, location=g.location,
        quantity=quantity, quantity_available=0, opened_at=allocated - timedelta(days=10),
        own_window_ends_at=allocated - timedelta(days=5), region_window_ends_at=allocated, status="closed", **item)
    request = TransferRequest.objects.create(listing=listing, agency=r, quantity=quantity, justification="工作需要",
                                             status="allocated")
    done = status == "completed"
    transfer = Transfer.objects.create(
        request=request, listing=listing, region=world["region"], giver=g, receiver=r,
        giver_jurisdiction=g.jurisdiction, receiver_jurisdiction=r.jurisdiction, quantity=quantity,
        value=Decimal(value), distance_km=Decimal("164.30"), status=status, allocated_at=allocated,
        approved_at=allocated + timedelta(days=2), completed_at=allocated + timedelta(days=days) if done else None,
        received_quantity=quantity if done else None, received_condition="good" if done else "", certificate_code=code)
    users = world["users"]
    for kind, jurisdiction, user, decided in (
            ("giving_bureau", g.jurisdiction, users["bureau_a"], 1),
            ("receiving_bureau", r.jurisdiction, users["bureau_b"], 7 if late_step else 2)):
        ApprovalStep.objects.create(
            transfer=transfer, kind=kind, jurisdiction=jurisdiction, opened_at=allocated,
            yellow_at=allocated + timedelta(days=3), due_at=allocated + timedelta(days=5), decision="approved",
            decided_at=allocated + timedelta(days=decided), decided_by=user)
    if done:
        with transaction.atomic():
            audit.record(users["staff_b"], "transfer.completed", transfer, after={"status": "completed"},
                         transfer=transfer, region=world["region"])
    return transfer


@pytest.fixture
def world(region_world):
    region_world["t1"] = make_transfer(region_world, value="9000.00", late_step=True)
    region_world["t2"] = make_transfer(region_world, value="4500.50", quantity=1, allocated=MARCH + timedelta(days=31),
                                       days=4, office_m2="86.50")
    region_world["t3"] = make_transfer(region_world, giver="agency_b", receiver="agency_a", value="1200.00",
                                       status="approving", allocated=MARCH + timedelta(days=3))
    return region_world


def pdf_text(pdf, tmp_path, name="doc"):
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def request(gql, django_capture_on_commit_callbacks, **variables):
    """Request a report; the job runs (eagerly) when the mutation's transaction commits. Returns the
    payload with the job as it is afterwards."""
    with django_capture_on_commit_callbacks(execute=True):
        result = gql.operation("ReportRequest", variables)
    assert "errors" not in result, result
    payload = result["data"]["requestReport"]
    if payload["job"] is not None:
        assert payload["job"]["status"] == "QUEUED"
        payload["job"] = gql.operation("ReportJob", {"id": payload["job"]["id"]})["data"]["reportJob"]
    return payload


def download(client, job, **headers):
    response = client.get(f"/reports/download/{pk_of(job['id'])}", **headers)
    return response, b"".join(response.streaming_content) if response.status_code == 200 else None


# --- the done-when path: an auditor requests and downloads each document ----------------------------
def test_auditor_requests_and_downloads_allocation_report(gql, client, world, tmp_path,
                                                         django_capture_on_commit_callbacks):
    gql.login(world["users"]["auditor"])
    payload = request(gql, django_capture_on_commit_callbacks, kind="ALLOCATION_REPORT", regionCode="yrd-test",
                      periodFrom="2026-03-01", periodTo="2026-04-30")
    assert payload["errors"] == []
    job = gql.operation("ReportJob", {"id": payload["job"]["id"]})["data"]["reportJob"]
    assert job["status"] == "SUCCEEDED" and job["progress"] == 100 and job["pages"] >= 2
    assert job["downloadUrl"] == f"/reports/download/{pk_of(job['id'])}"
    response, pdf = download(client, job)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["X-Content-SHA256"] == job["sha256"] and len(pdf) == job["size"]
    text = pdf_text(pdf, tmp_path)
    for expected in ("公物仓调剂调拨情况报告", "测试区域", "2026-03-01 至 to 2026-04-30", "14,700.50", "上海市",
                     "杭州市", "各月调拨笔数", job["dataSha256"]):
        assert expected in text, expected
    assert AuditEvent.objects.filter(action="report.requested", object_id=str(pk_of(job["id"]))).exists()
    assert AuditEvent.objects.filter(action="report.succeeded", object_id=str(pk_of(job["id"]))).exists()
    downloaded = AuditEvent.objects.get(action="report.downloaded", object_id=str(pk_of(job["id"])))
    assert downloaded.actor == world["users"]["auditor"] and downloaded.after == {"sha256": job["sha256"]}


def test_auditor_requests_certificate_scorecard_and_gets_typed_failure_for_settlement(
        gql, client, world, tmp_path, django_capture_on_commit_callbacks):
    gql.login(world["users"]["auditor"])
    cert = request(gql, django_capture_on_commit_callbacks, kind="TRANSFER_CERTIFICATE",
                   transferId=gid(world["t1"]))["job"]
    assert cert["status"] == "SUCCEEDED", cert
    text = pdf_text(download(client, cert)[1], tmp_path, "cert")
    world["t1"].refresh_from_db()
    code = world["t1"].certificate_code
    assert len(code) == 12
    for expected in ("公物仓资产调拨单", "上海甲单位", "杭州乙单位", "9,000.00", "bureau_a", "超时 overdue", "staff_b",
                     "-".join(code[i:i + 4] for i in range(0, 12, 4)), "第 1 / 1 页"):
        assert expected in text, expected
    from ledger.models import CompensationBreakdown

    CompensationBreakdown.objects.create(  # savings come from the ledger's breakdown (value not bought − paid)
        transfer=world["t1"], standard_set=f.StandardSetFactory(region=world["region"]), total=Decimal("1234.56"),
        giver_jurisdiction=world["city_a"], receiver_jurisdiction=world["city_b"], details={},
        value_not_bought=Decimal("10000.00"), savings=Decimal("8765.44"))
    score = request(gql, django_capture_on_commit_callbacks, kind="SCORECARD", regionCode="yrd-test",
                    periodFrom="2026-03-01", periodTo="2026-04-30")["job"]
    assert score["status"] == "SUCCEEDED", score
    text = pdf_text(download(client, score)[1], tmp_path, "score")
    for expected in ("公物仓绩效评估表", "上海市", "杭州市", "8,765.44", "86.50", "33.3%", "Savings = value"):
        assert expected in text, expected
    region = world["region"]
    a, b = (posting.compensation_account(region, world[c]) for c in ("city_a", "city_b"))
    posting.post(region, on=date(2026, 3, 8), kind="compensation", description="调拨补偿 transfer", key="jobs-m1",
                 legs=[(b, "debit", Decimal("1234.56")), (a, "credit", Decimal("1234.56"))])
    with transaction.atomic():
        ledger_settlement.close_period(world["users"]["coordinator"],
                                       SettlementPeriod.objects.get(region=region, start=date(2026, 3, 1)))
    settlement = request(gql, django_capture_on_commit_callbacks, kind="SETTLEMENT_STATEMENT",
                         regionCode="yrd-test", periodFrom="2026-03-01", periodTo="2026-03-31")["job"]
    assert settlement["status"] == "SUCCEEDED", settlement
    text = pdf_text(download(client, settlement)[1], tmp_path, "settlement")
    for expected in ("区域利益补偿结算单", "上海市 310000", "杭州市 330100", "1,234.56", "-1,234.56", "待支付 pending",
                     "已关闭"):
        assert expected in text, expected


# --- scope -------------------------------------------------------------------------------------------
def test_bureau_requests_own_jurisdiction_but_not_the_region(gql, world, django_capture_on_commit_callbacks):
    gql.login(world["users"]["bureau_a"])
    own = request(gql, django_capture_on_commit_callbacks, kind="ALLOCATION_REPORT", jurisdictionCode="310000")
    assert own["errors"] == [] and own["job"]["status"] == "SUCCEEDED"
    for variables in ({"regionCode": "yrd-test"}, {"jurisdictionCode": "330100"}):
        denied = request(gql, django_capture_on_commit_callbacks, kind="ALLOCATION_REPORT", **variables)
        assert denied["job"] is None and denied["errors"][0]["code"] == "PERMISSION_DENIED"
    assert ReportJob.objects.count() == 1


def test_download_of_an_unseen_job_is_404_and_anonymous_is_401(gql, client, world, django_capture_on_commit_callbacks):
    gql.login(world["users"]["auditor"])
    job = request(gql, django_capture_on_commit_callbacks, kind="SCORECARD", regionCode="yrd-test")["job"]
    for name in ("outsider", "bureau_a", "staff_a"):
        client.force_login(world["users"][name])
        response, _ = download(client, job)
        assert response.status_code == 404, name  # as for an unknown id: ids cannot be probed
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    client.logout()
    assert download(client, job)[0].status_code == 401
    client.force_login(world["users"]["coordinator"])
    assert download(client, job)[0].status_code == 200
    assert client.get("/reports/download/999999").status_code == 404


def test_certificate_is_downloadable_by_both_parties_not_by_others(gql, client, world,
                                                                   django_capture_on_commit_callbacks):
    gql.login(world["users"]["staff_b"])
    job = request(gql, django_capture_on_commit_callbacks, kind="TRANSFER_CERTIFICATE",
                  transferId=gid(world["t1"]))["job"]
    assert job["status"] == "SUCCEEDED"
    for name, status in (("bureau_a", 200), ("bureau_b", 200), ("staff_a", 200), ("auditor", 200),
                         ("outsider", 404)):
        client.force_login(world["users"][name])
        assert download(client, job)[0].status_code == status, name
    gql.login(world["users"]["outsider"])
    denied = request(gql, django_capture_on_commit_callbacks, kind="TRANSFER_CERTIFICATE",
                     transferId=gid(world["t1"]))
    assert denied["errors"][0]["code"] == "PERMISSION_DENIED"
    assert gql.operation("ReportJob", {"id": job["id"]})["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_download_with_bearer_token(gql, client, world, django_capture_on_commit_callbacks):
    """A write token starts the job; a read-only token of the same jurisdiction may not start one (typed,
    translated refusal, no job) but downloads the finished file."""
    with transaction.atomic():
        _token, write_key = create_token(world["users"]["bureau_a"], world["city_a"], name="城市系统",
                                         can_write=True)
        _token, read_key = create_token(world["users"]["bureau_a"], world["city_a"], name="城市看板")
    jobs = ReportJob.objects.count()
    gql.token(read_key)
    refused = request(gql, django_capture_on_commit_callbacks, kind="SCORECARD", jurisdictionCode="310000")
    assert refused["job"] is None and refused["errors"][0]["code"] == "PERMISSION_DENIED"
    assert "只读" in refused["errors"][0]["message"] and ReportJob.objects.count() == jobs
    gql.token(write_key)
    job = request(gql, django_capture_on_commit_callbacks, kind="SCORECARD", jurisdictionCode="310000")["job"]
    assert job["status"] == "SUCCEEDED"
    client.logout()
    assert download(client, job, HTTP_AUTHORIZATION=f"Bearer {read_key}")[0].status_code == 200
    assert download(client, job, HTTP_AUTHORIZATION="Bearer gwc_nope_nope")[0].status_code == 401


# --- validation, failure and retry ------------------------------------------------------------------
def test_bad_input_is_a_typed_error_and_creates_nothing(gql, world, django_capture_on_commit_callbacks):
    gql.login(world["users"]["auditor"])
    cases = [
        ({"kind": "ALLOCATION_REPORT"}, "REQUIRED"),
        ({"kind": "ALLOCATION_REPORT", "regionCode": "yrd-test", "periodFrom": "2026-05-01",
          "periodTo": "2026-04-01"}, "INVALID"),
        ({"kind": "TRANSFER_CERTIFICATE"}, "REQUIRED"),
        ({"kind": "TRANSFER_CERTIFICATE", "transferId": gid(world["t3"])}, "INVALID_STATE"),
        ({"kind": "TRANSFER_CERTIFICATE", "transferId": "987654"}, "NOT_FOUND"),
        ({"kind": "SCORECARD", "jurisdictionCode": "999999"}, "NOT_FOUND"),
    ]
    for variables, code in cases:
        payload = request(gql, django_capture_on_commit_callbacks, **variables)
        assert payload["job"] is None and payload["errors"][0]["code"] == code, (variables, payload)
    assert ReportJob.objects.count() == 0


def test_failing_job_records_its_error_and_can_be_retried(gql, client, world, monkeypatch,
                                                          django_capture_on_commit_callbacks):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(builders.BUILDERS, "scorecard", broken)
    gql.login(world["users"]["auditor"])
    job = request(gql, django_capture_on_commit_callbacks, kind="SCORECARD", regionCode="yrd-test")["job"]
    assert job["status"] == "FAILED" and job["error"] == "RuntimeError: disk on fire"
    assert job["downloadUrl"] is None
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        retried = gql.operation("ReportRetry", {"jobId": job["id"]})["data"]["retryReport"]
    assert retried["errors"] == [] and retried["job"]["status"] == "QUEUED"
    done = gql.operation("ReportJob", {"id": job["id"]})["data"]["reportJob"]
    assert done["status"] == "SUCCEEDED" and done["attempts"] == 2 and done["error"] == ""
    assert download(client, done)[0].status_code == 200
    assert AuditEvent.objects.filter(action="report.retried", object_id=str(pk_of(job["id"]))).count() == 1
    again = gql.operation("ReportRetry", {"jobId": job["id"]})["data"]["retryReport"]
    assert again["errors"][0]["code"] == "INVALID_STATE"
    gql.login(world["users"]["outsider"])
    assert gql.operation("ReportRetry", {"jobId": job["id"]})["data"]["retryReport"]["errors"][0]["code"] \
        == "NOT_FOUND"


def test_a_duplicate_delivery_does_not_rerun_a_finished_job(gql, world, django_capture_on_commit_callbacks):
    gql.login(world["users"]["auditor"])
    job = request(gql, django_capture_on_commit_callbacks, kind="SCORECARD", regionCode="yrd-test")["job"]
    before = ReportJob.objects.get(pk=pk_of(job["id"]))
    services.run_job(pk_of(job["id"]))
    after = ReportJob.objects.get(pk=pk_of(job["id"]))
    assert (after.attempts, after.sha256, after.finished_at) == (before.attempts, before.sha256, before.finished_at)


# --- public verification ----------------------------------------------------------------------------
JSON = {"HTTP_ACCEPT": "application/json"}
HTML = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}  # a phone's browser


def test_verify_endpoint_returns_only_what_the_paper_holder_compares(client, world, gql,
                                                                     django_capture_on_commit_callbacks):
    transfer = make_transfer(world, code="DB202600000042")
    gql.login(world["users"]["bureau_a"])
    job = request(gql, django_capture_on_commit_callbacks, kind="TRANSFER_CERTIFICATE", transferId=gid(transfer))
    digest = ReportJob.objects.get(pk=pk_of(job["job"]["id"])).data_sha256
    client.logout()
    body = client.get("/reports/verify/db20-2600-0000-42", **JSON).json()
    assert body == {
        "valid": True, "certificateCode": "DB202600000042", "certificateNo": f"GWC-{transfer.pk:08d}",
        "giver": {"agency": "上海甲单位", "jurisdiction": "上海市", "jurisdictionCode": "310000"},
        "receiver": {"agency": "杭州乙单位", "jurisdiction": "杭州市", "jurisdictionCode": "330100"},
        "item": transfer.listing.asset.description, "quantity": transfer.quantity, "unit": transfer.listing.asset.unit,
        "completedOn": timezone.localtime(transfer.completed_at).date().isoformat(), "dataChecksums": [digest]}
    # nothing more: no value or balance, no person, no internal id, no status
    assert "9000" not in str(body) and "bureau_a" not in str(body) and "transferId" not in body
    missing = client.get("/reports/verify/NOPE-NOPE-NOPE", **JSON)
    assert missing.status_code == 404 and missing.json()["valid"] is False
    assert missing.json()["errors"][0]["extensions"] == {"code": "NOT_FOUND"}
    Transfer.objects.filter(pk=world["t3"].pk).update(certificate_code="PENDING00001")
    assert client.get("/reports/verify/PENDING00001", **JSON).status_code == 404  # not completed: not certified


def test_verify_page_for_people_scanning_the_qr_code(client, world):
    transfer = make_transfer(world, code="DB202600000043")
    page = client.get("/reports/verify/DB202600000043", **HTML)
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert "有效" in html and f"GWC-{transfer.pk:08d}" in html and "上海甲单位" in html and "杭州乙单位" in html
    assert "9000" not in html
    english = client.get("/reports/verify/DB202600000043", HTTP_ACCEPT_LANGUAGE="en", **HTML).content.decode()
    assert "Valid: this certificate was issued" in english
    missing = client.get("/reports/verify/NOPENOPENOPE", **HTML)
    assert missing.status_code == 404 and "没有已完成的调拨" in missing.content.decode()
    no_accept = client.get("/reports/verify/DB202600000043")  # no Accept header (*/*): the page too
    assert no_accept["Content-Type"].startswith("text/html")


def test_verify_is_rate_limited_per_address(client, world, settings):
    """Probing codes costs the same as checking one: after CERTIFICATE_VERIFY_RATE requests an address is
    answered 429 with Retry-After (page or JSON), while another address still verifies."""
    settings.CERTIFICATE_VERIFY_RATE = "3/m"
    make_transfer(world, code="DB202600000044")
    codes = ["DB202600000044", "NOPE00000001", "NOPE00000002"]
    assert [client.get(f"/reports/verify/{c}", REMOTE_ADDR="10.9.0.1", **JSON).status_code for c in codes] == [
        200, 404, 404]
    limited = client.get("/reports/verify/DB202600000044", REMOTE_ADDR="10.9.0.1", **JSON)
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert limited.json()["errors"][0]["extensions"] == {"code": "RATE_LIMITED"}
    page = client.get("/reports/verify/DB202600000044", REMOTE_ADDR="10.9.0.1", **HTML)
    assert page.status_code == 429 and "过于频繁" in page.content.decode()
    assert client.get("/reports/verify/DB202600000044", REMOTE_ADDR="10.9.0.2", **JSON).status_code == 200


def test_existing_certificate_code_is_kept(world, settings):
    settings.PUBLIC_BASE_URL = "https://gwc.example"
    transfer = make_transfer(world, code="DB202600000077")
    data = services.build_data("transfer_certificate", transfer_id=transfer.pk)
    assert data.certificate_code == "DB202600000077"
    assert data.verify_url == "https://gwc.example/reports/verify/DB202600000077"


# --- builders' figures ------------------------------------------------------------------------------
def test_allocation_builder_figures_and_jurisdiction_scope(world):
    data = builders.build_allocation_report(world["region"], None, date(2026, 3, 1), date(2026, 4, 30))
    assert data.transfers == 3 and data.completed == 2
    assert data.value == Decimal("14700.50")
    assert data.avg_turnaround_days == Decimal("5.0")
    assert [(m.month, m.transfers) for m in data.months] == [("2026-03", 2), ("2026-04", 1)]
    assert {(x.giver_jurisdiction, x.receiver_jurisdiction, x.transfers) for x in data.flows} == {
        ("上海市", "杭州市", 2), ("杭州市", "上海市", 1)}
    march = builders.build_allocation_report(world["region"], None, date(2026, 3, 1), date(2026, 3, 31))
    assert march.transfers == 2
    assert builders.build_allocation_report(world["region"], world["city_a"], None, None).transfers == 3
    third = f.AgencyFactory(jurisdiction=f.JurisdictionFactory(code="320100", name_zh="南京市"), name_zh="南京丁单位")
    f.MembershipFactory(region=world["region"], jurisdiction=third.jurisdiction)
    make_transfer({**world, "agency_c": third}, giver="agency_b", receiver="agency_c", value="100.00")
    assert builders.build_allocation_report(world["region"], world["city_a"], None, None).transfers == 3
    assert builders.build_allocation_report(world["region"], third.jurisdiction, None, None).transfers == 1


def test_scorecard_builder_figures(world):
    f.AssetFactory(agency=world["agency_a"], status="idle")
    f.AssetFactory(agency=world["agency_a"], status="in_use")
    t1 = world["t1"]
    CompensationBreakdown.objects.create(
        transfer=t1, standard_set=f.StandardSetFactory(region=world["region"]),
        giver_jurisdiction=t1.giver_jurisdiction, receiver_jurisdiction=t1.receiver_jurisdiction,
        handling_fee=Decimal("200.00"), total=Decimal("1000.25"), details={}, value_not_bought=Decimal("10000.00"),
        savings=Decimal("8999.75"))
    data = builders.build_scorecard(world["region"], None, date(2026, 3, 1), date(2026, 4, 30))
    lines = {line.jurisdiction: line for line in data.lines}
    sh, hz = lines["上海市"], lines["杭州市"]
    assert (sh.items_listed, sh.items_given, sh.items_taken) == (1, 2, 0)  # t1's listing opened in February
    # value not bought and savings from the breakdowns (t2, office space, counts none)
    assert (hz.items_taken, hz.value_received, hz.value_saved) == (2, Decimal("10000.00"), Decimal("8999.75"))
    assert hz.compensation_paid == Decimal("1000.25") and sh.compensation_paid == Decimal("0.00")
    assert hz.office_m2 == Decimal("86.50") == sh.office_m2
    assert sh.idle_rate == Decimal("0.500")  # transferred assets are off the record; one idle of two
    # Shanghai decided in 1, 1 and 2 days; Hangzhou in 7 (due after 5: red), 2 and 1 days
    assert sh.avg_step_days == Decimal("1.3") and sh.red_share == Decimal("0.000")
    assert hz.avg_step_days == Decimal("3.3") and hz.red_share == Decimal("0.333")
    assert any("台账" in note for note in data.notes)
    from ledger.models import SAVINGS_DEFINITION

    assert SAVINGS_DEFINITION in data.notes


def test_builders_respect_the_requesting_users_scope(world):
    data = builders.build_allocation_report(world["region"], None, None, None, user=world["users"]["outsider"])
    assert data.transfers == 0


# --- GraphQL list and command -----------------------------------------------------------------------
def test_report_jobs_list_is_scoped_and_query_count_constant(gql, world, assert_num_queries_constant):
    users = world["users"]
    for _ in range(3):
        ReportJob.objects.create(kind="scorecard", requested_by=users["auditor"], region=world["region"])
    ReportJob.objects.create(kind="scorecard", requested_by=users["bureau_a"], region=world["region"],
                             jurisdiction=world["city_a"])
    ReportJob.objects.create(kind="transfer_certificate", requested_by=users["staff_b"], region=world["region"],
                             transfer=world["t1"])
    gql.login(users["bureau_b"])
    page = gql.operation("ReportJobs", {})["data"]["reportJobs"]
    assert page["totalCount"] == 1  # the certificate of its own transfer only
    gql.login(users["auditor"])
    assert gql.operation("ReportJobs", {"kind": "SCORECARD"})["data"]["reportJobs"]["totalCount"] == 4
    query = (OPERATIONS / "ReportJobs.graphql").read_text(encoding="utf-8")
    assert_num_queries_constant(query, lambda size: {"first": size})


def test_render_report_command(world, tmp_path):
    out = tmp_path / "a.pdf"
    call_command("render_report", "allocation_report", "--region", "yrd-test", "--from", "2026-03-01",
                 "--to", "2026-04-30", "--out", str(out))
    assert "14,700.50" in pdf_text(out.read_bytes(), tmp_path, "cmd")
    out = tmp_path / "c.pdf"
    call_command("render_report", "transfer_certificate", "--transfer", str(world["t2"].pk), "--out", str(out))
    assert "人民大道 200 号" in pdf_text(out.read_bytes(), tmp_path, "cmd2")


def test_ten_thousand_transfers_from_the_database(world, tmp_path):
    """The allocation report of 10,000 transfers: built from the database and rendered by a job."""
    import time

    base = world["t1"]
    listing = base.listing
    requests = TransferRequest.objects.bulk_create(
        TransferRequest(listing=listing, agency=world["agency_b"], quantity=1, justification="批量", status="allocated")
        for _ in range(10_000))
    Transfer.objects.bulk_create(
        Transfer(request=r, listing=listing, region=world["region"], giver=world["agency_a"],
                 receiver=world["agency_b"], giver_jurisdiction=world["city_a"], receiver_jurisdiction=world["city_b"],
                 quantity=1, value=Decimal("1000.00") + i, status="completed",
                 allocated_at=MARCH + timedelta(minutes=20 * i), completed_at=MARCH + timedelta(minutes=20 * i, days=3))
        for i, r in enumerate(requests))
    job = ReportJob.objects.create(kind="allocation_report", requested_by=world["users"]["auditor"],
                                   region=world["region"], parameters={"period_from": None, "period_to": None})
    started = time.perf_counter()
    job = services.run_job(job.pk)
    seconds = time.perf_counter() - started
    assert job.status == "succeeded", job.error
    print(f"\n10,000 transfers from the DB: {job.pages} pages, {job.size:,} bytes, {seconds:.1f} s")
    assert job.pages > 150 and seconds < 120
    text = pdf_text(job.file.open("rb").read(), tmp_path, "big")
    assert "10,003" in text  # transfers counted in the totals (3 from the fixture + 10,000)
