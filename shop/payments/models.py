from decimal import Decimal

from django.db import models
from django.utils import timezone


class StripeEvent(models.Model):
    """A webhook event as Stripe sent it, stored (once, by its id) before it is processed."""

    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    stripe_created_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    processing_error = models.TextField(blank=True)

    class Meta:
        ordering = ["received_at", "pk"]
        indexes = [
            models.Index(
                fields=["received_at"],
                name="payments_event_unprocessed",
                condition=models.Q(processed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_id}"

    @property
    def data_object(self) -> dict:
        return self.payload.get("data", {}).get("object", {})


class PaymentIntentRecord(models.Model):
    """What we have learnt about one PaymentIntent from Stripe's events.

    Status only moves forward: once succeeded (or canceled) a late or replayed event of an
    earlier state changes nothing. Amounts are in the currency's units (Decimal)."""

    class Status(models.TextChoices):
        REQUIRES_PAYMENT_METHOD = "requires_payment_method", "Awaiting a card"
        PAYMENT_FAILED = "payment_failed", "Payment failed"
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Succeeded"
        CANCELED = "canceled", "Canceled"

    FINAL_STATUSES = (Status.SUCCEEDED, Status.CANCELED)

    payment_intent_id = models.CharField(max_length=255, unique=True)
    basket_id = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    order_number = models.CharField(max_length=128, blank=True, db_index=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=32, choices=Status.choices, default=Status.REQUIRES_PAYMENT_METHOD
    )
    last_payment_error = models.TextField(blank=True)
    amount_refunded = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    fee = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    fee_source = models.CharField(
        max_length=16, blank=True, choices=[("stripe", "Stripe balance"), ("rate", "Our rate")]
    )
    # Stripe's fingerprint of the card that paid (the same card number gives the same
    # fingerprint), read once when a rule needs it (`payment_card_fingerprint`): referrals
    # refuse a friend who pays with the referrer's card. Blank: not read yet, or no card.
    card_fingerprint = models.CharField(max_length=64, blank=True, default="", db_index=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_refunded__gte=0), name="payments_refunded_not_negative"
            ),
            # One order per PaymentIntent, and one PaymentIntent per order.
            models.UniqueConstraint(
                fields=["order_number"],
                condition=~models.Q(order_number=""),
                name="payments_one_intent_per_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment_intent_id} {self.status}"


class PaymentRefund(models.Model):
    """One Stripe refund of a PaymentIntent, counted once by its id."""

    record = models.ForeignKey(
        PaymentIntentRecord, on_delete=models.PROTECT, related_name="refunds"
    )
    refund_id = models.CharField(max_length=255, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.refund_id} {self.amount} {self.currency}"
