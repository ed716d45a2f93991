"""A shopper who filled a basket signed out and then signs in: their cookie basket is moved
into their own on the next page, all or nothing (listings run outside a request
transaction, so the merge holds its own)."""

import pytest
from django.contrib.auth import get_user_model

from shop.basket.models import Basket
from shop.catalogue.models import Category
from tests.basket.helpers import fill_basket

pytestmark = pytest.mark.django_db


def test_a_merge_that_fails_half_way_moves_nothing_and_the_next_page_merges(
    client, demo_personalization, monkeypatch
):
    fill_basket(client)
    cookie_basket = Basket.objects.get(owner=None)
    assert cookie_basket.lines.count() == 3
    user = get_user_model().objects.create_user("ada", "ada@example.com", "x-long-password-1")
    client.force_login(user)
    wallets = Category.objects.get(slug="wallets").get_absolute_url()

    merge_line = Basket.merge_line
    moved = []

    def failing(self, line, add_quantities=True):
        if moved:
            raise RuntimeError("the database went away")
        moved.append(line.pk)
        return merge_line(self, line, add_quantities)

    monkeypatch.setattr(Basket, "merge_line", failing)
    with pytest.raises(RuntimeError):
        client.get(wallets)  # a listing: no request transaction around it
    assert moved  # one line had been moved when it failed
    cookie_basket.refresh_from_db()
    assert cookie_basket.status == Basket.OPEN and cookie_basket.lines.count() == 3
    assert not Basket.objects.filter(owner=user, lines__isnull=False).exists()

    monkeypatch.setattr(Basket, "merge_line", merge_line)
    assert client.get(wallets).status_code == 200
    cookie_basket.refresh_from_db()
    assert cookie_basket.status == Basket.MERGED and cookie_basket.lines.count() == 0
    assert Basket.objects.get(owner=user, status=Basket.OPEN).lines.count() == 3
