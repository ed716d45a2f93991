"""A real Celery worker processes a stored event after commit, once, and records the fee."""

from decimal import Decimal

import pytest

from shop.payments import services, stripe_api
from shop.payments.models import PaymentIntentRecord, StripeEvent
from tests.conftest import wait_for
from tests.payments.helpers import WEBHOOK_SECRET, intent_obj, make_event

pytestmark = pytest.mark.worker


@pytest.fixture
def stripe_env(localstripe, monkeypatch):
    """The worker process reads STRIPE_* from its environment: point it at localstripe."""
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_localstripe")
    monkeypatch.setenv("STRIPE_API_BASE", localstripe.base_url)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    return localstripe


def test_worker_processes_a_stored_event_once(stripe_env, celery_worker):
    intent = stripe_api.payment_intent_create(
        amount_minor=4200, currency="gbp", metadata={"basket_id": 9}, idempotency_key="w"
    )
    card = stripe_api.payment_method_create_card(
        number="4242424242424242", exp_month=1, exp_year=2035, cvc="123"
    )
    stripe_api.payment_intent_update(payment_intent_id=intent.id, payment_method=card.id)
    stripe_api.payment_intent_confirm(payment_intent_id=intent.id)

    event = make_event("payment_intent.succeeded", intent_obj(intent.id, amount=4200))
    for _ in range(3):  # autocommit: each store commits and enqueues if still unprocessed
        services.stripe_event_store(event=event)

    record = wait_for(
        lambda: PaymentIntentRecord.objects.filter(
            payment_intent_id=intent.id, fee__isnull=False
        ).first()
    )
    assert (record.status, record.amount, record.fee_source) == (
        "succeeded",
        Decimal("42.00"),
        "stripe",
    )
    stored = StripeEvent.objects.get()
    assert stored.processed_at is not None and stored.attempts == 1
