"""Hostile uploads: polyglot "photos", SVG, EXIF, decompression bombs, import files — over HTTP."""
import base64
import io

import pytest
from graphql_relay import to_global_id
from PIL import Image

from exchange.models import AssetPhoto
from kernel.models import AuditEvent
from tests import factories as f
from tests.images import image_bytes

ADD_PHOTO = """mutation($input: AddAssetPhotoInput!) { addAssetPhoto(input: $input) {
    photo { contentType size url } errors { field code message } } }"""


@pytest.fixture
def uploader(gql, region_world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    asset = f.AssetFactory(agency=region_world["agency_a"])
    gql.login(region_world["users"]["staff_a"])

    def upload(content, filename="photo.jpg"):
        result = gql.execute(ADD_PHOTO, {"input": {"assetId": to_global_id("Asset", asset.pk), "filename": filename,
                                                   "contentBase64": base64.b64encode(content).decode()}})
        assert "errors" not in result, result
        return result["data"]["addAssetPhoto"]

    upload.asset = asset
    return upload


HTML = b"<html><body><script>document.title='pwned'</script></body></html>"


def test_jpeg_signature_followed_by_html_is_refused(uploader):
    out = uploader(b"\xff\xd8\xff\xe0" + HTML, "evil.html")
    assert out["photo"] is None
    assert out["errors"] == [{"field": "content", "code": "INVALID",
                              "message": "Photos must be JPEG, PNG or WebP images that can be decoded."}
                             ] or out["errors"][0]["field"] == "content"
    assert not AssetPhoto.objects.exists()


def test_real_jpeg_with_appended_html_is_reencoded_under_a_generated_name(uploader, client):
    out = uploader(image_bytes("JPEG") + HTML, "evil.html")
    assert out["errors"] == []
    photo = AssetPhoto.objects.get()
    assert photo.file.name.endswith(".jpg") and "evil" not in photo.file.name
    stored = photo.file.read()
    assert b"<script" not in stored and stored.startswith(b"\xff\xd8\xff")
    assert out["photo"]["contentType"] == "image/jpeg"
    response = client.get(out["photo"]["url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="{photo.file.name.rsplit("/", 1)[-1]}"'
    assert "sandbox" in response["Content-Security-Policy"] and "default-src 'none'" in response[
        "Content-Security-Policy"]
    assert b"<script" not in b"".join(response.streaming_content)


def test_svg_is_refused(uploader):
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for name in ("a.svg", "a.png"):
        out = uploader(svg, name)
        assert out["photo"] is None and out["errors"][0]["field"] == "content"
        assert out["errors"][0]["code"] == "INVALID" and "SVG" in out["errors"][0]["message"]
    assert not AssetPhoto.objects.exists()


def test_gif_and_garbage_are_refused_with_a_typed_error(uploader):
    for content in (image_bytes("GIF"), b"hello", b"", b"\x89PNG\r\n\x1a\n" + b"\0" * 40):
        out = uploader(content, "x.png")
        assert out["photo"] is None and out["errors"][0]["code"] == "INVALID", out


def test_exif_is_stripped(uploader):
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"  # Make
    exif[0x8825] = {2: (31.0, 14.0, 0.0)}  # GPS latitude
    jpeg = image_bytes("JPEG", exif=exif.tobytes())
    assert b"SecretCameraMaker" in jpeg
    out = uploader(jpeg)
    assert out["errors"] == []
    stored = AssetPhoto.objects.get().file.read()
    assert b"SecretCameraMaker" not in stored and b"Exif" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()


def test_decompression_bomb_is_refused(uploader):
    bomb = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(bomb, "PNG")  # 100 Mpx in a few KB
    out = uploader(bomb.getvalue(), "bomb.png")
    assert out["photo"] is None and out["errors"][0]["code"] == "LIMIT_EXCEEDED"


def test_photo_name_dot_dot_is_not_internal(uploader):
    out = uploader(image_bytes("PNG"), "..")
    assert out["errors"] == [] and AssetPhoto.objects.get().file.name.endswith(".png")
    assert AuditEvent.objects.filter(action="asset.photo_added").get().after["sent_as"] == ".."


def test_photos_are_served_only_to_those_who_see_the_asset(uploader, client, region_world):
    url = uploader(image_bytes("PNG"))["photo"]["url"]
    client.force_login(region_world["users"]["outsider"])
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def test_import_files_are_never_served(gql, region_world, settings, tmp_path, client):
    from exchange.models import ImportJob

    settings.MEDIA_ROOT = str(tmp_path / "media")
    gql.login(region_world["users"]["staff_a"])
    data = {"agencyId": to_global_id("Agency", region_world["agency_a"].pk), "filename": "evil.html", "dryRun": True,
            "text": "asset_class,description\n<script>x</script>,y\n"}
    result = gql.execute("""mutation($input: ImportAssetsInput!) { importAssets(input: $input) {
        errors { code } } }""", {"input": data})
    assert "errors" not in result, result
    job = ImportJob.objects.get()
    assert job.file.name.endswith(".csv") and "evil" not in job.file.name
    client.force_login(region_world["users"]["staff_a"])  # not even to the uploader
    for url in (f"/media/{job.file.name}", "/media/imports/", "/media/", f"/imports/{job.pk}/file"):
        assert client.get(url).status_code == 404
