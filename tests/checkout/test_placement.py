"""Paying and placing: success, decline, replay, tampering, Stripe unreachable (localstripe)."""

import pytest

from shop.checkout.services import OrderPlacementRefused, order_place_for_payment_intent
from shop.order.models import Order
from shop.payments import stripe_api
from shop.payments.exceptions import CardDeclined
from shop.payments.localstripe import free_port
from shop.payments.models import PaymentIntentRecord
from shop.payments.services import stripe_event_process, stripe_event_store
from tests.factories import DECLINED, confirm, succeeded_event
from tests.factories import pay as _pay
from tests.factories import to_payment_page as _to_payment_page

pytestmark = pytest.mark.django_db


def _webhook(pi_id: str) -> None:
    """Stripe's payment_intent.succeeded for this PaymentIntent, stored and processed."""
    stored, _ = stripe_event_store(event=succeeded_event(pi_id))
    stripe_event_process(event=stored)


def test_pay_with_4242_then_confirm_places_one_order(client, demo_catalogue, localstripe):
    page = _to_payment_page(client)
    pi_id = page.context["payment_intent_id"]
    assert page.context["stripe_client_secret"].startswith(pi_id)
    _pay(pi_id)
    response = client.post("/checkout/payment-confirm/", {"payment_intent_id": pi_id})
    assert response.status_code == 302 and response["Location"] == "/checkout/thank-you/"
    order = Order.objects.get()
    assert order.total_incl_tax == order.sources.get().amount_debited
    assert order.sources.get().reference == pi_id and order.guest_email == "ada@example.com"
    assert PaymentIntentRecord.objects.get(payment_intent_id=pi_id).order_number == order.number
    assert client.get("/checkout/thank-you/").status_code == 200

    # Replays: the same confirmation again lands on the same order; the placement again,
    # the webhook too: still one order.
    again = confirm(client, page)
    assert again["Location"] == "/checkout/thank-you/"
    assert order_place_for_payment_intent(payment_intent_id=pi_id) == (order, False)
    _webhook(pi_id)
    assert Order.objects.count() == 1


def test_webhook_alone_places_the_order(client, demo_catalogue, localstripe):
    pi_id = _to_payment_page(client).context["payment_intent_id"]
    _pay(pi_id)
    _webhook(pi_id)
    _webhook(pi_id)
    assert Order.objects.count() == 1
    # The browser arriving late still lands on its order.
    response = client.post("/checkout/payment-confirm/", {"payment_intent_id": pi_id})
    assert response["Location"] == "/checkout/thank-you/"
    assert Order.objects.count() == 1


def test_declined_card_places_nothing_and_keeps_the_basket(client, demo_catalogue, localstripe):
    pi_id = _to_payment_page(client).context["payment_intent_id"]
    with pytest.raises(CardDeclined) as declined:
        _pay(pi_id, DECLINED)
    assert "declined" in declined.value.message.lower()
    response = client.post("/checkout/payment-confirm/", {"payment_intent_id": pi_id}, follow=True)
    assert "has not gone through" in response.content.decode()
    assert Order.objects.count() == 0 and response.context["basket"].num_items == 1


def test_payment_intent_of_another_basket_is_refused(
    client, demo_catalogue, localstripe, django_user_model
):
    from django.test import Client

    other = Client()
    other_pi = _to_payment_page(other).context["payment_intent_id"]
    _pay(other_pi)
    _to_payment_page(client)
    response = client.post("/checkout/payment-confirm/", {"payment_intent_id": other_pi})
    assert response.status_code == 404
    assert Order.objects.count() == 0
    # A PaymentIntent made outside our checkout is refused by the placement itself.
    stray = stripe_api.payment_intent_create(
        amount_minor=100, currency="gbp", metadata={"basket_id": "1"}, idempotency_key="x"
    )
    with pytest.raises(OrderPlacementRefused):
        order_place_for_payment_intent(payment_intent_id=stray.id)
    assert Order.objects.count() == 0


def test_stripe_unreachable_keeps_the_basket(client, demo_catalogue, localstripe, settings):
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"
    response = _to_payment_page(client)
    assert "temporarily unavailable" in response.content.decode()
    assert 'id="card-element"' not in response.content.decode()
    assert response.context["basket"].num_items == 1 and Order.objects.count() == 0


def test_signed_in_customer_pays_and_gets_the_order_and_its_email(
    client,
    demo_catalogue,
    localstripe,
    django_user_model,
    django_capture_on_commit_callbacks,
    published_tasks,
):
    from shop.catalogue.models import Product
    from shop.storefront.services import shipping_countries_ensure
    from tests.factories import ADDRESS

    user = django_user_model.objects.create_user(
        username="grace", email="grace@example.com", password="a long pass phrase"
    )
    client.force_login(user)
    shipping_countries_ensure()
    client.post(f"/basket/add/{Product.objects.get(upc='MV-HE-KEY').pk}/", {"quantity": 1})
    assert client.get("/checkout/")["Location"] == "/checkout/shipping-address/"
    assert client.post("/checkout/shipping-address/", ADDRESS).status_code == 302
    client.post("/checkout/shipping-method/", {"method_code": "royal-mail-tracked-48"})
    pi_id = client.get("/checkout/payment-details/").context["payment_intent_id"]
    _pay(pi_id)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/checkout/payment-confirm/", {"payment_intent_id": pi_id})
    assert response["Location"] == "/checkout/thank-you/"
    order = Order.objects.get()
    assert order.user == user and order.total_incl_tax == order.sources.get().amount_debited
    assert published_tasks == [
        ("send_order_email", [order.pk, "ORDER_PLACED"]),
        ("create_workshop_jobs", [order.pk]),
    ]
    assert order.status == "Paid" and order.paid_at is not None
    assert order.promised_dispatch_date is not None
    assert list(order.status_changes.values_list("old_status", "new_status", "source")) == [
        ("Pending payment", "Paid", "payment")
    ]
    assert client.get(f"/accounts/orders/{order.number}/").status_code == 200
