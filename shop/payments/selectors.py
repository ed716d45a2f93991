"""Reads for payments."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from shop.payments.models import PaymentIntentRecord, StripeEvent


def stripe_events_unprocessed(*, older_than: timedelta, max_attempts: int) -> QuerySet:
    """Stored events still waiting after `older_than` (their task was lost or keeps failing)."""
    return StripeEvent.objects.filter(
        processed_at__isnull=True,
        received_at__lt=timezone.now() - older_than,
        attempts__lt=max_attempts,
    ).order_by("received_at", "pk")


def payment_intent_record_get(*, payment_intent_id: str) -> PaymentIntentRecord | None:
    return PaymentIntentRecord.objects.filter(payment_intent_id=payment_intent_id).first()
