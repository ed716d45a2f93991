"""Requests the hostile sweep (tests/security/test_sweep.py) found answering 500, or echoing
markup, on the dashboard; one regression each (issue "No request gets a 500")."""

import pytest
from django.test import Client
from oscar.core.loading import get_model
from oscar.test.factories import UserFactory

from tests.takeback.helpers import small_catalogue

pytestmark = pytest.mark.django_db
Category = get_model("catalogue", "Category")


@pytest.fixture
def boss(db):
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("path", ["/dashboard/orders/", "/dashboard/partners/"])
def test_sorted_list_with_a_direction_that_is_not_one(boss, path):
    sort = "number" if "orders" in path else "name"
    for direction in ("-1", "sNaN", "²", ["1", "2"]):
        assert boss.get(path, {"sort": sort, "dir": direction}).status_code == 200


def test_order_list_with_nul_in_the_order_number(boss):
    # Refused before any view by shop.common.request_guard (it reached PostgreSQL before).
    assert boss.get("/dashboard/orders/", {"order_number": "a\x00b"}).status_code == 400


def test_stock_alerts_with_a_status_that_is_not_one(boss):
    assert boss.get("/dashboard/catalogue/stock-alerts/", {"status": "a\x00b"}).status_code == 400
    assert boss.get("/dashboard/catalogue/stock-alerts/", {"status": ""}).status_code == 200


def test_category_search_escapes_category_names(boss):
    Category.add_root(name="<mv-x7>")
    body = boss.get("/dashboard/catalogue/categories/", {"name": "mv"}).content.decode()
    assert "<mv-x7>" not in body and "<strong>&lt;mv-x7&gt;</strong>" in body


def test_customer_report_search_with_nul(client, django_user_model):
    boss = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(boss)
    response = client.get("/dashboard/business-reports/customers/", {"q": "a\x00b"})
    assert response.status_code == 400  # shop.common.request_guard, before the view


def test_product_page_with_a_recommendation_that_is_not_an_id(boss):
    from shop.catalogue.models import Product
    from tests.security.test_sweep import PageParser

    small_catalogue()
    product = Product.objects.filter(structure=Product.STANDALONE).first() or Product.objects.get(
        upc="MV-EG-BIF-01"
    )
    url = f"/dashboard/catalogue/products/{product.pk}/"
    parser = PageParser()
    parser.feed(boss.get(url).content.decode())
    (form,) = [f for f in parser.forms if any("recommendation" in n for n, *_ in f["fields"])]
    data = {n: v for n, kind, v in form["fields"] if kind not in ("unchecked", "file")}
    for bad in ("abc", "²", "a\x00b"):
        response = boss.post(url, {**data, "primary_recommendations-0-recommendation": bad})
        assert response.status_code == 200, bad
