"""Races at checkout, against PostgreSQL and localstripe: many buyers for the last units,
the browser and the webhook at the same moment, a webhook storm, 3-D Secure not done yet.

Every test ends by checking the invariants: stock never negative and never over-allocated,
one order per PaymentIntent, one payment source and one payment event per order, every
paid-but-unplaced PaymentIntent refunded exactly once."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from oscar.core.loading import get_model

from shop.checkout.services import (
    OrderPlacementRefused,
    SoldOut,
    order_place_for_payment_intent,
)
from shop.payments import stripe_api
from shop.payments.models import PaymentIntentRecord, PaymentRefund, StripeEvent
from shop.payments.services import stripe_event_process, stripe_event_store
from tests.factories import (
    THREE_D_SECURE,
    buyer_paid,
    in_threads,
    pay,
    stock_set,
    succeeded_event,
    to_payment_page,
)
from tests.payments.helpers import make_event, post_event

pytestmark = pytest.mark.django_db(transaction=True)

Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")
Source = get_model("payment", "Source")
PaymentEvent = get_model("order", "PaymentEvent")

UPC = "MV-HE-KEY"


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _assert_invariants(*, paid_intents: list[str]) -> None:
    """Stock, orders, sources, events and refunds agree, whatever the interleaving."""
    for sr in StockRecord.objects.all():
        assert sr.num_in_stock is None or sr.num_in_stock >= 0, sr
        assert (sr.num_allocated or 0) >= 0, sr
        if sr.num_in_stock is not None:
            assert (sr.num_allocated or 0) <= sr.num_in_stock, sr
    orders = list(Order.objects.all())
    numbers = [o.number for o in orders]
    assert len(numbers) == len(set(numbers))
    # One PaymentIntent per order and one order per PaymentIntent.
    placed = PaymentIntentRecord.objects.exclude(order_number="")
    assert sorted(placed.values_list("order_number", flat=True)) == sorted(numbers)
    for order in orders:
        source = order.sources.get()  # exactly one payment source per order
        assert source.amount_debited == order.total_incl_tax
        record = PaymentIntentRecord.objects.get(order_number=order.number)
        assert source.reference == record.payment_intent_id
        assert record.amount == order.total_incl_tax and record.amount_refunded == 0
        assert order.payment_events.count() == 1
    assert Source.objects.count() == len(orders)
    assert PaymentEvent.objects.count() == len(orders)
    # Every paid PaymentIntent ended as an order or a full refund, never both, never twice.
    for pi_id in paid_intents:
        record = PaymentIntentRecord.objects.get(payment_intent_id=pi_id)
        refunds = list(record.refunds.all())
        if record.order_number:
            assert refunds == []
        else:
            assert len(refunds) == 1, (pi_id, refunds)
            assert refunds[0].amount == record.amount == record.amount_refunded
            intent = stripe_api.payment_intent_retrieve(payment_intent_id=pi_id)
            assert intent.status == "succeeded"


def test_twenty_buyers_for_the_last_three_units(demo_catalogue, localstripe):
    stockrecord = stock_set(3)
    # Stage 1: twenty shoppers each reach the payment page and pay (their own baskets).
    buyers = [buyer_paid(i) for i in range(20)]
    pi_ids = [pi for _, pi in buyers]
    assert len(set(pi_ids)) == 20

    # Stage 2: all twenty confirm at the same moment.
    def confirm(buyer):
        client, pi_id = buyer
        response = client.post("/checkout/payment-confirm/", {"payment_intent_id": pi_id})
        return response["Location"], _messages(response)

    results = in_threads(confirm, buyers)
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    won = [r for r in results if r[0] == "/checkout/thank-you/"]
    lost = [r for r in results if r[0] != "/checkout/thank-you/"]
    assert len(won) == 3 and len(lost) == 17
    for location, messages in lost:
        assert location == "/checkout/payment-details/"
        assert any("sold out" in m and "refunded" in m for m in messages), messages

    assert Order.objects.count() == 3
    stockrecord.refresh_from_db()
    assert (stockrecord.num_in_stock, stockrecord.num_allocated) == (3, 3)
    assert PaymentRefund.objects.count() == 17
    _assert_invariants(paid_intents=pi_ids)


def _webhook_process(pi_id: str, event: dict) -> None:
    stored, _ = stripe_event_store(event=event)
    stripe_event_process(event=stored)


def test_browser_and_webhook_together_place_one_order(demo_catalogue, localstripe):
    stock_set(100)
    paid = []
    for _round in range(10):
        client, pi_id = buyer_paid(_round)
        paid.append(pi_id)
        event = succeeded_event(pi_id)

        def side(which, client=client, pi_id=pi_id, event=event):
            if which == "browser":
                return client.post("/checkout/payment-confirm/", {"payment_intent_id": pi_id})
            return _webhook_process(pi_id, event)

        browser, webhook = in_threads(side, ["browser", "webhook"])
        assert not isinstance(browser, Exception) and webhook is None, (browser, webhook)
        assert browser["Location"] == "/checkout/thank-you/"
        record = PaymentIntentRecord.objects.get(payment_intent_id=pi_id)
        order = Order.objects.get(number=record.order_number)
        assert order.sources.count() == 1 and order.payment_events.count() == 1
        assert StripeEvent.objects.get(stripe_id=event["id"]).processed_at is not None
    assert Order.objects.count() == 10
    _assert_invariants(paid_intents=paid)


def test_browser_and_webhook_together_when_sold_out_refund_once(demo_catalogue, localstripe):
    """The last unit went to someone else: both sides refuse, the payment is refunded once,
    the browser gets "sold out" (not an error page) and the webhook's processing succeeds."""
    paid = []
    for _round in range(5):
        stock_set(1)
        client, pi_id = buyer_paid(_round)
        stock_set(0)  # someone else took the last unit meanwhile
        paid.append(pi_id)
        event = succeeded_event(pi_id)

        def side(which, client=client, pi_id=pi_id, event=event):
            if which == "browser":
                return client.post("/checkout/payment-confirm/", {"payment_intent_id": pi_id})
            return _webhook_process(pi_id, event)

        browser, webhook = in_threads(side, ["browser", "webhook"])
        assert not isinstance(browser, Exception) and webhook is None, (browser, webhook)
        assert browser["Location"] == "/checkout/payment-details/"
        assert any("sold out" in m for m in _messages(browser)), _messages(browser)
        assert StripeEvent.objects.get(stripe_id=event["id"]).processed_at is not None
        # Replays later refuse the same way and refund nothing more.
        with pytest.raises(OrderPlacementRefused):
            order_place_for_payment_intent(payment_intent_id=pi_id)
        assert PaymentRefund.objects.filter(record__payment_intent_id=pi_id).count() == 1
    assert Order.objects.count() == 0
    _assert_invariants(paid_intents=paid)


def test_a_refunded_payment_never_becomes_an_order(demo_catalogue, localstripe):
    """Sold out → refunded; stock comes back (a cancelled order) and the webhook is
    replayed: still no order, since the money has gone back."""
    stock_set(1)
    client, pi_id = buyer_paid(0)
    stock_set(0)
    with pytest.raises(SoldOut):
        order_place_for_payment_intent(payment_intent_id=pi_id)
    stock_set(5)
    with pytest.raises(OrderPlacementRefused) as refused:
        order_place_for_payment_intent(payment_intent_id=pi_id)
    assert "refunded" in refused.value.message
    response = client.post("/checkout/payment-confirm/", {"payment_intent_id": pi_id})
    assert response["Location"] == "/checkout/payment-details/"
    assert Order.objects.count() == 0
    _assert_invariants(paid_intents=[pi_id])


def test_webhook_storm_and_a_late_payment_failed_make_one_order(
    demo_catalogue, localstripe, eager_tasks
):
    stock_set(10)
    _client, pi_id = buyer_paid(0)
    succeeded = succeeded_event(pi_id)
    # A payment_failed from before the success (first card declined), delivered last.
    failed_obj = dict(succeeded["data"]["object"], status="requires_payment_method")
    failed_obj["last_payment_error"] = {"message": "Your card was declined."}
    failed = make_event(
        "payment_intent.payment_failed", failed_obj, created=succeeded["created"] - 60
    )

    for _ in range(5):
        assert post_event(Client(), succeeded).status_code == 200
    statuses = in_threads(lambda _i: post_event(Client(), succeeded).status_code, range(15))
    assert statuses == [200] * 15
    # Stripe may also send distinct events for one intent; they race for placement too.
    others = [succeeded_event(pi_id) for _ in range(4)]
    statuses = in_threads(lambda e: post_event(Client(), e).status_code, others)
    assert statuses == [200] * 4
    assert post_event(Client(), failed).status_code == 200

    assert StripeEvent.objects.filter(stripe_id=succeeded["id"]).count() == 1
    assert StripeEvent.objects.count() == 6
    assert not StripeEvent.objects.filter(processed_at__isnull=True).exists()
    record = PaymentIntentRecord.objects.get(payment_intent_id=pi_id)
    assert record.status == PaymentIntentRecord.Status.SUCCEEDED and record.order_number
    assert Order.objects.count() == 1
    order = Order.objects.get()
    assert order.sources.count() == 1 and order.payment_events.count() == 1
    assert StockRecord.objects.get(product__upc=UPC).num_allocated == 1
    _assert_invariants(paid_intents=[pi_id])


def test_three_d_secure_not_done_places_nothing(demo_catalogue, localstripe):
    stockrecord = stock_set(3)
    client = Client()
    pi_id = to_payment_page(client).context["payment_intent_id"]
    intent = pay(pi_id, THREE_D_SECURE)
    assert intent.status == "requires_action"

    with pytest.raises(OrderPlacementRefused) as refused:
        order_place_for_payment_intent(payment_intent_id=pi_id)
    assert "authenticat" in refused.value.message.lower()
    response = client.post("/checkout/payment-confirm/", {"payment_intent_id": pi_id})
    assert response["Location"] == "/checkout/payment-details/"
    assert any("authenticat" in m.lower() for m in _messages(response)), _messages(response)

    assert Order.objects.count() == 0 and Source.objects.count() == 0
    assert PaymentRefund.objects.count() == 0
    record = PaymentIntentRecord.objects.get(payment_intent_id=pi_id)
    assert record.status != PaymentIntentRecord.Status.SUCCEEDED and not record.order_number
    stockrecord.refresh_from_db()
    assert (stockrecord.num_in_stock, stockrecord.num_allocated) == (3, 0)
    assert response.wsgi_request.basket.num_items == 1
    _assert_invariants(paid_intents=[])
