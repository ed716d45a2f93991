"""A guest fills a basket and reaches the checkout's first step; tampered posts are refused."""

import pytest

from shop.catalogue.models import Product
from shop.partner.models import StockRecord

pytestmark = pytest.mark.django_db


def _standalone():
    return (
        Product.objects.browsable()
        .filter(structure=Product.STANDALONE, stockrecords__num_in_stock__gt=2)
        .first()
    )


def _add(client, product, quantity=1, **extra):
    return client.post(
        f"/basket/add/{product.pk}/", {"quantity": quantity, **extra}, HTTP_REFERER="/"
    )


def test_guest_adds_to_basket_and_reaches_checkout(client, demo_catalogue):
    product = _standalone()
    response = _add(client, product, 2)
    assert response.status_code == 302

    response = client.get("/basket/")
    assert response.status_code == 200
    basket = response.context["basket"]
    assert basket.num_items == 2
    line = basket.all_lines()[0]
    assert line.product == product
    price = StockRecord.objects.get(product=product).price
    assert basket.total_incl_tax == price * 2

    # The first step for a guest: sign in, or continue as a guest with an email address.
    response = client.get("/checkout/")
    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()
    response = client.post(
        "/checkout/", {"username": "guest@example.com", "options": "anonymous"}, follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/checkout/shipping-address/"


def test_variant_added_through_its_parent(client, demo_catalogue):
    parent = Product.objects.browsable().filter(structure=Product.PARENT).first()
    child = parent.children.filter(stockrecords__num_in_stock__gt=0).first()
    response = client.post(f"/basket/add/{parent.pk}/", {"quantity": 1, "child_id": child.pk})
    assert response.status_code == 302
    basket = client.get("/basket/").context["basket"]
    assert [line.product for line in basket.all_lines()] == [child]


@pytest.mark.parametrize(
    "payload",
    [
        {"quantity": "abc"},
        {"quantity": "-3"},
        {"quantity": "0"},
        {"quantity": "99999999999999999999"},
        {"quantity": "1", "child_id": "999999"},
        {"quantity": "1", "child_id": "abc"},
    ],
)
def test_tampered_add_to_basket_posts_add_nothing(client, demo_catalogue, payload):
    product = Product.objects.browsable().filter(structure=Product.PARENT).first()
    if "child_id" not in payload:
        product = _standalone()
    response = client.post(f"/basket/add/{product.pk}/", payload)
    assert response.status_code in (302, 400)
    basket = client.get("/basket/").context["basket"]
    assert basket.num_items == 0


@pytest.mark.parametrize("pk", ["99999999", "abc"])
def test_add_unknown_product_is_404(client, demo_catalogue, pk):
    response = client.post(f"/basket/add/{pk}/", {"quantity": 1})
    assert response.status_code == 404


def test_tampered_basket_formset_post_changes_nothing(client, demo_catalogue):
    product = _standalone()
    _add(client, product, 1)
    basket = client.get("/basket/").context["basket"]
    line = basket.all_lines()[0]
    for payload in (
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": "99999",
            "form-0-quantity": "5",
        },
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(line.pk),
            "form-0-quantity": "abc",
        },
        {"form-TOTAL_FORMS": "abc"},
        {},
    ):
        response = client.post("/basket/", payload)
        assert response.status_code in (200, 302, 400), payload
    basket = client.get("/basket/").context["basket"]
    assert basket.num_items == 1
