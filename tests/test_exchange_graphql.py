"""The full path through GraphQL only: register → list → request with a standards breach refused →
request OK (first come allocates) → three parallel approvals → handover → completed; plus search by
text and distance, lights, trail, and constant query counts on every list."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone
from graphql_relay import to_global_id

from exchange.models import ApprovalStep, Listing, Transfer
from kernel.models import AuditEvent
from tests import factories as f
from tests import factories_exchange as fx
from tests.factories import gid
from tests.test_exchange_services import approve_all, request

OPS = settings.BASE_DIR / "graphql" / "operations"


def op(name):
    return (OPS / f"{name}.graphql").read_text(encoding="utf-8")


@pytest.fixture
def world(region_world):
    region_world["standards"] = fx.standard_set(region_world["region"], own_window_days=0)
    f.AssetClassFactory()
    return region_world


def payload(result, name):
    assert "errors" not in result, result
    return result["data"][name]


def register(gql, user, **overrides):
    gql.login(user)
    data = {"assetClassCode": "2010104", "description": "联想启天M437台式计算机", "quantity": 1,
            "originalValue": "4500.00", "acquiredOn": "2017-03-01", "condition": "GOOD"} | overrides
    return payload(gql.operation("RegisterAsset", {"input": data}), "registerAsset")


def test_full_path_through_graphql(gql, world):
    users = world["users"]
    # register two assets: one within the standards, one above the price cap (and young, which is no breach)
    ok = register(gql, users["staff_a"])
    assert ok["errors"] == [] and ok["asset"]["status"] == "IN_USE"
    young = register(gql, users["staff_a"], originalValue="6800.00",
                     acquiredOn=str(timezone.localdate() - timedelta(days=300)))
    listings = {}
    for key, reg in (("ok", ok), ("young", young)):
        opened = payload(gql.operation("ListingOpen", {"input": {"assetId": reg["asset"]["id"]}}), "markIdle")
        assert opened["errors"] == [], opened
        listings[key] = opened["listing"]
    assert listings["ok"]["window"] == "REGION"

    # the requester finds it by Chinese text, nearest first, with km from its own agency
    gql.login(users["staff_b"])
    found = payload(gql.operation("SearchNearbyListings", {"text": "台式计算机", "fromMyAgency": True}), "listings")
    assert found["totalCount"] == 2
    assert all(e["node"]["distanceKm"] > 150 for e in found["edges"])  # Shanghai → Hangzhou ≈ 165 km

    # a request breaching the standards is refused with every reason, and nothing is created
    refused = payload(gql.operation("RequestListing", {"input": {
        "listingId": listings["young"]["id"], "quantity": 1, "justification": "办公需要"}}), "requestListing")
    assert refused["request"] is None and len(refused["errors"]) == 1 and "price_cap" in refused["errors"][0][
        "message"]
    assert {e["code"] for e in refused["errors"]} == {"STANDARDS_BREACH"}
    assert not Transfer.objects.exists()

    # a request within the standards is allocated at once (first come) with two parallel steps, plus the
    # coordinator's because this one asks for an exception
    done = payload(gql.operation("RequestListing", {"input": {
        "listingId": listings["ok"]["id"], "quantity": 1, "justification": "新增人员办公需要",
        "exceptionRequested": True, "exceptionJustification": "演示协调机构审批"}}), "requestListing")
    assert done["errors"] == [], done
    transfer = done["transfer"]
    assert transfer["status"] == "APPROVING"
    steps = {s["kind"]: s for s in transfer["steps"]}
    assert set(steps) == {"GIVING_BUREAU", "RECEIVING_BUREAU", "COORDINATOR"}
    assert {s["light"] for s in steps.values()} == {"GREEN"}

    # a second requester loses with a typed error
    gql.login(users["bureau_b"])
    other = f.AgencyFactory(jurisdiction=world["city_b"])
    lost = payload(gql.operation("RequestListing", {"input": {
        "listingId": listings["ok"]["id"], "agencyId": gid(other), "justification": "也要"}}), "requestListing")
    assert [e["code"] for e in lost["errors"]] == ["ALREADY_ALLOCATED"]

    # three parallel approvals, each by its own authority; the wrong one is refused
    decisions = [("bureau_b", "GIVING_BUREAU", "PERMISSION_DENIED"), ("bureau_a", "GIVING_BUREAU", None),
                 ("coordinator", "COORDINATOR", None), ("bureau_b", "RECEIVING_BUREAU", None)]
    for user, kind, error in decisions:
        gql.login(users[user])
        result = payload(gql.operation("DecideApproval", {"input": {"stepId": steps[kind]["id"], "approve": True}}),
                         "decideApproval")
        if error:
            assert [e["code"] for e in result["errors"]] == [error]
        else:
            assert result["errors"] == [], result
    assert result["transfer"]["status"] == "HANDOVER"

    # handover confirmed by the receiver completes the transfer and moves ownership
    gql.login(users["staff_b"])
    confirmed = payload(gql.operation("ConfirmHandover", {"input": {
        "transferId": transfer["id"], "receivedQuantity": 1, "receivedCondition": "GOOD"}}), "confirmHandover")
    assert confirmed["errors"] == [], confirmed
    assert confirmed["transfer"]["status"] == "COMPLETED"
    assert confirmed["transfer"]["receivedAsset"]["agency"]["nameZh"] == "杭州乙单位"
    assert confirmed["transfer"]["certificateCode"]

    # the auditor reads the whole trail
    gql.login(users["auditor"])
    trail = payload(gql.operation("TransferTrail", {"transferId": transfer["id"]}), "transferTrail")
    actions = [e["node"]["action"] for e in trail["edges"] if not e["node"]["action"].startswith("ledger.")]
    assert actions[0] == "transfer.allocated" and actions[-1] == "transfer.completed"
    assert actions.count("approval.approved") == 3
    # each event names the hash chain it links into (the region's, or the global one a transaction that had
    # locked it first wrote to)
    shown = {e["node"]["hash"]: e["node"]["chain"] for e in trail["edges"]}
    assert shown == dict(AuditEvent.objects.filter(hash__in=shown).values_list("hash", "chain"))
    assert set(shown.values()) <= {world["region"].pk, None}
    gql.login(users["outsider"])
    hidden = gql.operation("TransferTrail", {"transferId": transfer["id"]})
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_bad_input_is_a_typed_error_and_changes_nothing(gql, world):
    result = register(gql, world["users"]["staff_a"], originalValue="-5")
    assert result["asset"] is None and result["errors"][0]["field"] == "originalValue"
    result = register(gql, world["users"]["staff_a"], assetClassCode="9999999")
    assert result["errors"][0]["code"] == "NOT_FOUND"
    gql.login(world["users"]["auditor"])
    result = register(gql, world["users"]["auditor"], agencyId=gid(world["agency_a"]))
    assert result["errors"][0]["code"] == "PERMISSION_DENIED"
    assert not AuditEvent.objects.exists()


def test_search_by_point_orders_nearest_first_and_limits_by_km(gql, world):
    far = f.AgencyFactory(jurisdiction=world["city_a"], location=f.Point(121.9, 31.0, srid=4326))
    near_listing = fx.open_listing(world, description="办公桌 A")
    items_far = fx.asset(far, description="办公桌 B")
    bureau = world["users"]["bureau_a"]
    from exchange.services import items

    far_listing = items.mark_idle(bureau, asset=items_far)
    gql.login(world["users"]["staff_b"])
    point = {"type": "Point", "coordinates": [121.47, 31.23]}
    page = payload(gql.operation("SearchNearbyListings", {"near": point, "text": "办公桌"}), "listings")
    assert [e["node"]["id"] for e in page["edges"]] == [gid(near_listing), gid(far_listing)]
    assert page["edges"][0]["node"]["distanceKm"] < 1 < page["edges"][1]["node"]["distanceKm"] < 60
    page = payload(gql.operation("SearchNearbyListings", {"near": point, "withinKm": 10}), "listings")
    assert [e["node"]["id"] for e in page["edges"]] == [gid(near_listing)] and page["totalCount"] == 1
    page = payload(gql.operation("SearchNearbyListings", {"jurisdictionCode": "330100"}), "listings")
    assert page["totalCount"] == 0


def _many_transfers(world, n):
    from exchange.services import items, transfer_requests

    for i in range(n):
        listing = items.mark_idle(world["users"]["staff_a"], asset=fx.asset(world["agency_a"],
                                                                              description=f"台式机 {i}"))
        transfer_requests.create_request(world["users"]["staff_b"], listing=listing, agency=world["agency_b"],
                                         quantity=1, justification="需要")


def test_lists_run_a_constant_number_of_queries(gql, world, assert_num_queries_constant):
    _many_transfers(world, 101)
    fx.open_listing(world, description="未分配")
    gql.login(world["users"]["coordinator"])
    point = {"type": "Point", "coordinates": [121.0, 31.0]}
    counts = {
        "listings": assert_num_queries_constant(op("SearchNearbyListings"), lambda n: {"first": n, "near": point},
                                                maximum=8),
        "transfers": assert_num_queries_constant(op("TransferList"), lambda n: {"first": n}, maximum=8),
        "steps": assert_num_queries_constant(op("ExchangeApprovalSteps"), lambda n: {"first": n,
                                                                                   "orderBy": "LIGHT"}, maximum=8),
    }
    gql.login(world["users"]["bureau_a"])
    now = timezone.now()
    ApprovalStep.objects.update(opened_at=now - timedelta(days=20), yellow_at=now - timedelta(days=10),
                                due_at=now - timedelta(days=1))
    counts["overdue"] = assert_num_queries_constant(op("MyOverdueSteps"), lambda n: {"first": n}, maximum=8)
    transfer = Transfer.objects.first()
    counts["trail"] = assert_num_queries_constant(op("TransferTrail"), lambda n: {"first": n,
                                                                                 "transferId": gid(transfer)})
    print("query counts", counts)


def test_steps_filter_and_sort_by_light(gql, world):
    _many_transfers(world, 2)
    first = Transfer.objects.order_by("pk").first()
    now = timezone.now()
    first.steps.update(opened_at=now - timedelta(days=3), yellow_at=now - timedelta(days=1),
                       due_at=now + timedelta(days=1))
    gql.login(world["users"]["coordinator"])
    page = payload(gql.operation("ExchangeApprovalSteps", {"light": "YELLOW"}), "approvalSteps")
    assert page["totalCount"] == 2
    assert {e["node"]["transfer"]["id"] for e in page["edges"]} == {to_global_id("Transfer", first.pk)}
    page = payload(gql.operation("ExchangeApprovalSteps", {"orderBy": "LIGHT"}), "approvalSteps")
    assert [e["node"]["light"] for e in page["edges"]] == ["YELLOW", "YELLOW", "GREEN", "GREEN"]


def test_refusal_and_cancel_through_graphql(gql, world):
    listing = fx.open_listing(world)
    _, transfer = request(world, listing)
    gql.login(world["users"]["bureau_b"])
    step = transfer.steps.get(kind="receiving_bureau")
    result = payload(gql.operation("DecideApproval", {"input": {"stepId": gid(step), "approve": False}}),
                     "decideApproval")
    assert result["errors"][0]["field"] == "reason"
    result = payload(gql.operation("DecideApproval", {"input": {"stepId": gid(step), "approve": False,
                                                                "reason": "预算不符"}}), "decideApproval")
    assert result["transfer"]["status"] == "REFUSED"
    assert Listing.objects.get(pk=listing.pk).quantity_available == 1
    _, again = request(world, listing)
    gql.login(world["users"]["staff_a"])  # the giver withdraws
    result = payload(gql.operation("TransferCancel", {"input": {"transferId": gid(again), "reason": "自用"}}),
                     "cancelTransfer")
    assert result["errors"] == [] and result["transfer"]["status"] == "CANCELLED"
    approve_all  # noqa: B018 - imported for other modules


def test_value_is_decimal_cny(gql, world):
    listing = fx.open_listing(world, original_value=Decimal("1234.50"))
    request(world, listing)
    gql.login(world["users"]["auditor"])
    page = payload(gql.operation("TransferList", {}), "transfers")
    assert page["edges"][0]["node"]["value"] == "1234.50"


def test_photo_upload_through_graphql(gql, world, settings, tmp_path):
    import base64

    settings.MEDIA_ROOT = str(tmp_path)
    asset = register(gql, world["users"]["staff_a"])["asset"]
    query = """mutation($input: AddAssetPhotoInput!) { addAssetPhoto(input: $input) {
        photo { contentType size url } errors { field code message } } }"""
    from tests.images import image_bytes

    png = image_bytes("PNG")
    ok = payload(gql.execute(query, {"input": {"assetId": asset["id"], "filename": "a.png",
                                               "contentBase64": base64.b64encode(png).decode()}}), "addAssetPhoto")
    assert ok["errors"] == [] and ok["photo"]["contentType"] == "image/png" and ok["photo"]["size"] > 0
    bad = payload(gql.execute(query, {"input": {"assetId": asset["id"], "filename": "a.txt",
                                                "contentBase64": base64.b64encode(b"hello").decode()}}),
                  "addAssetPhoto")
    assert bad["photo"] is None and bad["errors"][0]["field"] == "content"


def test_search_near_something_else_than_a_point_is_a_typed_error(gql, world):
    gql.login(world["users"]["staff_b"])
    polygon = {"type": "Polygon", "coordinates": [[[120, 30], [121, 30], [121, 31], [120, 30]]]}
    result = gql.operation("SearchNearbyListings", {"near": polygon})
    assert result["errors"][0]["extensions"] == {"code": "INVALID", "field": "near"}


@pytest.mark.postgis
def test_postgis_orders_nearest_first_with_the_knn_operator(world):
    from django.contrib.gis.geos import Point

    from exchange import selectors

    fx.open_listing(world)
    qs = selectors.listings_for(world["users"]["staff_b"], near=Point(121.47, 31.23, srid=4326))
    sql = str(qs[:10].query)
    assert "<->" in sql and "ORDER BY" in sql
    assert qs[0].distance_m.km < 1
