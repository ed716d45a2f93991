"""An order with personalized lines shows every choice in its emails and on its pages."""

import pytest
from django.core import mail
from oscar.test.factories import create_order

from shop.basket.models import Basket
from shop.catalogue.models import Product
from shop.order.services import EMAIL_PLACED, order_email_send
from shop.partner.strategy import UKStrategy
from shop.personalization.rules import Choices
from shop.personalization.services import basket_add_personalized

pytestmark = pytest.mark.django_db

CHOICES = Choices(
    initials="EM",
    style="foil",
    position="inside",
    thread="forest",
    finish="nickel",
    gift_message="With love on your first day",
)


def _order(user=None, email="ellen@example.com"):
    basket = Basket.objects.create(owner=user)
    basket.strategy = UKStrategy()
    basket_add_personalized(
        basket=basket, product=Product.objects.get(upc="MV-EG-HOL"), quantity=1, choices=CHOICES
    )
    return create_order(basket=basket, user=user, guest_email="" if user else email)


def test_confirmation_email_lists_every_choice_and_the_made_to_order_rule(demo_personalization):
    order = _order()
    assert order_email_send(order_id=order.pk, code=EMAIL_PLACED) is True
    [message] = mail.outbox
    assert message.to == ["ellen@example.com"]
    html = message.alternatives[0][0]
    for text in (
        "EM, gold foil, inside pocket",
        "Forest",
        "Nickel",
        "With love on your first day",
        "+£15.00",
        "+£12.00",
        "cannot be returned for a change of mind",
    ):
        assert text in message.body, text
        assert text in html, text
    assert order_email_send(order_id=order.pk, code=EMAIL_PLACED) is False
    assert len(mail.outbox) == 1


def test_order_page_in_my_account_shows_the_choices(
    client, demo_personalization, django_user_model
):
    user = django_user_model.objects.create_user(
        username="ellen", email="ellen@example.com", password="a long pass phrase"
    )
    order = _order(user=user)
    client.force_login(user)
    response = client.get(f"/accounts/orders/{order.number}/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("EM, gold foil, inside pocket", "Forest", "Nickel", "With love on your first day"):
        assert text in html, text


def test_guest_order_status_page_shows_the_choices(client, demo_personalization):
    order = _order()
    signed = f"{order.number}/{order.verification_hash()}/"
    # The signed link alone is not enough: the guest confirms the email the order was made with.
    assert client.get(f"/accounts/order-status/{signed}").status_code == 302
    client.post(f"/accounts/order-status-form/{signed}", {"email": "ellen@example.com"})
    response = client.get(f"/accounts/order-status/{signed}")
    assert response.status_code == 200
    assert "EM, gold foil, inside pocket" in response.content.decode()
