"""Celery tasks: ids in, a service call out. All idempotent."""

from datetime import timedelta

from celery import shared_task

from shop.common.tasks import durable_task
from shop.payments.exceptions import PaymentProviderUnavailable
from shop.payments.models import PaymentIntentRecord, StripeEvent
from shop.payments.selectors import stripe_events_unprocessed
from shop.payments.services import payment_fee_record, stripe_event_process


@durable_task(retry_on=(PaymentProviderUnavailable,))
def process_stripe_event(self, event_pk: int) -> None:
    """Process one stored Stripe event (a no-op if it already was)."""
    stripe_event_process(event=StripeEvent.objects.get(pk=event_pk))


@durable_task(retry_on=(PaymentProviderUnavailable,))
def record_payment_fee(self, record_pk: int) -> None:
    """Record a succeeded payment's fee (a no-op once recorded)."""
    payment_fee_record(record=PaymentIntentRecord.objects.get(pk=record_pk))


@shared_task(acks_late=True)
def stripe_events_sweep(older_than_seconds: int = 300, max_attempts: int = 20) -> int:
    """Re-enqueue events whose processing never happened (broker down at the webhook, task
    lost) or failed for good; meant for a periodic schedule. Returns how many it queued."""
    pks = list(
        stripe_events_unprocessed(
            older_than=timedelta(seconds=older_than_seconds), max_attempts=max_attempts
        ).values_list("pk", flat=True)[:500]
    )
    for pk in pks:
        process_stripe_event.delay(pk)
    return len(pks)
