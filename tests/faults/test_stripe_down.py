"""Stripe unreachable when the shopper confirms a paid basket: a clear message, no order,
the basket kept; once Stripe answers again, confirming places exactly one order."""

import pytest
from django.contrib.messages import get_messages

from shop.order.models import Order
from shop.payments.localstripe import free_port
from tests.factories import pay, to_payment_page
from tests.faults.invariants import assert_invariants

pytestmark = pytest.mark.django_db


def test_stripe_down_at_confirmation_then_back(client, demo_catalogue, localstripe, settings):
    pi_id = to_payment_page(client).context["payment_intent_id"]
    pay(pi_id)
    working = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    response = client.post("/checkout/payment-confirm/", {"payment_intent_id": pi_id})
    assert response["Location"] == "/checkout/payment-details/"
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("could not confirm your payment just now" in m for m in messages), messages
    assert not Order.objects.exists()
    assert response.wsgi_request.basket.num_items == 1

    settings.STRIPE_API_BASE = working
    response = client.post("/checkout/payment-confirm/", {"payment_intent_id": pi_id})
    assert response["Location"] == "/checkout/thank-you/"
    assert Order.objects.count() == 1
    assert_invariants()
