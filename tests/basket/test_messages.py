"""Basket messages are escaped once: the shopper reads "We're sorry", not "We&#x27;re sorry"."""

import html
import re

import pytest

from shop.catalogue.models import Product

pytestmark = pytest.mark.django_db


def _visible_messages(page: str) -> str:
    """The text a browser shows in the messages region (tags dropped, entities decoded once)."""
    region = re.search(r'<div id="messages".*?</div>\s*</div>', page, re.S)
    assert region, "the page has a messages region"
    return html.unescape(re.sub(r"<[^>]+>", " ", region.group(0)))


def test_a_refused_add_to_basket_message_reads_as_written(client, demo_personalization):
    product = Product.objects.get(upc="MV-EG-HOL")
    response = client.post(
        f"/basket/add/{product.pk}/",
        {"quantity": 1, "initials": "KKK", "style": "foil", "position": "front"},
        HTTP_REFERER=product.get_absolute_url(),
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    text = _visible_messages(page)
    assert "We're sorry, we can't stamp those initials" in text
    assert "&#x27;" not in text and "&amp;" not in text
    assert "&amp;#x27;" not in page  # nowhere escaped twice


def test_a_message_with_markup_in_the_shoppers_input_stays_escaped(client, demo_catalogue):
    product = Product.objects.get(upc="MV-HE-KEY")
    response = client.post(
        f"/basket/add/{product.pk}/",
        {"quantity": "<b>x</b>"},
        HTTP_REFERER=product.get_absolute_url(),
    )
    page = client.get(response["Location"]).content.decode()
    assert "<b>x</b>" not in page


def test_a_missing_choice_is_named_in_the_message(client, demo_personalization):
    """Above a long form, "Please choose one." alone does not say which choice is missing."""
    product = Product.objects.get(upc="MV-EG-HOL")
    response = client.post(
        f"/basket/add/{product.pk}/",
        {"quantity": 1, "initials": "AJ"},
        HTTP_REFERER=product.get_absolute_url(),
    )
    text = _visible_messages(client.get(response["Location"]).content.decode())
    assert re.search(r"Monogram style: \w", text), text
