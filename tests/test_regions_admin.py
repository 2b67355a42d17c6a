"""Admin for regions: every page opens offline for staff, lists are scoped, standards go through the service."""
from datetime import timedelta

import pytest
from django.utils import timezone

from kernel.models import AuditEvent
from regions.models import ApiToken, AssetClassNorm, StandardSet
from regions.services import tokens
from tests import factories as f

PAGES = ["region", "jurisdiction", "membership", "agency", "rolebinding", "apitoken", "standardset"]


@pytest.fixture
def staff(region_world):
    for user in region_world["users"].values():
        user.is_staff = True
        user.save()
    ss = f.StandardSetFactory(region=region_world["region"])
    AssetClassNorm.objects.create(standard_set=ss, class_code="2010104", min_service_years=6)
    region_world["standard_set"] = ss
    return region_world


@pytest.mark.parametrize("who", ["coordinator", "bureau_a", "staff_a", "auditor"])
def test_every_regions_admin_page_opens_for_staff(staff, client, who):
    client.force_login(staff["users"][who])
    for page in PAGES:
        assert client.get(f"/admin/regions/{page}/").status_code == 200, page
    j = staff["city_a"]
    detail = client.get(f"/admin/regions/jurisdiction/{j.pk}/change/")
    assert detail.status_code == 200 and "MultiPolygon" in detail.content.decode()
    assert client.get(f"/admin/regions/agency/{staff['agency_a'].pk}/change/").status_code == 200
    assert client.get(f"/admin/regions/standardset/{staff['standard_set'].pk}/change/").status_code == 200


def test_token_list_is_scoped_and_revoke_goes_through_the_service(staff, client):
    from django.db import transaction

    with transaction.atomic():
        token_a, _ = tokens.create_token(staff["users"]["bureau_a"], staff["city_a"], name="a")
        token_b, _ = tokens.create_token(staff["users"]["bureau_b"], staff["city_b"], name="b")
    client.force_login(staff["users"]["bureau_a"])
    html = client.get("/admin/regions/apitoken/").content.decode()
    assert token_a.prefix in html and token_b.prefix not in html
    client.post("/admin/regions/apitoken/", {"action": "revoke", "_selected_action": [token_a.pk]})
    assert ApiToken.objects.get(pk=token_a.pk).revoked_at is not None
    assert AuditEvent.objects.filter(action="token.revoke").count() == 1


def test_coordinator_adds_a_future_version_copied_by_the_service(staff, client):
    client.force_login(staff["users"]["coordinator"])
    on = timezone.localdate() + timedelta(days=20)
    data = {"region": staff["region"].pk, "effective_from": on.isoformat(), "title": "新版", "source": "",
            "own_window_days": 7, "region_window_days": 14, "approval_working_days": 4,
            "allocation_working_days": 3, "handover_working_days": 10, "payment_working_days": 15,
            "access_request_working_days": 3, "coordinator_threshold": "50000.00", "allocation_mode": "first_come",
            "handling_fee": "200.00", "transport_rate_per_km": "3.00", "salvage_floor": "0.050",
            "purchase_search_radius_km": "300.0"}
    for prefix in ("office_norms", "class_norms", "rent_norms"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    response = client.post("/admin/regions/standardset/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    new = StandardSet.objects.get(effective_from=on)
    assert new.approval_working_days == 4 and new.class_norms.get().class_code == "2010104"  # copied
    assert AuditEvent.objects.filter(action="standards.version_created").exists()
    # a date already in force is refused by the form, nothing created
    data["effective_from"] = timezone.localdate().isoformat()
    assert client.post("/admin/regions/standardset/add/", data).status_code == 200
    assert StandardSet.objects.count() == 2


def test_set_in_force_is_read_only_and_non_coordinators_cannot_add(staff, client):
    client.force_login(staff["users"]["coordinator"])
    ss = staff["standard_set"]
    page = client.get(f"/admin/regions/standardset/{ss.pk}/change/").content.decode()
    assert 'name="handling_fee"' not in page
    client.force_login(staff["users"]["bureau_a"])
    assert client.get("/admin/regions/standardset/add/").status_code == 403
