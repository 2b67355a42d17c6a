"""The admin for back-office staff: the product's name in the header (translated), the offline map widget
on every geometry field, the settling level added through its service (audited), and no developer error
pages with DEBUG off."""
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.gis.db.models import GeometryField
from django.utils import timezone

from kernel.models import AuditEvent
from regions.models import SettlingLevel
from workbench.widgets import OfflineMapWidget


def test_every_geometry_field_of_every_admin_uses_the_offline_map():
    checked = []
    for model, model_admin in admin.site._registry.items():
        for field in model._meta.get_fields():
            if isinstance(field, GeometryField):
                formfield = model_admin.formfield_for_dbfield(field, request=None)
                assert isinstance(formfield.widget, OfflineMapWidget), (model, field.name)
                checked.append(f"{model._meta.label}.{field.name}")
    assert {"regions.Agency.location", "regions.Jurisdiction.boundary", "exchange.Asset.location"} <= set(checked)


def test_the_offline_map_renders_from_our_static_files(admin_client, region_world):
    agency = region_world["agency_a"]
    page = admin_client.get(f"/admin/regions/agency/{agency.pk}/change/").content.decode()
    assert "/static/web/ol/ol.js" in page and 'id="id_location_map"' in page
    assert "cdn." not in page.lower() and "tile.openstreetmap" not in page


def test_header_names_the_product_in_the_page_language(admin_client):
    assert "公物仓 · 共享公物仓管理后台" in admin_client.get("/admin/").content.decode()
    english = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Gongwucang · shared warehouse administration" in english


@pytest.fixture
def staff(region_world):
    get_user_model().objects.filter(username__in=["coordinator", "auditor"]).update(is_staff=True)
    return region_world


def test_the_coordinator_adds_a_settling_level_through_the_service(client, staff):
    client.force_login(staff["users"]["coordinator"])
    today = timezone.localdate()
    data = {"region": staff["region"].pk, "level": "province", "effective_from": today.isoformat()}
    response = client.post("/admin/regions/settlinglevel/add/", data)
    assert response.status_code == 200 and "最早自明日起生效" in response.content.decode()
    assert not SettlingLevel.objects.exists()
    data["effective_from"] = (today + timedelta(days=7)).isoformat()
    assert client.post("/admin/regions/settlinglevel/add/", data).status_code == 302
    row = SettlingLevel.objects.get()
    assert row.level == "province" and AuditEvent.objects.filter(action="settling_level.set").count() == 1
    data["level"] = "county"  # a level not yet in force is set again on its date
    assert client.post("/admin/regions/settlinglevel/add/", data).status_code == 302
    assert list(SettlingLevel.objects.values_list("level", flat=True)) == ["county"]
    assert client.get(f"/admin/regions/settlinglevel/{row.pk}/delete/").status_code == 403


def test_an_auditor_reads_the_settling_levels_but_adds_none(client, staff):
    client.force_login(staff["users"]["auditor"])
    assert client.get("/admin/regions/settlinglevel/").status_code == 200
    assert client.get("/admin/regions/settlinglevel/add/").status_code == 403


@pytest.mark.parametrize("language,title", [("zh-Hans", "页面不存在"), ("en", "Page not found")])
def test_missing_pages_are_ours_not_the_developer_page(client, settings, admin_user, language, title):
    settings.DEBUG = False
    client.force_login(admin_user)
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    page = response.content.decode()
    assert f"<h1>{title}</h1>" in page and "URLconf" not in page and "Traceback" not in page
