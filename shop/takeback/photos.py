"""Photo uploads: JPEG, PNG or WebP, recognised by their content (Pillow), size-limited,
stored under random names outside the public media folder."""

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


def photo_check(upload: UploadedFile) -> tuple[str, str]:
    """Return (extension, content type) for an acceptable photo, or raise ValidationError
    with a message for the customer."""
    limit = settings.TAKEBACK_PHOTO_MAX_BYTES
    name = getattr(upload, "name", "photo")
    if upload.size is None or upload.size > limit:
        raise ValidationError(
            f"“{name}” is larger than {limit // (1024 * 1024)} MB; please send a smaller photo."
        )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(f"“{name}” is not a JPEG, PNG or WebP image.") from exc
    finally:
        upload.seek(0)
    if kind not in FORMATS:
        raise ValidationError(f"“{name}” is not a JPEG, PNG or WebP image.")
    return FORMATS[kind]
