"""The Stripe wrapper against a real localstripe process."""

import pytest

from shop.payments import stripe_api
from shop.payments.exceptions import (
    CardDeclined,
    PaymentProviderError,
    PaymentProviderUnavailable,
    WebhookNotConfigured,
    WebhookPayloadInvalid,
    WebhookSignatureInvalid,
)
from shop.payments.localstripe import free_port
from tests.payments.helpers import WEBHOOK_SECRET, make_event, sign

CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000341"
CARD_3DS = "4000002500003155"


def _intent(amount_minor=12500, basket_id=7):
    return stripe_api.payment_intent_create(
        amount_minor=amount_minor,
        currency="GBP",
        metadata={"basket_id": basket_id},
        idempotency_key=f"basket-{basket_id}-{amount_minor}",
    )


def _pay(intent_id: str, number: str):
    card = stripe_api.payment_method_create_card(
        number=number, exp_month=12, exp_year=2034, cvc="123"
    )
    stripe_api.payment_intent_update(payment_intent_id=intent_id, payment_method=card.id)
    return stripe_api.payment_intent_confirm(payment_intent_id=intent_id)


def test_create_update_retrieve(localstripe):
    intent = _intent()
    assert intent.id.startswith("pi_")
    assert (intent.amount, intent.currency, intent.status) == (
        12500,
        "gbp",
        "requires_payment_method",
    )
    assert intent.metadata["basket_id"] == "7"
    assert intent.client_secret

    stripe_api.payment_intent_update(
        payment_intent_id=intent.id, amount_minor=9900, metadata={"order_number": "100042"}
    )
    again = stripe_api.payment_intent_retrieve(payment_intent_id=intent.id)
    assert int(again.amount) == 9900  # localstripe keeps an updated amount as a string
    assert again.metadata.to_dict() == {"basket_id": "7", "order_number": "100042"}


def test_confirm_with_test_card_succeeds(localstripe):
    intent = _intent()
    confirmed = _pay(intent.id, CARD_OK)
    assert confirmed.status == "succeeded"
    assert stripe_api.payment_intent_retrieve(payment_intent_id=intent.id).status == "succeeded"


def test_declined_card_raises_card_declined_with_stripes_words(localstripe):
    intent = _intent()
    with pytest.raises(CardDeclined) as caught:
        _pay(intent.id, CARD_DECLINED)
    assert caught.value.message == "Your card was declined."
    assert caught.value.code == "card_declined"
    after = stripe_api.payment_intent_retrieve(payment_intent_id=intent.id)
    assert after.status == "requires_payment_method"  # another card may be tried


def test_three_d_secure_card_requires_action(localstripe):
    intent = _intent()
    assert _pay(intent.id, CARD_3DS).status == "requires_action"


def test_refund_full_and_partial(localstripe):
    intent = _intent(amount_minor=5000)
    _pay(intent.id, CARD_OK)
    partial = stripe_api.refund_create(
        payment_intent_id=intent.id, amount_minor=1500, idempotency_key="refund-1"
    )
    assert (partial.amount, partial.status) == (1500, "succeeded")
    rest = stripe_api.refund_create(
        payment_intent_id=intent.id, amount_minor=None, idempotency_key="refund-2"
    )
    assert rest.id != partial.id and rest.status == "succeeded"


def test_refund_of_an_unpaid_intent_is_refused(localstripe):
    intent = _intent()
    with pytest.raises(PaymentProviderError):
        stripe_api.refund_create(
            payment_intent_id=intent.id, amount_minor=100, idempotency_key="refund-x"
        )


def test_balance_fee(localstripe):
    intent = _intent()
    assert stripe_api.balance_fee_for(payment_intent_id=intent.id) is None  # no charge yet
    _pay(intent.id, CARD_OK)
    # localstripe's balance transactions carry a fee of 0; real Stripe's carry the real fee.
    assert stripe_api.balance_fee_for(payment_intent_id=intent.id) == 0


def test_unknown_intent_is_a_provider_error(localstripe):
    with pytest.raises(PaymentProviderError) as caught:
        stripe_api.payment_intent_retrieve(payment_intent_id="pi_doesnotexist")
    assert caught.value.http_status == 404


def test_stripe_unreachable_is_provider_unavailable(localstripe, settings):
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings.STRIPE_MAX_NETWORK_RETRIES = 1
    with pytest.raises(PaymentProviderUnavailable) as caught:
        _intent()
    assert caught.value.message == "Card payment is temporarily unavailable."


def test_unsupported_parameters_are_a_provider_error_not_unavailable(localstripe, settings):
    # localstripe answers 500 to confirm with a payment_method: our wrapper never sends one,
    # and a Stripe 5xx is treated as "unavailable for now" (it is transient on real Stripe).
    intent = _intent()
    with pytest.raises(PaymentProviderError) as caught:
        stripe_api.payment_intent_confirm(payment_intent_id=intent.id)  # no card attached
    assert caught.value.http_status == 400


# --- webhook_event_construct (no network) ---


def test_webhook_event_construct_accepts_a_signed_event(webhook_secret):
    payload = '{"id": "evt_1", "type": "x.y", "data": {"object": {}}}'
    event = stripe_api.webhook_event_construct(payload=payload.encode(), sig_header=sign(payload))
    assert event["id"] == "evt_1"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "t=123",
        sign('{"id": "evt_1"}', secret="whsec_other"),
        sign('{"id": "evt_1", "type": "x.y", "data": {"object": {}}}', timestamp=1_000_000),
    ],
    ids=["none", "empty", "garbage", "no-v1", "wrong-secret", "stale"],
)
def test_webhook_event_construct_refuses_bad_signatures(webhook_secret, header):
    payload = '{"id": "evt_1", "type": "x.y", "data": {"object": {}}}'
    with pytest.raises(WebhookSignatureInvalid):
        stripe_api.webhook_event_construct(payload=payload, sig_header=header)


def test_webhook_event_construct_refuses_signed_non_events(webhook_secret):
    for payload in ["not json", "[]", '{"id": "evt_1"}', '{"id": 5, "type": "x", "data": {}}']:
        with pytest.raises(WebhookPayloadInvalid):
            stripe_api.webhook_event_construct(payload=payload, sig_header=sign(payload))


def test_webhook_event_construct_without_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    payload = '{"id": "evt_1", "type": "x.y", "data": {"object": {}}}'
    with pytest.raises(WebhookNotConfigured):
        stripe_api.webhook_event_construct(payload=payload, sig_header=sign(payload))


def test_sign_matches_the_sdk_scheme(webhook_secret):
    event = make_event("payment_intent.succeeded", {"id": "pi_1"})
    import json

    payload = json.dumps(event)
    header = sign(payload, WEBHOOK_SECRET, timestamp=1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
