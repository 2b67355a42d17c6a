"""The inbox: notices of the steps people wait for, once each, emailed where there is an address;
GraphQL `notifications` / `markNotificationsRead`; the workbench badge."""
from datetime import timedelta

import pytest
from django.core import mail

from exchange.services import allocation, approvals, transfer_requests
from exchange.services.reminders import send_approval_reminders
from notifications.models import Notification
from notifications.services import notify
from tests import factories_exchange as fx
from tests.factories import gid
from tests.test_exchange_services import approve_all, request

INBOX = """query($unread: Boolean) { unreadNotificationCount
  notifications(unread: $unread) { totalCount edges { node { id kind message url unread } } } }"""
MARK = """mutation($input: MarkNotificationsReadInput!) { markNotificationsRead(input: $input) {
  marked unreadCount errors { field code message } } }"""


@pytest.fixture
def world(region_world):
    fx.standard_set(region_world["region"], own_window_days=0)
    for key, user in region_world["users"].items():
        user.email = f"{key}@example.org"
        user.save()
    return region_world


def kinds(user):
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_a_transfer_notifies_each_party_when_it_is_their_turn(world, django_capture_on_commit_callbacks):
    u = world["users"]
    with django_capture_on_commit_callbacks(execute=True):
        _, transfer = request(world, fx.open_listing(world))
    assert kinds(u["bureau_a"]) == kinds(u["bureau_b"]) == ["step_opened"]
    assert kinds(u["staff_b"]) == ["request_allocated"]
    assert kinds(u["coordinator"]) == [] and kinds(u["staff_a"]) == []
    assert {m.to[0] for m in mail.outbox} == {"bureau_a@example.org", "bureau_b@example.org",
                                             "staff_b@example.org"}
    step = transfer.steps.first()
    send_approval_reminders(now=step.yellow_at)
    send_approval_reminders(now=step.due_at)
    assert kinds(u["bureau_a"]) == ["step_opened", "step_red", "step_yellow"]
    with django_capture_on_commit_callbacks(execute=True):
        approve_all(world, transfer)
    assert kinds(u["staff_b"]) == ["handover_awaiting", "request_allocated"]
    note = Notification.objects.get(recipient=u["staff_b"], kind="handover_awaiting")
    assert f"#{transfer.pk}" in note.message and note.url == f"/transfers/{transfer.pk}/"
    assert note.emailed_at is not None


def test_a_refusal_notifies_the_requester_with_the_reason(world):
    u = world["users"]
    _, transfer = request(world, fx.open_listing(world))
    approvals.decide_step(u["bureau_a"], transfer.steps.get(kind="giving_bureau"), approve=False,
                          reason="该资产另有安排")
    note = Notification.objects.get(recipient=u["staff_b"], kind="request_refused")
    assert "该资产另有安排" in note.message


def test_losers_at_window_close_hear_they_were_not_allocated(region_world):
    from regions.models import AllocationMode

    ss = fx.standard_set(region_world["region"], mode=AllocationMode.WINDOW_CLOSE, own_window_days=0)
    assert ss.allocation_mode == "window_close"
    listing = fx.open_listing(region_world, quantity=1)
    staff_b = region_world["users"]["staff_b"]
    request(region_world, listing)
    other = fx.f.AgencyFactory(jurisdiction=region_world["city_b"])
    late = fx.f.user_with_role("agency_staff", other, "staff_c")
    transfer_requests.create_request(late, listing=listing, agency=other, quantity=1, justification="需要")
    allocation.allocate_at_window_close(listing, now=listing.region_window_ends_at + timedelta(seconds=1))
    assert kinds(staff_b) == ["request_allocated"]
    assert kinds(late) == ["request_refused"]
    assert "其他申领已优先分配" in Notification.objects.get(recipient=late).message


def test_notify_is_once_per_key_and_recipient(world):
    user = world["users"]["staff_a"]
    first = notify([user, user.pk], "want_matched", key="k1", params={"want": "w", "km": 3, "title": "t"})
    assert len(first) == 1
    assert notify([user], "want_matched", key="k1") == []
    assert Notification.objects.filter(recipient=user).count() == 1


def test_inbox_graphql_is_per_user_and_marks_read(world, gql):
    u = world["users"]
    mine = notify([u["staff_a"]], "loan_due", key="a", params={"loan": 1, "title": "投影仪", "due": "2026-12-05"})[0]
    notify([u["staff_a"]], "loan_due", key="b")
    theirs = notify([u["staff_b"]], "loan_due", key="c")[0]
    data = gql.login(u["staff_a"]).execute(INBOX)["data"]
    assert data["unreadNotificationCount"] == 2 and data["notifications"]["totalCount"] == 2
    assert "投影仪" in data["notifications"]["edges"][1]["node"]["message"]
    refused = gql.execute(MARK, {"input": {"ids": [gid(theirs)]}})["data"]["markNotificationsRead"]
    assert refused["errors"][0]["code"] == "PERMISSION_DENIED"
    theirs.refresh_from_db()
    assert theirs.read_at is None
    done = gql.execute(MARK, {"input": {"ids": [gid(mine)]}})["data"]["markNotificationsRead"]
    assert done == {"marked": 1, "unreadCount": 1, "errors": []}
    assert gql.execute(INBOX, {"unread": True})["data"]["notifications"]["totalCount"] == 1
    assert gql.execute(MARK, {"input": {"all": True}})["data"]["markNotificationsRead"]["unreadCount"] == 0
    node_id = data["notifications"]["edges"][0]["node"]["id"]
    peek = gql.login(u["staff_b"]).execute("query($id: ID!) { node(id: $id) { id } }", {"id": node_id})
    assert peek["data"]["node"] is None


def test_workbench_badge_and_inbox_page(world, client):
    u = world["users"]
    notify([u["staff_a"]], "disposal_pending", key="x", params={"title": "旧打印机"}, url="/")
    client.force_login(u["staff_a"])
    html = client.get("/").content.decode()
    assert 'class="badge"' in html and ">1</span>" in html
    page = client.get("/notifications/").content.decode()
    assert "旧打印机" in page
    client.post("/notifications/read/")
    assert 'class="badge"' not in client.get("/").content.decode()
