"""Uploaded images are never stored as sent: Pillow decodes them and writes a fresh file of the decoded
format, so EXIF (GPS positions, serial numbers), comments and anything appended after the image data
(HTML, scripts, archives) are dropped, and the stored bytes are what the content type says.

SVG (XML that a browser runs scripts in), and anything Pillow cannot decode as JPEG, PNG or WebP, is refused.
"""
import io
import uuid
import warnings
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from kernel.errors import LimitExceeded, ValidationFailed

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a decompression bomb (small file, huge canvas) is refused before decoding
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int

    def generated_name(self):
        """A random name with the extension of the decoded format; the client's file name is never used."""
        return f"{uuid.uuid4().hex}.{self.extension}"


def reencode(content: bytes, field="content") -> CleanImage:
    if len(content) > MAX_BYTES:
        raise LimitExceeded(_("A photo may be at most 5 MB."), field=field)
    head = content[:512].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head:
        raise ValidationFailed(_("SVG images are not accepted; send a JPEG, PNG or WebP photo."), field=field)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=list(FORMATS)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise LimitExceeded(_("A photo may have at most 40 million pixels."), field=field)
                source_format = image.format
                image.load()
                image = ImageOps.exif_transpose(image)  # keep the orientation the EXIF said, then drop EXIF
    except LimitExceeded:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise LimitExceeded(_("A photo may have at most 40 million pixels."), field=field) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ValidationFailed(_("Photos must be JPEG, PNG or WebP images that can be decoded."),
                               field=field) from exc
    content_type, extension = FORMATS[source_format]
    out = io.BytesIO()
    if source_format == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
    elif source_format == "PNG":
        if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
            image = image.convert("RGBA")
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=88)
    return CleanImage(out.getvalue(), content_type, extension, image.width, image.height)
