"""SQL queries per page do not grow with the size of the catalogue."""

import json
from pathlib import Path

import pytest

from shop.catalogue.models import Category, Product
from shop.catalogue.services import catalogue_load
from tests.perf.catalogue_generator import generate_catalogue

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def _pages() -> dict[str, str]:
    category = Category.objects.get(slug="bags")
    parent = Product.objects.get(upc="MV-EG-TOT")
    return {
        "home": "/",
        "catalogue": "/catalogue/",
        "category": category.get_absolute_url(),
        "filtered": "/catalogue/?tanning=Vegetable-tanned&sort_by=price-asc",
        "search": "/search/?q=leather",
        "product": parent.get_absolute_url(),
    }


# Budgets that catch a regression (the product page has a colour picker and personalization).
BUDGETS = {"product": 30}
DEFAULT_BUDGET = 15


def _counts(client, django_assert_max_num_queries) -> dict[str, int]:
    counts = {}
    for name, path in _pages().items():
        client.get(path)  # warm per-process caches
        with django_assert_max_num_queries(BUDGETS.get(name, DEFAULT_BUDGET)) as ctx:
            assert client.get(path).status_code == 200, path
        counts[name] = len(ctx)
    return counts


def test_queries_per_page_are_the_same_for_a_larger_catalogue(
    client, demo_personalization, settings, django_assert_max_num_queries
):
    settings.PAGE_CACHE_SECONDS = 0  # pages as rendered (cached ones: test_page_cache)
    small = _counts(client, django_assert_max_num_queries)
    base = json.loads((ROOT / "fixtures" / "catalogue.json").read_text())
    catalogue_load(data=generate_catalogue(base, products=60))
    assert Product.objects.browsable().count() >= 89
    large = _counts(client, django_assert_max_num_queries)
    assert large == small
