"""What payments tells the rest of the store (payments imports no app above it). Sent
inside the transaction that processed the Stripe event, with the locked record; receivers
are connected by checkout and order in their AppConfig.ready().

- payment_succeeded(record): the PaymentIntent succeeded.
- payment_failed(record, reason): it failed or was cancelled.
- payment_refunded(record): refunds of it were recorded (record.refunds).
"""

from django.dispatch import Signal

payment_succeeded = Signal()
payment_failed = Signal()
payment_refunded = Signal()
