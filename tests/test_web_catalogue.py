"""Register an asset with photos (type and size checked by the service), thumbnails in the catalogue and
on the item page served through the permission layer; the catalogue's class filter and sort; the map
groups listings at one address and carries the radius of a distance filter."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from exchange import models as ex
from tests import factories as f
from tests import factories_exchange as fx
from tests.images import image_bytes

PNG = image_bytes("PNG")


@pytest.fixture
def world(region_world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    region_world["standards"] = fx.standard_set(region_world["region"], own_window_days=0)
    return region_world


def asset_data(world, asset_class, **overrides):
    data = {"agency": world["agency_a"].pk, "asset_class": asset_class.pk, "description": "惠普激光打印机",
            "quantity": "2", "unit": "台", "original_value": "2600.00", "acquired_on": "2020-05-01",
            "condition": "good"}
    data.update(overrides)
    return data


def test_register_with_photos_then_thumbnails_for_requesters_only(client, world):
    printer = f.AssetClassFactory(code="2010601", name_zh="打印机", name_en="Printer")
    client.force_login(world["users"]["staff_a"])
    photos = [SimpleUploadedFile("a.png", PNG, "image/png"), SimpleUploadedFile("b.png", PNG, "image/png")]
    response = client.post(reverse("web:asset_new"), asset_data(world, printer, photos=photos))
    assert response.status_code == 302, response.context["form"].errors
    listing = ex.Listing.objects.get(title__contains="惠普激光打印机")
    shots = list(listing.asset.photos.order_by("id"))
    assert len(shots) == 2 and shots[0].content_type == "image/png"
    client.force_login(world["users"]["staff_b"])  # another city's staff finds it
    catalogue = client.get(reverse("web:catalogue")).content.decode()
    assert reverse("web:photo", args=[shots[0].pk]) in catalogue
    item = client.get(reverse("web:listing", args=[listing.pk])).content.decode()
    assert all(reverse("web:photo", args=[s.pk]) in item for s in shots)
    image = client.get(reverse("web:photo", args=[shots[0].pk]))
    with shots[0].file.open("rb") as stored:  # the re-encoded file (exchange.services.images)
        assert image.status_code == 200 and b"".join(image.streaming_content) == stored.read()
    assert image["Content-Type"] == "image/png" and "sandbox" in image["Content-Security-Policy"]
    client.force_login(world["users"]["outsider"])
    assert client.get(reverse("web:photo", args=[shots[0].pk])).status_code == 404


def test_a_photo_that_is_not_an_image_is_an_error_on_the_field_and_saves_nothing(client, world):
    printer = f.AssetClassFactory(code="2010601")
    client.force_login(world["users"]["staff_a"])
    fake = SimpleUploadedFile("x.png", b"MZ\x90\x00 not an image", "image/png")
    response = client.post(reverse("web:asset_new"), asset_data(world, printer, photos=[fake]))
    assert response.status_code == 200
    assert response.context["form"].errors["photos"] == ["照片须为可解码的 JPEG、PNG 或 WebP 图片。"]
    assert not ex.Asset.objects.filter(description="惠普激光打印机").exists()
    assert 'value="惠普激光打印机"' in response.content.decode()  # kept


def test_class_filter_and_sort(client, world):
    desk_class = f.AssetClassFactory(code="6010201", name_zh="办公桌", name_en="Office desk")
    desk = fx.open_listing(world, asset_class=desk_class, description="钢木办公桌")
    computer = fx.open_listing(world, description="台式机")
    client.force_login(world["users"]["staff_b"])
    rows = client.get(reverse("web:catalogue"), {"asset_class": desk_class.pk}).context["listings"]
    assert [r.pk for r in rows] == [desk.pk]
    newest = client.get(reverse("web:catalogue"), {"order": "newest"}).context["listings"]
    assert [r.pk for r in newest][:2] == [computer.pk, desk.pk]
    oldest = client.get(reverse("web:catalogue"), {"order": "oldest"}).context["listings"]
    assert [r.pk for r in oldest][:2] == [desk.pk, computer.pk]
    english = client.get(reverse("web:catalogue"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "6010201 Office desk" in english


def test_map_groups_one_address_and_carries_the_radius(client, world):
    one, two = fx.open_listing(world), fx.open_listing(world)  # same agency: same point
    client.force_login(world["users"]["staff_b"])
    data = client.get(reverse("web:map_data"), {"from_agency": world["agency_b"].pk,
                                                "within_km": "300"}).json()
    points = {tuple(p["geometry"]["coordinates"]) for p in data["features"] if p["properties"]["kind"] == "listing"}
    ids = {p["properties"]["id"] for p in data["features"] if p["properties"]["kind"] == "listing"}
    assert ids == {one.pk, two.pk} and len(points) == 1
    assert data["radius"]["km"] == 300
    assert data["radius"]["lon"] == pytest.approx(world["agency_b"].location.x)
    assert "radius" not in client.get(reverse("web:map_data")).json()
