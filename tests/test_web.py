"""The bureau workbench pages: permissions, typed errors in place, nothing saved on bad input, every
action through the services (audited), constant SQL per page whatever the number of rows."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from exchange import models as ex
from exchange.services import approvals, handover, transfer_requests
from kernel.models import AuditEvent
from tests import factories_exchange as fx
from tests.conftest import count_queries


@pytest.fixture
def world(region_world):
    region_world["standards"] = fx.standard_set(region_world["region"], own_window_days=0)
    return region_world


def login(client, world, key):
    client.force_login(world["users"][key])
    return client


def make_transfer(world, **asset_kwargs):
    listing = fx.open_listing(world, **asset_kwargs)
    _request, transfer = transfer_requests.create_request(world["users"]["staff_b"], listing=listing,
                                                          agency=world["agency_b"], quantity=1,
                                                          justification="办公需要")
    return transfer


def request_data(world, **overrides):
    data = {"agency": world["agency_b"].pk, "quantity": 1, "justification": "新入职人员办公需要",
            "needed_by": "", "exception_justification": "", "action": "submit"}
    data.update(overrides)
    return data


@pytest.mark.parametrize("name,args", [("web:catalogue", []), ("web:map_data", []), ("web:listing", [1]),
                                       ("web:my_requests", []), ("web:approvals", []), ("web:transfer", [1]),
                                       ("web:dashboard", []), ("web:asset_new", []),
                                       ("web:transfers", []), ("web:reports", []), ("web:ledger", [])])
def test_every_page_needs_sign_in(client, db, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_catalogue_lists_visible_listings_nearest_first_and_hides_them_from_outsiders(client, world):
    listing = fx.open_listing(world)
    response = login(client, world, "staff_b").get(reverse("web:catalogue"))
    assert response.status_code == 200
    assert listing.title in response.content.decode()
    assert response.context["listings"][0].distance_m is not None  # measured from staff_b's agency
    response = login(client, world, "outsider").get(reverse("web:catalogue"))
    assert listing.title not in response.content.decode()
    assert client.get(reverse("web:listing", args=[listing.pk])).status_code == 404


def test_catalogue_filters_by_text(client, world):
    listing = fx.open_listing(world, description="联想台式机 M720")
    login(client, world, "staff_b")
    assert listing.title in client.get(reverse("web:catalogue"), {"text": "联想"}).content.decode()
    assert listing.title not in client.get(reverse("web:catalogue"), {"text": "打印机"}).content.decode()


def test_catalogue_filters_by_distance(client, world):
    listing = fx.open_listing(world)
    login(client, world, "staff_b")
    near = {"from_agency": world["agency_b"].pk}
    # Shanghai is about 165 km from Hangzhou
    assert listing.title not in client.get(reverse("web:catalogue"), near | {"within_km": "50"}).content.decode()
    assert listing.title in client.get(reverse("web:catalogue"), near | {"within_km": "300"}).content.decode()


def test_map_data_has_jurisdiction_outlines_and_listing_points(client, world):
    listing = fx.open_listing(world)
    data = login(client, world, "staff_b").get(reverse("web:map_data")).json()
    kinds = {(feat["properties"]["kind"], feat["geometry"]["type"]) for feat in data["features"]}
    assert ("jurisdiction", "MultiPolygon") in kinds
    points = [feat for feat in data["features"] if feat["properties"]["kind"] == "listing"]
    assert [p["properties"]["id"] for p in points] == [listing.pk]
    assert points[0]["geometry"]["coordinates"] == pytest.approx(list(listing.location.coords))


def test_catalogue_query_count_does_not_grow_with_rows(client, world):
    login(client, world, "staff_b")
    fx.open_listing(world)
    client.get(reverse("web:catalogue"))  # warm the per-process caches (SpatiaLite's SRS lookup)
    with count_queries() as one:
        assert client.get(reverse("web:catalogue")).status_code == 200
    for _ in range(24):
        fx.open_listing(world)
    with count_queries() as many:
        response = client.get(reverse("web:catalogue"))
    assert len(response.context["listings"]) == 20
    assert len(one) == len(many), (len(one), len(many))


def test_check_button_shows_breaches_and_saves_nothing(client, world):
    listing = fx.open_listing(world, original_value="6000.00")  # above the 5000 CNY cap
    events = AuditEvent.objects.count()
    response = login(client, world, "staff_b").post(reverse("web:listing", args=[listing.pk]),
                                                    request_data(world, action="check"))
    assert response.status_code == 200
    assert [b["code"] for b in response.context["check"]["breaches"]] == ["price_cap"]
    page = response.content.decode()
    assert 'id="check-result"' in page and "[price_cap]" in page
    assert "新入职人员办公需要" in page  # what the user typed is kept
    assert ex.TransferRequest.objects.count() == 0 and AuditEvent.objects.count() == events


def test_check_button_passes_a_request_within_standards(client, world):
    listing = fx.open_listing(world)
    response = login(client, world, "staff_b").post(reverse("web:listing", args=[listing.pk]),
                                                    request_data(world, action="check"))
    assert response.context["check"]["breaches"] == []
    assert 'data-breaches="0"' in response.content.decode()


def test_breaching_submit_shows_errors_in_place_and_keeps_input(client, world):
    listing = fx.open_listing(world, original_value="6000.00")
    response = login(client, world, "staff_b").post(reverse("web:listing", args=[listing.pk]),
                                                    request_data(world, justification="我们需要它"))
    assert response.status_code == 200
    form = response.context["form"]
    assert any("[price_cap]" in e for errors in form.errors.values() for e in errors)
    assert "[price_cap]" in response.content.decode()
    assert form["justification"].value() == "我们需要它"
    assert ex.TransferRequest.objects.count() == 0


def test_missing_justification_is_a_field_error(client, world):
    listing = fx.open_listing(world)
    response = login(client, world, "staff_b").post(reverse("web:listing", args=[listing.pk]),
                                                    request_data(world, justification="  ", quantity=1))
    assert "justification" in response.context["form"].errors
    assert 'id="errors-justification"' in response.content.decode()
    assert ex.TransferRequest.objects.count() == 0


def test_cannot_request_for_an_agency_one_does_not_act_for(client, world):
    listing = fx.open_listing(world)
    response = login(client, world, "staff_b").post(reverse("web:listing", args=[listing.pk]),
                                                    request_data(world, agency=world["agency_out"].pk))
    assert "agency" in response.context["form"].errors
    assert ex.TransferRequest.objects.count() == 0


def test_submit_creates_request_through_the_service_and_audits(client, world):
    listing = fx.open_listing(world)
    response = login(client, world, "staff_b").post(reverse("web:listing", args=[listing.pk]), request_data(world))
    transfer = ex.Transfer.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("web:transfer", args=[transfer.pk])
    assert transfer.receiver == world["agency_b"] and transfer.request.created_by == world["users"]["staff_b"]
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {"request.created", "transfer.allocated"}
    page = client.get(reverse("web:my_requests")).content.decode()
    assert listing.title in page and f"#{transfer.pk}" in page


def test_approval_queue_is_sorted_red_yellow_green_and_scoped(client, world):
    now = timezone.now()
    lights = {}
    for light, (yellow, due) in {"green": (2, 3), "red": (-2, -1), "yellow": (-1, 1)}.items():
        transfer = make_transfer(world)
        transfer.steps.update(opened_at=now - timedelta(days=3), yellow_at=now + timedelta(days=yellow),
                              due_at=now + timedelta(days=due))
        lights[transfer.pk] = light
    response = login(client, world, "bureau_a").get(reverse("web:approvals"))
    rows = list(response.context["rows"])
    assert [lights[s.transfer_id] for s in rows] == ["red", "yellow", "green"]
    assert {s.kind for s in rows} == {"giving_bureau"}
    assert 'data-light="red"' in response.content.decode()
    for key in ("staff_b", "outsider"):
        assert list(login(client, world, key).get(reverse("web:approvals")).context["rows"]) == []


def test_approval_queue_query_count_does_not_grow(client, world):
    make_transfer(world)
    login(client, world, "bureau_b")
    with count_queries() as one:
        client.get(reverse("web:approvals"))
    for _ in range(5):
        make_transfer(world)
    with count_queries() as many:
        response = client.get(reverse("web:approvals"))
    assert len(response.context["rows"]) == 6
    assert len(one) == len(many), (len(one), len(many))


def test_refusal_without_reason_is_an_error_in_place_and_changes_nothing(client, world):
    transfer = make_transfer(world)
    step = transfer.steps.get(kind="giving_bureau")
    response = login(client, world, "bureau_a").post(reverse("web:decide", args=[step.pk]), {"decision": "refuse"})
    assert response.status_code == 400
    assert "reason" in response.context["failed"]["form"].errors
    step.refresh_from_db()
    assert step.decision == "pending"


def test_step_of_another_authority_is_not_found(client, world):
    transfer = make_transfer(world)
    step = transfer.steps.get(kind="giving_bureau")
    response = login(client, world, "bureau_b").post(reverse("web:decide", args=[step.pk]), {"decision": "approve"})
    assert response.status_code == 404
    step.refresh_from_db()
    assert step.decision == "pending"


def test_approve_then_handover_completes_the_transfer(client, world):
    transfer = make_transfer(world)
    for key, kind in (("bureau_a", "giving_bureau"), ("bureau_b", "receiving_bureau")):
        step = transfer.steps.get(kind=kind)
        response = login(client, world, key).post(reverse("web:decide", args=[step.pk]), {"decision": "approve"})
        assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == "handover"
    url = reverse("web:transfer", args=[transfer.pk])
    # the giver sees the transfer but cannot confirm receipt
    assert login(client, world, "staff_a").get(url).context["can_confirm"] is False
    response = client.post(url, {"action": "handover", "received_quantity": 1, "received_condition": "good"})
    assert response.status_code == 400 and response.context["handover"].errors
    login(client, world, "staff_b")
    assert 'id="handover-form"' in client.get(url).content.decode()
    response = client.post(url, {"action": "handover", "received_quantity": 5, "received_condition": "good",
                                 "note": "外观完好"})
    assert response.status_code == 400
    assert "received_quantity" in response.context["handover"].errors
    assert response.context["handover"]["note"].value() == "外观完好"
    transfer.refresh_from_db()
    assert transfer.status == "handover"
    response = client.post(url, {"action": "handover", "received_quantity": 1, "received_condition": "good"})
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == "completed" and transfer.certificate_code
    assert AuditEvent.objects.filter(action="transfer.completed", transfer=transfer).exists()


def test_cancel_needs_a_reason(client, world):
    transfer = make_transfer(world)
    url = reverse("web:transfer", args=[transfer.pk])
    response = login(client, world, "staff_b").post(url, {"action": "cancel", "reason": ""})
    assert response.status_code == 400 and "reason" in response.context["cancel"].errors
    response = client.post(url, {"action": "cancel", "reason": "需求变化"})
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == "cancelled"


def test_transfer_page_hidden_from_outsiders(client, world):
    transfer = make_transfer(world)
    assert login(client, world, "outsider").get(reverse("web:transfer", args=[transfer.pk])).status_code == 404


def test_dashboard_shows_flows_and_red_steps_to_the_coordinator_only(client, world):
    transfer = make_transfer(world)
    transfer.steps.filter(kind="giving_bureau").update(opened_at=timezone.now() - timedelta(days=9),
                                                       yellow_at=timezone.now() - timedelta(days=5),
                                                       due_at=timezone.now() - timedelta(days=1))
    response = login(client, world, "coordinator").get(reverse("web:dashboard"))
    assert response.status_code == 200
    flow = response.context["flows"][0]
    assert (flow["giver"], flow["receiver"], flow["n"]) == (world["city_a"], world["city_b"], 1)
    assert [s.kind for s in response.context["red"]] == ["giving_bureau"]
    assert login(client, world, "staff_b").get(reverse("web:dashboard")).status_code == 404


def test_list_an_idle_asset(client, world):
    from exchange.models import AssetClass

    klass = AssetClass.objects.create(code="2010104", name_zh="台式计算机", name_en="Desktop computer",
                                      kind="equipment")
    data = {"agency": world["agency_a"].pk, "asset_class": klass.pk, "description": "戴尔台式机",
            "quantity": 2, "unit": "台", "original_value": "4200.00", "acquired_on": "2099-01-01",
            "condition": "good"}
    response = login(client, world, "staff_a").post(reverse("web:asset_new"), data)
    assert "acquired_on" in response.context["form"].errors
    assert response.context["form"]["description"].value() == "戴尔台式机"
    assert not ex.Asset.objects.exists()  # register + list is one transaction
    response = client.post(reverse("web:asset_new"), data | {"acquired_on": "2016-01-01"})
    listing = ex.Listing.objects.get()
    assert response["Location"] == reverse("web:listing", args=[listing.pk])
    assert listing.quantity == 2 and listing.asset.status == "listed"
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {"asset.registered", "listing.opened"}


def test_english_switch(client, world):
    listing = fx.open_listing(world, original_value="6000.00")
    login(client, world, "staff_b")
    assert 'lang="zh-hans"' in client.get(reverse("web:catalogue")).content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.post(reverse("web:listing", args=[listing.pk]), request_data(world, action="check"))
    page = response.content.decode()
    assert 'lang="en"' in page
    breach = response.context["check"]["breaches"][0]
    assert breach["message"] == breach["message_en"] != breach["message_zh"]


def test_report_request_progress_and_download(client, world, django_capture_on_commit_callbacks):
    from reports.models import ReportJob

    login(client, world, "coordinator")
    data = {"kind": "allocation_report", "region": world["region"].code, "jurisdiction": "",
            "period_from": "2026-02-01", "period_to": "2026-01-01"}
    response = client.post(reverse("web:reports"), data)
    assert response.status_code == 400 and "period_to" in response.context["form"].errors
    assert response.context["form"]["period_from"].value() == "2026-02-01"
    assert not ReportJob.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("web:reports"), data | {"period_from": "2026-01-01", "period_to": "2026-12-31"})
    assert response.status_code == 302
    job = ReportJob.objects.get()
    assert AuditEvent.objects.filter(action="report.requested").exists()
    page = client.get(reverse("web:reports")).content.decode()
    assert f'id="job-{job.pk}"' in page and "<progress" in page
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    response = client.get(reverse("web:report_download", args=[job.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert login(client, world, "outsider").get(reverse("web:report_download", args=[job.pk])).status_code == 404
    assert f'id="job-{job.pk}"' not in client.get(reverse("web:reports")).content.decode()


def test_certificate_from_the_transfer_page(client, world, django_capture_on_commit_callbacks):
    from reports.models import ReportJob

    transfer = make_transfer(world)
    login(client, world, "staff_b")
    response = client.post(reverse("web:reports"), {"transfer": transfer.pk}, follow=True)
    assert "只有已完成的调拨才能出具调拨单" in response.content.decode()
    assert not ReportJob.objects.exists()
    for key, kind in (("bureau_a", "giving_bureau"), ("bureau_b", "receiving_bureau")):
        approvals.decide_step(world["users"][key], transfer.steps.get(kind=kind), approve=True)
    handover.confirm_handover(world["users"]["staff_b"], transfer, received_quantity=1, received_condition="good")
    assert 'id="certificate-form"' in client.get(reverse("web:transfer", args=[transfer.pk])).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("web:reports"), {"transfer": transfer.pk}).status_code == 302
    assert ReportJob.objects.get().transfer == transfer


def test_offline_admin_map_widget_needs_no_network():
    from django.contrib.gis.geos import Point

    from workbench.widgets import OfflineMapWidget

    widget = OfflineMapWidget(attrs={"geom_type": "POINT"})
    html = widget.render("location", Point(121.47, 31.23, srid=4326))
    media = str(widget.media)
    assert "web/ol/ol.js" in media and "http" not in media
    assert "ol.source.OSM" not in html and "earthdata" not in html and "default_lon: 120" in html


def _queries(client, url):
    with count_queries() as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def test_my_requests_and_dashboard_query_counts_do_not_grow(client, world):
    make_transfer(world)
    counts = {"requests": [_queries(login(client, world, "staff_b"), reverse("web:my_requests"))],
              "dashboard": [_queries(login(client, world, "coordinator"), reverse("web:dashboard"))]}
    for _ in range(5):
        make_transfer(world)
    counts["requests"].append(_queries(login(client, world, "staff_b"), reverse("web:my_requests")))
    counts["dashboard"].append(_queries(login(client, world, "coordinator"), reverse("web:dashboard")))
    assert all(a == b for a, b in counts.values()), counts


def test_reports_page_query_count_does_not_grow(client, world):
    from reports.models import ReportJob

    def job():
        ReportJob.objects.create(kind="allocation_report", requested_by=world["users"]["coordinator"],
                                 region=world["region"], jurisdiction=world["city_a"])

    job()
    login(client, world, "coordinator")
    one = _queries(client, reverse("web:reports"))
    for _ in range(5):
        job()
    assert _queries(client, reverse("web:reports")) == one


@pytest.fixture
def window_world(region_world):
    from regions.models import AllocationMode

    region_world["standards"] = fx.standard_set(region_world["region"], own_window_days=0,
                                                mode=AllocationMode.WINDOW_CLOSE)
    return region_world


def test_window_close_request_then_withdraw_with_reason(client, window_world):
    world = window_world
    listing = fx.open_listing(world)
    response = login(client, world, "staff_b").post(reverse("web:listing", args=[listing.pk]), request_data(world))
    assert response["Location"] == reverse("web:my_requests")
    req = ex.TransferRequest.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert req.status == "pending" and f'action="/requests/{req.pk}/withdraw/"' in page
    response = client.post(reverse("web:withdraw_request", args=[req.pk]), {"reason": ""}, follow=True)
    assert "reason" in response.content.decode().lower()
    req.refresh_from_db()
    assert req.status == "pending"
    assert login(client, world, "outsider").post(reverse("web:withdraw_request", args=[req.pk]),
                                                 {"reason": "x"}).status_code == 404
    login(client, world, "staff_b").post(reverse("web:withdraw_request", args=[req.pk]), {"reason": "不再需要"})
    req.refresh_from_db()
    assert req.status == "withdrawn"
    assert AuditEvent.objects.filter(action="request.withdrawn").exists()


def test_giving_bureau_allocates_at_window_close(client, window_world):
    world = window_world
    listing = fx.open_listing(world)
    login(client, world, "staff_b").post(reverse("web:listing", args=[listing.pk]), request_data(world))
    ex.Listing.objects.filter(pk=listing.pk).update(region_window_ends_at=timezone.now())  # the window has closed
    url = reverse("web:listing", args=[listing.pk])
    assert client.get(url).context["can_allocate"] is False  # the requester's side may not allocate
    client.post(url, {"action": "allocate"})
    assert not ex.Transfer.objects.exists()
    login(client, world, "bureau_a")
    assert 'id="allocate-form"' in client.get(url).content.decode()
    assert client.post(url, {"action": "allocate"}).status_code == 302
    transfer = ex.Transfer.objects.get()
    assert transfer.receiver == world["agency_b"] and transfer.status == "approving"


def test_transfer_list_is_scoped_filterable_and_constant_in_queries(client, world):
    transfer = make_transfer(world)
    login(client, world, "bureau_a")
    one = _queries(client, reverse("web:transfers"))
    for _ in range(5):
        make_transfer(world)
    assert _queries(client, reverse("web:transfers")) == one
    assert len(client.get(reverse("web:transfers")).context["rows"]) == 6
    assert list(client.get(reverse("web:transfers"), {"status": "completed"}).context["rows"]) == []
    assert f'href="/transfers/{transfer.pk}/"' in client.get(reverse("web:transfers")).content.decode()
    assert list(login(client, world, "outsider").get(reverse("web:transfers")).context["rows"]) == []


def test_auditor_reads_transfer_trail_and_dashboard_but_cannot_act(client, world):
    transfer = make_transfer(world)
    login(client, world, "auditor")
    response = client.get(reverse("web:transfer", args=[transfer.pk]))
    assert response.status_code == 200
    assert [e.action for e in response.context["trail"]][:1] == ["transfer.allocated"]
    assert response.context["can_confirm"] is False and response.context["can_cancel"] is False
    assert client.get(reverse("web:dashboard")).status_code == 200
    assert list(client.get(reverse("web:approvals")).context["rows"]) == []
    step = transfer.steps.first()
    assert client.post(reverse("web:decide", args=[step.pk]), {"decision": "approve"}).status_code == 404
    response = client.post(reverse("web:transfer", args=[transfer.pk]), {"action": "cancel", "reason": "审计"})
    assert response.status_code == 400 and response.context["cancel"].errors
    transfer.refresh_from_db()
    assert transfer.status == "approving"


def complete(world, transfer):
    for key, kind in (("bureau_a", "giving_bureau"), ("bureau_b", "receiving_bureau")):
        approvals.decide_step(world["users"][key], transfer.steps.get(kind=kind), approve=True)
    return handover.confirm_handover(world["users"]["staff_b"], transfer, received_quantity=1,
                                     received_condition="good")


def test_ledger_balances_after_a_completed_transfer(client, world):
    transfer = complete(world, make_transfer(world))
    response = login(client, world, "bureau_b").get(reverse("web:ledger"))
    assert response.status_code == 200
    [receiver] = response.context["accounts"]
    assert receiver.jurisdiction == world["city_b"] and receiver.balance > 0  # the receiver owes
    total = response.context["rows"][0].amount
    assert total == receiver.balance
    page = client.get(reverse("web:transfer", args=[transfer.pk]))
    assert page.context["compensation"].total == total
    [giver] = login(client, world, "bureau_a").get(reverse("web:ledger")).context["accounts"]
    assert giver.jurisdiction == world["city_a"] and giver.balance == -total
    assert login(client, world, "outsider").get(reverse("web:ledger")).context["accounts"] == []
    login(client, world, "bureau_b")
    one = _queries(client, reverse("web:ledger"))
    for _ in range(3):
        complete(world, make_transfer(world))
    assert _queries(client, reverse("web:ledger")) == one
