"""Admin: scoped lists for bureau staff, actions through the services, read-only audit trail."""
import pytest

from exchange.models import Listing
from kernel.models import AuditEvent
from tests import factories_exchange as fx


@pytest.fixture
def staff_client(client, region_world):
    fx.standard_set(region_world["region"])
    for user in region_world["users"].values():
        user.is_staff = True
        user.save()
    return client


@pytest.mark.parametrize("path", ["exchange/asset", "exchange/officespace", "exchange/listing",
                                  "exchange/transferrequest", "exchange/transfer", "exchange/approvalstep",
                                  "kernel/auditevent", "exchange/importjob", "exchange/assetclass"])
def test_changelists_open_for_bureau_staff(staff_client, region_world, path):
    fx.open_listing(region_world)
    staff_client.force_login(region_world["users"]["bureau_a"])
    assert staff_client.get(f"/admin/{path}/").status_code == 200


def test_lists_are_scoped_and_actions_use_the_services(staff_client, region_world):
    asset = fx.asset(region_world["agency_a"], description="本单位打印机")
    staff_client.force_login(region_world["users"]["bureau_b"])
    assert "本单位打印机" not in staff_client.get("/admin/exchange/asset/").content.decode()
    staff_client.force_login(region_world["users"]["bureau_a"])
    assert "本单位打印机" in staff_client.get("/admin/exchange/asset/").content.decode()
    response = staff_client.post("/admin/exchange/asset/", {"action": "mark_idle", "_selected_action": [asset.pk]})
    assert response.status_code == 302
    assert Listing.objects.get(asset=asset).status == "open"


def test_audit_events_cannot_be_changed_or_deleted_in_admin(staff_client, region_world):
    fx.open_listing(region_world)
    staff_client.force_login(region_world["users"]["auditor"])
    event = AuditEvent.objects.first()
    assert staff_client.get(f"/admin/kernel/auditevent/{event.pk}/delete/").status_code == 403
    page = staff_client.get(f"/admin/kernel/auditevent/{event.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
