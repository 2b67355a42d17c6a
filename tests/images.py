"""Real image bytes made with Pillow for upload tests."""
import io

from PIL import Image


def image_bytes(fmt="PNG", size=(8, 6), color=(200, 30, 30), exif=None):
    out = io.BytesIO()
    image = Image.new("RGB", size, color)
    options = {"exif": exif} if exif is not None else {}
    image.save(out, fmt, **options)
    return out.getvalue()
