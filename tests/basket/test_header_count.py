"""The header's basket count on cached pages follows the basket's lines at once."""

import pytest

from shop.basket.models import Basket, Line
from tests.basket.helpers import fill_basket

pytestmark = pytest.mark.django_db


def _header(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index("<!--mv:basket-->")
    return html[start : html.index("<!--/mv:basket-->")]


def test_count_follows_added_changed_and_removed_lines(client, demo_personalization):
    fill_basket(client)
    client.get("/basket/")  # the "added" messages shown
    assert "Basket, 3 items" in _header(client)
    assert "Basket, 3 items" in _header(client)  # from the cache
    line = Line.objects.order_by("pk").first()
    line.quantity = 4
    line.save()
    assert "Basket, 6 items" in _header(client)
    line.delete()
    assert "Basket, 2 items" in _header(client)
    basket = Basket.objects.get()
    basket.submit()  # ordered: the cookie's basket is no longer open
    assert "Basket, 0 items" in _header(client)
