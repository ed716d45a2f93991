"""Personalization through the real pages: add, merge, refuse, edit from the basket."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shop.catalogue.models import Product
from shop.personalization.rules import Choices
from shop.personalization.selectors import line_choices

pytestmark = pytest.mark.django_db
D = Decimal


def _holdall():
    return Product.objects.get(upc="MV-EG-HOL")


def _add(client, product, **fields):
    data = {"quantity": 1, **fields}
    return client.post(f"/basket/add/{product.pk}/", data, HTTP_REFERER=product.get_absolute_url())


def _lines(client):
    return list(client.get("/basket/").context["basket"].all_lines())


def test_product_page_offers_the_products_choices(client, demo_personalization):
    html = client.get(_holdall().get_absolute_url()).content.decode()
    for name in ("initials", "style", "position", "thread", "finish", "gift_message"):
        assert f'name="{name}"' in html, name
    for label in ("Gold foil", "Blind deboss", "Front corner", "Oxblood", "Gunmetal"):
        assert label in html
    assert "made to order" in html.lower()


def test_add_with_choices_prices_the_line_and_shows_each_choice(client, demo_personalization):
    product = _holdall()
    response = _add(
        client,
        product,
        initials="jb",
        style="foil",
        position="inside",
        thread="oxblood",
        finish="gunmetal",
        gift_message="Happy anniversary",
        quoted_surcharge="27.00",
    )
    assert response.status_code == 302
    [line] = _lines(client)
    assert line_choices(line) == Choices(
        initials="JB",
        style="foil",
        position="inside",
        thread="oxblood",
        finish="gunmetal",
        gift_message="Happy anniversary",
    )
    assert line.unit_price_incl_tax == product.stockrecords.get().price + D("27.00")
    html = client.get("/basket/").content.decode()
    assert "price has" not in html.lower()  # the line recorded the personalized price
    for text in ("JB", "Gold foil", "Oxblood", "Gunmetal", "Happy anniversary", "£15.00", "£12.00"):
        assert text in html, text


def test_same_choices_merge_different_choices_split(client, demo_personalization):
    product = _holdall()
    _add(client, product, initials="AB", style="deboss", position="front")
    _add(client, product, initials="ab", style="deboss", position="front")
    _add(client, product, initials="AB", style="foil", position="front")
    _add(client, product)
    assert sorted(line.quantity for line in _lines(client)) == [1, 1, 2]


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"initials": "A1", "style": "foil", "position": "front"}, "letters A to Z"),
        ({"initials": "ABCD", "style": "foil", "position": "front"}, "at most 3 letters"),
        ({"initials": "KKK", "style": "foil", "position": "front"}, "can&#x27;t stamp"),
        ({"initials": "AB", "style": "laser", "position": "front"}, "choose one of the options"),
        ({"thread": "pink"}, "choose one of the options"),
        ({"finish": "gold"}, "choose one of the options"),
        ({"gift_message": "x" * 141}, "140 characters"),
        ({"gift_message": "hello\x07"}, "cannot print"),
        (
            {"initials": "AB", "style": "foil", "position": "front", "quoted_surcharge": "0.00"},
            "price shown",
        ),
    ],
)
def test_bad_choices_add_nothing_and_come_back_with_a_message(
    client, demo_personalization, fields, message
):
    product = _holdall()
    response = _add(client, product, **fields)
    assert response.status_code == 302
    assert _lines(client) == []
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert message in page.content.decode()


def test_an_option_the_product_does_not_offer_is_refused(client, demo_personalization):
    wallet = Product.objects.get(upc="MV-EG-PAS")  # no hardware on a passport cover
    response = _add(client, wallet, finish="brass")
    assert response.status_code == 302
    assert _lines(client) == []


def test_choices_can_be_changed_from_the_basket(client, demo_personalization):
    product = _holdall()
    _add(client, product, initials="AB", style="deboss", position="front")
    [line] = _lines(client)
    url = f"/basket/lines/{line.pk}/personalize/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"initials": "CD", "style": "foil", "position": "inside"})
    assert response.status_code == 302
    [changed] = _lines(client)
    assert changed.pk == line.pk
    assert line_choices(changed) == Choices(initials="CD", style="foil", position="inside")

    response = client.post(url, {"initials": "C3", "style": "foil", "position": "inside"})
    assert response.status_code == 400
    assert line_choices(_lines(client)[0]).initials == "CD"


def test_another_shoppers_basket_line_is_404(client, demo_personalization):
    from django.test import Client

    _add(client, _holdall(), initials="AB", style="deboss", position="front")
    [line] = _lines(client)
    other = Client()
    assert other.get(f"/basket/lines/{line.pk}/personalize/").status_code in (302, 404)
    other.post(f"/basket/add/{_holdall().pk}/", {"quantity": 1})
    assert other.get(f"/basket/lines/{line.pk}/personalize/").status_code == 404
    assert (
        other.post(f"/basket/lines/{line.pk}/personalize/", {"initials": "ZZ"}).status_code == 404
    )


def test_personalization_costs_at_most_two_queries_on_the_product_page(
    client, demo_personalization
):
    from shop.personalization.models import PersonalizationOffer

    product = _holdall()
    client.get(product.get_absolute_url())  # warm caches (site, options)
    with CaptureQueriesContext(connection) as with_offers:
        assert client.get(product.get_absolute_url()).status_code == 200
    PersonalizationOffer.objects.all().delete()
    client.get(product.get_absolute_url())
    with CaptureQueriesContext(connection) as without:
        assert client.get(product.get_absolute_url()).status_code == 200
    assert len(with_offers) - len(without) <= 2, [q["sql"] for q in with_offers.captured_queries]


def test_a_choice_switched_off_later_asks_the_shopper_to_change_the_line(
    client, demo_personalization
):
    from shop.personalization.models import PersonalizationValue

    _add(client, _holdall(), initials="AB", style="foil", position="front")
    PersonalizationValue.objects.filter(code="foil").update(is_active=False)
    response = client.get("/basket/")
    assert response.status_code == 200
    [line] = response.context["basket"].all_lines()
    assert not line.purchase_info.availability.is_available_to_buy
    response = client.post(
        f"/basket/lines/{line.pk}/personalize/",
        {"initials": "AB", "style": "deboss", "position": "front"},
    )
    assert response.status_code == 302
    [line] = _lines(client)
    assert line.purchase_info.availability.is_available_to_buy
