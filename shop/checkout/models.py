"""A checkout attempt: what one payment page showed, frozen. Confirming pays exactly this or
nothing (see shop.checkout.services)."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class CheckoutAttempt(models.Model):
    """One payment page's offer: the basket lines and their prices, shipping, the store
    credit to apply and the amount to charge, with its own PaymentIntent (none when credit
    covers it all). Never edited once made: a change in another window makes a new attempt,
    and placing this one refuses if the basket no longer prices to what it froze."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PLACED = "placed", "Order placed"
        CLOSED = "closed", "Closed (another attempt was placed, or it expired)"

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    basket_id = models.PositiveIntegerField(db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    guest_email = models.EmailField(blank=True)
    # What the page showed: lines, shipping, the address and method it was priced for.
    content = models.JSONField()
    fingerprint = models.CharField(max_length=64)
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    credit = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    amount_due = models.DecimalField(max_digits=12, decimal_places=2)
    payment_intent_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    order_number = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=("basket_id", "fingerprint"), name="checkout_attempt_basket")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["payment_intent_id"],
                condition=~models.Q(payment_intent_id=""),
                name="checkout_one_attempt_per_intent",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_due__gte=0, credit__gte=0),
                name="checkout_attempt_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.token} {self.status} {self.amount_due} {self.currency}"

    @property
    def expires_at(self):
        return self.created_at + timedelta(minutes=settings.CHECKOUT_ATTEMPT_MINUTES)

    def summary_lines(self) -> list[dict]:
        """The frozen lines as the payment page shows them, each with its frozen
        personalisation ("options": [{kind, label, text, surcharge}])."""
        options = self.content.get("options") or {}
        return [
            dict(line, options=options.get(str(line.get("line_id")), []))
            for line in self.content.get("lines", [])
        ]

    @property
    def shipping(self) -> dict:
        return self.content.get("shipping") or {}

    def is_expired(self, now=None) -> bool:
        return (now or timezone.now()) >= self.expires_at
