"""The basket's lines are read without the product columns nothing on the
basket's way to an order uses (shop.basket.models: a description, the listing's own columns,
the dates): a column left out and then asked for costs a query per line, so a guest with a
personalized basket goes from the basket page to a placed order without one."""

import re

import pytest
from django.db.models.query_utils import DeferredAttribute

from shop.basket.models import _PRODUCT_COLUMNS_UNREAD, _UNREAD_PRODUCT_FIELDS
from shop.order.models import Order
from shop.storefront.services import shipping_countries_ensure
from tests.basket.helpers import fill_basket
from tests.factories import ADDRESS, TRACKED, confirm, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def read_back(monkeypatch) -> list[str]:
    """Every deferred column read back from the database, as model.field."""
    reads = []
    original = DeferredAttribute.__get__

    def get(self, instance, cls=None):
        if instance is not None and self.field.attname not in instance.__dict__:
            reads.append(f"{type(instance).__name__}.{self.field.attname}")
        return original(self, instance, cls)

    monkeypatch.setattr(DeferredAttribute, "__get__", get)
    return reads


@pytest.mark.parametrize("query", ["LINES", "OPEN_ANONYMOUS_LINES"])
def test_the_lines_query_leaves_the_unread_columns_out(query):
    from shop.basket import models

    sql = getattr(models, query).compiled().sql
    for name in _PRODUCT_COLUMNS_UNREAD:
        # the product's, and its parent's (joined under an alias: T4, T5...)
        assert not re.search(rf'("catalogue_product"|T\d+)\."{name}"', sql), name
    assert '"partner_stockrecord"."price"' in sql and '"catalogue_product"."title"' in sql
    assert re.search(r'T\d+\."title"', sql)  # the parent's, which the pattern above would see
    assert len(_UNREAD_PRODUCT_FIELDS) == 2 * len(_PRODUCT_COLUMNS_UNREAD)


def test_a_personalized_basket_reaches_an_order_without_reading_a_column_back(
    client, demo_personalization, localstripe, read_back
):
    shipping_countries_ensure()
    fill_basket(client)
    page = client.get("/basket/")
    assert page.status_code == 200 and page.context["basket"].num_lines == 3
    data = {"form-TOTAL_FORMS": 3, "form-INITIAL_FORMS": 3, "form-MIN_NUM_FORMS": 0}
    for index, line in enumerate(page.context["basket"].all_lines()):
        data[f"form-{index}-id"] = line.pk
        data[f"form-{index}-quantity"] = 2 if index == 0 else 1
    assert client.post("/basket/", data).status_code == 302
    response = client.post("/checkout/", {"username": "ada@example.com", "options": "anonymous"})
    assert response.status_code == 302
    assert client.post("/checkout/shipping-address/", ADDRESS).status_code == 302
    client.post("/checkout/shipping-method/", {"method_code": TRACKED})
    payment = client.get("/checkout/payment-details/")
    assert payment.status_code == 200
    pay(payment.context["payment_intent_id"])
    assert confirm(client, payment)["Location"] == "/checkout/thank-you/"
    order = Order.objects.get()
    assert order.lines.count() == 3 and order.num_items == 4
    assert client.get("/checkout/thank-you/").status_code == 200
    assert read_back == []
