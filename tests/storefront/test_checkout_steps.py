"""A guest goes from basket to the shipping method; no order is placed without payment."""

import pytest

from shop.order.models import Order
from tests.factories import checkout_to_shipping_method

pytestmark = pytest.mark.django_db


def test_small_basket_pays_for_tracked_delivery(client, demo_catalogue):
    response = checkout_to_shipping_method(client, "MV-HE-KEY")  # £25 key fob
    assert response.status_code == 200
    methods = {m.code: m for m in response.context["methods"]}
    assert set(methods) == {"royal-mail-tracked-48", "dpd-next-day"}
    assert (
        str(methods["royal-mail-tracked-48"].calculate(response.context["basket"]).incl_tax)
        == "4.50"
    )
    assert str(methods["dpd-next-day"].calculate(response.context["basket"]).incl_tax) == "9.50"


def test_tracked_delivery_is_free_over_100_pounds(client, demo_catalogue):
    response = checkout_to_shipping_method(client, "MV-EG-SLV")  # £145 laptop sleeve
    methods = {m.code: m for m in response.context["methods"]}
    assert methods["royal-mail-tracked-48"].calculate(response.context["basket"]).incl_tax == 0


def test_placing_an_order_without_card_payment_is_refused(client, demo_catalogue, localstripe):
    checkout_to_shipping_method(client, "MV-HE-KEY")
    client.post("/checkout/shipping-method/", {"method_code": "royal-mail-tracked-48"})
    payment = client.get("/checkout/payment-details/").content.decode()
    assert 'id="card-element"' in payment and "needs implementing" not in payment
    # Oscar's preview step places nothing: it sends the shopper back to the payment page.
    response = client.post("/checkout/preview/", {"action": "place_order"})
    assert response.status_code == 302 and response["Location"] == "/checkout/payment-details/"
    # Nor on the browser's word: an unpaid PaymentIntent is refused at confirmation.
    pi_id = client.get("/checkout/payment-details/").context["payment_intent_id"]
    response = client.post("/checkout/payment-confirm/", {"payment_intent_id": pi_id}, follow=True)
    assert "has not gone through" in response.content.decode()
    assert Order.objects.count() == 0
    assert response.context["basket"].num_items == 1  # the basket is kept
