"""One PaymentIntent per basket attempt, against localstripe."""

from decimal import Decimal

import pytest
from oscar.core.loading import get_model

from shop.payments import stripe_api
from shop.payments.exceptions import PaymentProviderUnavailable
from shop.payments.localstripe import free_port
from shop.payments.models import PaymentIntentRecord
from shop.payments.services import payment_intent_for_basket

pytestmark = pytest.mark.django_db

Basket = get_model("basket", "Basket")


def test_one_intent_per_basket_updated_when_the_total_changes(localstripe):
    basket = Basket.objects.create()
    first = payment_intent_for_basket(basket=basket, email="a@example.com", amount=Decimal("29.50"))
    again = payment_intent_for_basket(basket=basket, email="a@example.com", amount=Decimal("29.50"))
    assert first.payment_intent_id == again.payment_intent_id and again.client_secret
    intent = stripe_api.payment_intent_retrieve(payment_intent_id=first.payment_intent_id)
    assert (intent.amount, intent.currency, intent.metadata["basket_id"]) == (
        2950,
        "gbp",
        str(basket.id),
    )

    changed = payment_intent_for_basket(
        basket=basket, email="a@example.com", amount=Decimal("34.50")
    )
    assert changed.payment_intent_id == first.payment_intent_id
    assert changed.amount == Decimal("34.50")
    intent = stripe_api.payment_intent_retrieve(payment_intent_id=first.payment_intent_id)
    assert int(intent.amount) == 3450  # localstripe keeps an updated amount as a string
    assert PaymentIntentRecord.objects.filter(basket_id=basket.id).count() == 1


def test_a_succeeded_intent_is_never_changed(localstripe):
    basket = Basket.objects.create()
    first = payment_intent_for_basket(basket=basket, email="", amount=Decimal("10.00"))
    card = stripe_api.payment_method_create_card(
        number="4242424242424242", exp_month=12, exp_year=2034, cvc="123"
    )
    stripe_api.payment_intent_update(
        payment_intent_id=first.payment_intent_id, payment_method=card.id
    )
    stripe_api.payment_intent_confirm(payment_intent_id=first.payment_intent_id)

    second = payment_intent_for_basket(basket=basket, email="", amount=Decimal("12.00"))
    assert second.payment_intent_id != first.payment_intent_id
    paid = stripe_api.payment_intent_retrieve(payment_intent_id=first.payment_intent_id)
    assert (paid.status, paid.amount) == ("succeeded", 1000)


def test_stripe_unreachable(localstripe, settings):
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"
    basket = Basket.objects.create()
    with pytest.raises(PaymentProviderUnavailable):
        payment_intent_for_basket(basket=basket, email="", amount=Decimal("10.00"))
    assert not PaymentIntentRecord.objects.exists()
