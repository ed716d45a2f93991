"""Photo uploads: JPEG, PNG or WebP, recognised by their content (Pillow), limited in bytes
and in pixels (a few bytes of PNG may declare a picture of billions of pixels), stored under
random names outside the public media folder."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError

FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}
# 50 megapixels: a phone's full-resolution photo (8000 x 6000 is 48); more is refused
# before any thumbnail or grading screen tries to decode it.
MAX_PIXELS = 50_000_000


def photo_check(upload: UploadedFile) -> tuple[str, str]:
    """Return (extension, content type) for an acceptable photo, or raise ValidationError
    with a message for the customer."""
    limit = settings.TAKEBACK_PHOTO_MAX_BYTES
    name = getattr(upload, "name", "photo")
    if upload.size is None or upload.size > limit:
        raise ValidationError(
            f"“{name}” is larger than {limit // (1024 * 1024)} MB; please send a smaller photo."
        )
    too_big = ValidationError(
        f"“{name}” has too many pixels (at most {MAX_PIXELS // 1_000_000} megapixels); "
        "please send a smaller photo."
    )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            kind = image.format
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise too_big
            image.verify()
    except Image.DecompressionBombError as exc:
        raise too_big from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(f"“{name}” is not a JPEG, PNG or WebP image.") from exc
    finally:
        upload.seek(0)
    if kind not in FORMATS:
        raise ValidationError(f"“{name}” is not a JPEG, PNG or WebP image.")
    return FORMATS[kind]
