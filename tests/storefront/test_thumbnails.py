"""Pictures on the product page: a thumbnail that cannot be made leaves that picture out of
the response, never the page (`make run` runs with DEBUG, where Oscar's tag raised)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from oscar.core import thumbnails
from PIL import Image
from sorl.thumbnail.helpers import ThumbnailError

from shop.catalogue.models import Product, ProductImage

pytestmark = pytest.mark.django_db


def test_a_thumbnail_that_fails_under_debug_leaves_the_picture_out_not_the_page(
    client, demo_catalogue, monkeypatch, settings
):
    """sorl's key-value store can fail when two requests make a picture's first thumbnails at
    once; `make run` runs with DEBUG, where Oscar's tag raised it (a 500)."""

    def racing(self, source, **options):
        raise ThumbnailError(f"Cannot add thumbnails for source: `{source}` ...")

    settings.DEBUG = True
    monkeypatch.setattr(thumbnails.SorlThumbnail, "generate_thumbnail", racing)
    product = Product.objects.browsable().first()
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "tan").save(buffer, "PNG")
    picture = SimpleUploadedFile("fob.png", buffer.getvalue(), "image/png")
    ProductImage.objects.create(product=product, original=picture, display_order=0)
    response = client.get(product.get_absolute_url())
    assert response.status_code == 200 and product.title in response.content.decode()
