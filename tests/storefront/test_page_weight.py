"""What keeps the pages light (issue 9): pictures are resized WebP thumbnails with their size
set, and CSS and JavaScript are served compressed under cache-busting names."""

import gzip
import re
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.test import Client
from PIL import Image

from shop.catalogue.models import Product

PICTURED = ["MV-EG-HOL", "MV-EG-BIF", "MV-EG-TOT"]


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def tags(html: str, name: str) -> list[dict]:
    parser = Tags()
    parser.feed(html)
    return [attrs for tag, attrs in parser.found if tag == name]


@pytest.mark.django_db
def test_pictures_are_resized_webp_thumbnails_with_their_size_set(
    demo_catalogue, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    call_command("generate_product_images", *(f"--upc={upc}" for upc in PICTURED), verbosity=0)
    product = Product.objects.get(upc=PICTURED[0])
    pages = ["/", product.get_categories().first().get_absolute_url(), product.get_absolute_url()]
    seen = 0
    for path in pages:
        html = Client().get(path).content.decode()
        for img in tags(html, "img"):
            if not img["src"].startswith(settings.MEDIA_URL):
                continue  # the logo and icons are static SVGs
            seen += 1
            assert img["src"].endswith(".webp"), (path, img["src"])
            width, height = int(img["width"]), int(img["height"])
            with Image.open(tmp_path / img["src"][len(settings.MEDIA_URL) :]) as picture:
                assert picture.format == "WEBP"
                assert picture.size == (width, height), img["src"]
                assert max(picture.size) <= 900  # the originals are 1200 px PNGs
            for candidate in img.get("srcset", "").split(","):
                if candidate.strip():
                    assert candidate.split()[0].endswith(".webp")
    assert seen >= 4  # cards on the home and category pages, the product's gallery


@pytest.mark.django_db
def test_css_and_js_are_compressed_and_cache_busted(settings, tmp_path, client):
    settings.STATIC_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    html = client.get("/accounts/login/").content.decode()
    assets = [link["href"] for link in tags(html, "link") if link.get("rel") == "stylesheet"]
    assets += [script["src"] for script in tags(html, "script") if script.get("src")]
    assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets)
    for url in assets:
        assert url.startswith(settings.STATIC_URL), url
        assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", url), f"{url} is not cache-busted"
        name = url[len(settings.STATIC_URL) :]
        original = (tmp_path / name).read_bytes()
        packed = (tmp_path / f"{name}.gz").read_bytes()
        assert gzip.decompress(packed) == original
        if len(original) > 1024:
            assert len(packed) < len(original) / 2, url
            assert (tmp_path / f"{name}.br").stat().st_size < len(packed), url
