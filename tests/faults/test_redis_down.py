"""Redis (the task broker) down while a shopper pays: the order is still placed, nothing is
lost, and the emails go out once Redis is back (the outbox, drained by beat)."""

import time
from datetime import timedelta

import pytest

from config.celery_app import app
from shop.common import outbox
from shop.common.models import OutboxMessage
from shop.common.outbox import outbox_drain
from shop.order.models import CommunicationEvent, Order
from tests.conftest import sent_emails, start_worker, stop_worker, wait_for
from tests.factories import pay, to_payment_page
from tests.faults.invariants import assert_invariants


@pytest.fixture
def broker(private_redis):
    """Point this process's Celery app at the private Redis (and back afterwards)."""
    old = app.conf.broker_url
    app.conf.broker_url = private_redis.url
    app._after_fork()  # forget pooled connections to the old broker
    yield private_redis
    app.conf.broker_url = old
    app._after_fork()
    outbox._broker_down_until = 0.0  # the circuit breaker must not outlive the test


@pytest.mark.worker
def test_checkout_with_redis_down_places_the_order_and_emails_later(
    client, transactional_db, demo_catalogue, localstripe, broker, mail_dir
):
    worker = start_worker(
        mail_dir=mail_dir, log_path=mail_dir.parent / "worker.log", broker_url=broker.url
    )
    try:
        pi_id = to_payment_page(client).context["payment_intent_id"]
        pay(pi_id)
        broker.stop()  # Redis goes down just as the shopper confirms

        started = time.monotonic()
        response = client.post("/checkout/payment-confirm/", {"payment_intent_id": pi_id})
        elapsed = time.monotonic() - started
        assert response.status_code == 302 and response["Location"] == "/checkout/thank-you/"
        assert elapsed < 5, f"the shopper waited {elapsed:.1f}s for a broker that is down"
        order = Order.objects.get()
        assert order.status == "Paid"
        waiting = OutboxMessage.objects.filter(sent_at__isnull=True)
        assert sorted(waiting.values_list("task", flat=True)) == [
            "shop.order.tasks.send_order_email",
            "shop.workshop.tasks.create_workshop_jobs",
        ]
        assert all(m.last_error for m in waiting)
        assert outbox_drain(grace=timedelta(0)) == 0  # still down: nothing lost, nothing sent

        # The staff screen says what waits.
        assert not sent_emails(mail_dir)

        broker.start()  # back, on the same port (the worker reconnects by itself)
        assert outbox_drain(grace=timedelta(0)) == 2  # what beat's drain_outbox does
        emails = wait_for(lambda: sent_emails(mail_dir), timeout=60)
        assert f"Your Marlow & Vale order {order.number}" in emails[0]
        assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
        assert outbox_drain(grace=timedelta(0)) == 0
        wait_for(lambda: CommunicationEvent.objects.filter(order=order).count() == 1)
        time.sleep(1)
        assert len(sent_emails(mail_dir)) == 1
    finally:
        stop_worker(worker)
    assert_invariants()
