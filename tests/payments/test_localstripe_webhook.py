"""localstripe's own signed webhook reaches our endpoint (through pytest-django's live server)
and is stored and processed once."""

import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import requests

from shop.payments import stripe_api, tasks
from shop.payments.exceptions import CardDeclined
from shop.payments.models import PaymentIntentRecord, StripeEvent
from tests.conftest import wait_for
from tests.payments.helpers import WEBHOOK_PATH, WEBHOOK_SECRET, intent_obj, make_event, sign

DECLINED = "4000000000000341"


@pytest.fixture
def webhook_to_live_server(localstripe, live_server, transactional_db, eager_tasks):
    localstripe.configure_webhook(
        live_server.url + WEBHOOK_PATH,
        WEBHOOK_SECRET,
        ["payment_intent.succeeded", "payment_intent.payment_failed"],
    )
    yield localstripe
    localstripe.disable_webhook()


def _confirm_with(number: str, basket_id: int):
    intent = stripe_api.payment_intent_create(
        amount_minor=8950,
        currency="gbp",
        metadata={"basket_id": basket_id},
        idempotency_key=f"basket-{basket_id}",
    )
    card = stripe_api.payment_method_create_card(
        number=number, exp_month=12, exp_year=2034, cvc="123"
    )
    stripe_api.payment_intent_update(payment_intent_id=intent.id, payment_method=card.id)
    if number == DECLINED:
        with pytest.raises(CardDeclined):
            stripe_api.payment_intent_confirm(payment_intent_id=intent.id)
    else:
        stripe_api.payment_intent_confirm(payment_intent_id=intent.id)
    return intent.id


def test_localstripe_succeeded_event_is_stored_and_processed(webhook_to_live_server):
    pi_id = _confirm_with("4242424242424242", basket_id=31)
    event = wait_for(
        lambda: StripeEvent.objects.filter(
            type="payment_intent.succeeded", processed_at__isnull=False
        ).first(),
        timeout=15,
    )
    assert event.data_object["id"] == pi_id
    record = wait_for(
        lambda: PaymentIntentRecord.objects.filter(
            payment_intent_id=pi_id, fee__isnull=False
        ).first(),
        timeout=10,
    )
    assert (record.status, record.amount, record.basket_id) == ("succeeded", Decimal("89.50"), 31)
    assert record.fee_source == "stripe"
    assert StripeEvent.objects.count() == 1


def test_localstripe_failed_event_is_recorded(webhook_to_live_server):
    pi_id = _confirm_with(DECLINED, basket_id=32)
    record = wait_for(
        lambda: PaymentIntentRecord.objects.filter(payment_intent_id=pi_id).first(), timeout=15
    )
    assert record.status == "payment_failed"
    assert record.last_payment_error == "Your card was declined."


def test_twenty_parallel_deliveries_of_one_event_make_one_row(
    live_server, transactional_db, eager_tasks, webhook_secret, monkeypatch
):
    """The same event posted 20 times at once (threads, real commits): one row, processed
    once, one PaymentIntentRecord."""
    monkeypatch.setattr(tasks.record_payment_fee, "delay", lambda pk: None)
    payload = json.dumps(make_event("payment_intent.succeeded", intent_obj("pi_par")))
    headers = {"Stripe-Signature": sign(payload), "Content-Type": "application/json"}

    def post(_):
        return requests.post(
            live_server.url + WEBHOOK_PATH, data=payload, headers=headers
        ).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(post, range(20)))
    assert codes == [200] * 20
    event = StripeEvent.objects.get()
    assert event.processed_at is not None and event.attempts == 1
    assert PaymentIntentRecord.objects.get().status == "succeeded"
