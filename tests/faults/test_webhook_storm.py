"""A webhook storm: 200 events for eight paid checkouts — each success delivered many times,
some as distinct events, late payment_failed events from before the success, refunds
announced twice, events for intents we never made — posted from eight threads in a shuffled
order. One order per paid basket, one record per PaymentIntent, each email queued once."""

import random

import pytest
from django.test import Client

from shop.common.models import OutboxMessage
from shop.order.models import Order
from shop.payments.models import PaymentIntentRecord, PaymentRefund, StripeEvent
from tests.factories import buyer_paid, in_threads, stock_set, succeeded_event
from tests.faults.invariants import assert_invariants
from tests.payments.helpers import charge_obj, intent_obj, make_event, post_event

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_hundred_events_duplicated_and_out_of_order(
    demo_catalogue, localstripe, eager_tasks, published_tasks
):
    stock_set(100)
    buyers = [buyer_paid(i) for i in range(8)]
    pi_ids = [pi for _, pi in buyers]
    rng = random.Random(20261125)
    events: list[dict] = []
    for pi_id in pi_ids:
        succeeded = succeeded_event(pi_id)
        events += [succeeded] * 12  # the same event id, again and again
        events += [succeeded_event(pi_id) for _ in range(4)]  # distinct ids, same intent
        failed_obj = dict(succeeded["data"]["object"], status="requires_payment_method")
        failed_obj["last_payment_error"] = {"message": "Your card was declined."}
        events += [  # a decline from before the success, arriving after it
            make_event(
                "payment_intent.payment_failed", failed_obj, created=succeeded["created"] - 60
            )
        ] * 2
    amount = int(PaymentIntentRecord.objects.get(payment_intent_id=pi_ids[0]).amount * 100)
    refund = make_event(
        "charge.refunded", charge_obj(pi_ids[0], amount=amount, refunds=[("re_storm1", 500)])
    )
    events += [refund] * 3
    while len(events) < 200:  # intents that are not ours (another integration, a test)
        events.append(make_event("payment_intent.succeeded", intent_obj(f"pi_alien{len(events)}")))
    rng.shuffle(events)
    assert len(events) == 200

    def deliver(batch: list[dict]) -> list[int]:
        client = Client()
        return [post_event(client, event).status_code for event in batch]

    results = in_threads(deliver, [events[i::8] for i in range(8)])
    assert all(codes == [200] * 25 for codes in results), results

    distinct = {event["id"] for event in events}
    assert StripeEvent.objects.count() == len(distinct)
    assert not StripeEvent.objects.filter(processed_at__isnull=True).exists()
    assert Order.objects.count() == 8
    for pi_id in pi_ids:
        record = PaymentIntentRecord.objects.get(payment_intent_id=pi_id)
        assert record.status == PaymentIntentRecord.Status.SUCCEEDED and record.order_number
    assert PaymentRefund.objects.filter(refund_id="re_storm1").count() == 1
    first = Order.objects.get(
        number=PaymentIntentRecord.objects.get(payment_intent_id=pi_ids[0]).order_number
    )
    assert first.payment_events.filter(event_type__name="Refunded").count() == 1
    # Each order queued its confirmation and its tickets once.
    assert OutboxMessage.objects.count() == 16
    assert (
        sorted(task for task, _ in published_tasks)
        == ["create_workshop_jobs"] * 8 + ["send_order_email"] * 8
    )
    assert_invariants()
