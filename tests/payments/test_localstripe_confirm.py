"""The localstripe-only confirm endpoint behind the page's adapter: absent with real Stripe,
and only for the PaymentIntent made for this session's basket."""

import pytest

pytestmark = pytest.mark.django_db

URL = "/payments/localstripe/confirm/"
CARD = {"number": "4242424242424242", "exp_month": "12", "exp_year": "34", "cvc": "123"}


def test_not_there_without_localstripe(client, settings):
    settings.STRIPE_API_BASE = ""
    assert client.post(URL, {"payment_intent_id": "pi_x", **CARD}).status_code == 404


def test_refuses_a_payment_intent_not_made_for_this_session(client, localstripe):
    response = client.post(URL, {"payment_intent_id": "pi_someone_else", **CARD})
    assert response.status_code == 403
    assert "not valid for your basket" in response.json()["error"]["message"]
