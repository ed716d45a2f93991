"""Referral fixtures: customers, orders placed (Oscar's OrderCreator) to an address and paid
through the order pipeline, with the card that paid recorded as payments records it."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model
from oscar.core.loading import get_model
from oscar.test.factories import create_order

from shop.order.services import order_mark_paid
from shop.payments.models import PaymentIntentRecord
from shop.referrals.selectors import referral_programme
from shop.referrals.services import referral_code_get_or_create, referral_join

_n = itertools.count(1)


def customer(email: str):
    return get_user_model().objects.create_user(
        username=f"u{next(_n)}", email=email, password="a long pass phrase 42"
    )


def place_paid(user, *, line1: str = "3 Friend Row", postcode: str = "B1 1AA", card: str = ""):
    """An order of `user` to the address, made Paid; `card`: the fingerprint of the card that
    paid it, as payments records it once read from Stripe ("": paid without a card)."""
    Country = get_model("address", "Country")
    ShippingAddress = get_model("order", "ShippingAddress")
    country, _ = Country.objects.get_or_create(
        iso_3166_1_a2="GB", defaults={"name": "United Kingdom", "printable_name": "UK"}
    )
    address = ShippingAddress(
        first_name="Jo", last_name="Vale", line1=line1, line4="Walsall", postcode=postcode,
        country=country,
    )  # fmt: skip
    address.save()
    order = create_order(user=user, shipping_address=address)
    if card:
        PaymentIntentRecord.objects.create(
            payment_intent_id=f"pi_{order.number}",
            order_number=order.number,
            amount=order.total_incl_tax,
            currency="GBP",
            status=PaymentIntentRecord.Status.SUCCEEDED,
            card_fingerprint=card,
        )
    return order_mark_paid(order=order)


@pytest.fixture
def programme(db):
    return referral_programme()


@pytest.fixture
def referrer(db):
    user = customer("maker@example.com")
    referral_code_get_or_create(user=user)
    return user


@pytest.fixture
def friend(referrer, programme):
    """A friend who registered through the referrer's link."""
    user = customer("friend@example.org")
    assert referral_join(friend=user, code=referrer.referral_code.code) is not None
    return user
