"""A payment the bank is still confirming ("processing"): the order waits as Pending payment
with its stock held and no emails; the webhook then settles it (Paid, confirmation and
tickets) or cancels it (stock released)."""

import pytest

from shop.common.models import OutboxMessage
from shop.order import pipeline as p
from shop.order.models import Order
from shop.partner.models import StockRecord
from shop.payments import stripe_api
from shop.payments.models import PaymentIntentRecord
from shop.payments.services import stripe_event_process, stripe_event_store
from tests.factories import pay, to_payment_page
from tests.payments.helpers import intent_obj, make_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending_order(client, demo_catalogue, localstripe, monkeypatch):
    pi_id = to_payment_page(client).context["payment_intent_id"]
    pay(pi_id)
    real = stripe_api.payment_intent_retrieve

    def still_processing(**kwargs):
        intent = real(**kwargs)
        intent["status"] = "processing"
        return intent

    monkeypatch.setattr(stripe_api, "payment_intent_retrieve", still_processing)
    response = client.post("/checkout/payment-confirm/", {"payment_intent_id": pi_id})
    monkeypatch.setattr(stripe_api, "payment_intent_retrieve", real)
    assert response.status_code == 302
    return Order.objects.get()


def _event(order, kind: str, **kwargs):
    record = PaymentIntentRecord.objects.get(order_number=order.number)
    obj = intent_obj(
        record.payment_intent_id,
        amount=int(record.amount * 100),
        basket_id=record.basket_id,
        **kwargs,
    )
    stored, _ = stripe_event_store(event=make_event(kind, obj))
    stripe_event_process(event=stored)


def _allocated(order) -> int:
    line = order.lines.get()
    return StockRecord.objects.get(pk=line.stockrecord_id).num_allocated or 0


def test_processing_payment_holds_stock_then_the_webhook_settles_it(pending_order):
    order = pending_order
    assert order.status == p.PENDING_PAYMENT and order.paid_at is None
    assert not OutboxMessage.objects.exists()  # no email, no ticket yet
    assert _allocated(order) == 1
    assert order.sources.get().amount_debited == 0

    _event(order, "payment_intent.succeeded")
    order.refresh_from_db()
    assert order.status == p.PAID and order.paid_at is not None
    assert order.sources.get().amount_debited == order.total_incl_tax
    assert order.payment_events.filter(event_type__name="Settled").count() == 1
    assert sorted(OutboxMessage.objects.values_list("task", flat=True)) == [
        "shop.order.tasks.send_order_email",
        "shop.workshop.tasks.create_workshop_jobs",
    ]
    _event(order, "payment_intent.succeeded")  # a replay changes nothing
    assert OutboxMessage.objects.count() == 2
    assert order.payment_events.count() == 1


def test_a_failed_payment_cancels_the_waiting_order_and_frees_its_stock(pending_order):
    order = pending_order
    _event(
        order,
        "payment_intent.payment_failed",
        status="requires_payment_method",
        error="Your card was declined.",
    )
    order.refresh_from_db()
    assert order.status == p.CANCELLED
    assert _allocated(order) == 0
    change = order.status_changes.get()
    assert (change.source, change.note) == ("payment", "The payment failed.")
