"""Payments services: store and process Stripe events, record refunds and fees.

Webhook events are stored by id before anything else happens (`stripe_event_store`), then
processed by a Celery task (`stripe_event_process`), which is idempotent: an event is
processed once, under a row lock, and its handler only ever moves a PaymentIntentRecord
forward (a late `payment_failed` after `succeeded` changes nothing; refunds are counted once
by refund id).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from shop.common.parsing import parse_timestamp
from shop.payments import signals, stripe_api
from shop.payments.exceptions import PaymentError, RefundRefused
from shop.payments.models import PaymentIntentRecord, PaymentRefund, StripeEvent
from shop.payments.money import exponent, from_minor, to_minor

logger = logging.getLogger(__name__)

Status = PaymentIntentRecord.Status


# --- PaymentIntents for checkout attempts ---


@dataclass(frozen=True)
class PaidIntent:
    """A PaymentIntent as Stripe reports it now (amount in currency units)."""

    id: str
    status: str
    amount: Decimal
    currency: str
    metadata: dict[str, str]


def payment_intent_open(
    *, amount: Decimal, currency: str, metadata: dict[str, str], idempotency_key: str
) -> PaymentIntentRecord:
    """A new PaymentIntent for exactly `amount`, and its record. Never updated afterwards:
    a different amount is a different PaymentIntent. The record carries the intent's
    `client_secret` (not stored). PaymentProviderUnavailable when Stripe cannot be reached."""
    currency = currency.upper()
    intent = stripe_api.payment_intent_create(
        amount_minor=to_minor(amount, currency),
        currency=currency,
        metadata=metadata,
        idempotency_key=idempotency_key,
    )
    record, _ = PaymentIntentRecord.objects.get_or_create(
        payment_intent_id=intent.id,
        defaults={
            "amount": from_minor(intent.amount, currency),
            "currency": currency,
            **_metadata_fields(metadata),
        },
    )
    record.client_secret = intent.client_secret
    return record


SESSION_INTENTS = "stripe_payment_intents"


def session_intent_allow(*, session: Any, payment_intent_id: str) -> None:
    """This browser session was shown this PaymentIntent (its payment page): only these may
    be confirmed through the session (localstripe's adapter)."""
    shown = [pi for pi in session.get(SESSION_INTENTS, []) if pi != payment_intent_id]
    session[SESSION_INTENTS] = (shown + [payment_intent_id])[-20:]


def session_intent_allowed(*, session: Any, payment_intent_id: str) -> bool:
    return bool(payment_intent_id) and payment_intent_id in session.get(SESSION_INTENTS, [])


def payment_intent_reusable(*, payment_intent_id: str) -> str:
    """The client secret if this PaymentIntent can still be paid from a payment page
    (waiting for a card, none refused yet), else "": a declined or failed card goes on a
    fresh PaymentIntent (this one is cancelled); one paid or being paid is never reused."""
    intent = stripe_api.payment_intent_retrieve(payment_intent_id=payment_intent_id)
    if intent.status in ("succeeded", "canceled", "processing"):
        return ""
    if getattr(intent, "last_payment_error", None):
        payment_intent_cancel_quietly(payment_intent_id=payment_intent_id)
        return ""
    return intent.client_secret


def payment_intent_cancel_quietly(*, payment_intent_id: str) -> None:
    """Cancel a PaymentIntent nobody should pay any more; a failure (already paid or
    cancelled, Stripe unreachable) is only logged."""
    try:
        stripe_api.payment_intent_cancel(payment_intent_id=payment_intent_id)
    except PaymentError as exc:
        logger.info("PaymentIntent %s not cancelled: %s", payment_intent_id, exc.message)


def payment_intent_read(*, payment_intent_id: str) -> PaidIntent:
    """Stripe's word on the PaymentIntent (never the browser's)."""
    intent = stripe_api.payment_intent_retrieve(payment_intent_id=payment_intent_id)
    return PaidIntent(
        id=intent.id,
        status=intent.status,
        amount=from_minor(intent.amount, intent.currency),
        currency=intent.currency.upper(),
        metadata=intent.metadata.to_dict() if intent.metadata else {},
    )


def payment_record_lock(*, intent: PaidIntent) -> PaymentIntentRecord | None:
    """The intent's record, locked (in the caller's transaction), its status brought up to
    what Stripe said; None when we did not make this PaymentIntent."""
    record = (
        PaymentIntentRecord.objects.select_for_update().filter(payment_intent_id=intent.id).first()
    )
    if record is not None and intent.status == Status.SUCCEEDED:
        _status_write(record=record, status=Status.SUCCEEDED)
    return record


def payment_record_order_set(*, record: PaymentIntentRecord, order_number: str) -> None:
    """The (locked) payment became this order: one order per PaymentIntent."""
    record.order_number = order_number
    record.save(update_fields=["order_number", "updated_at"])


def payment_refund_unplaced(*, payment_intent_id: str, succeeded: bool = False) -> str:
    """Refund a paid PaymentIntent that could not become an order, once: under the
    record's lock, so the browser and the webhook refusing together refund it a single
    time, and a placement (which takes the same lock and refuses a refunded payment) never
    interleaves. Returns the order number instead if an order was placed for it meanwhile
    (nothing refunded then), else ""."""
    with transaction.atomic():
        record = PaymentIntentRecord.objects.select_for_update().get(
            payment_intent_id=payment_intent_id
        )
        if record.order_number:
            return record.order_number
        if succeeded:  # Stripe said so a moment ago
            _status_write(record=record, status=Status.SUCCEEDED)
        if record.amount_refunded < record.amount:
            payment_refund_create(
                record=record, amount=None, idempotency_key=f"mv-unplaceable-{payment_intent_id}"
            )
    return ""


# --- Storing events ---


def stripe_event_store(*, event: dict[str, Any]) -> tuple[StripeEvent, bool]:
    """Store a verified webhook event once by its id (duplicates are ignored) and, if it is
    not processed yet, enqueue its processing after commit. Returns (event, created)."""
    created_ts = event.get("created")
    with transaction.atomic():
        stored, created = StripeEvent.objects.get_or_create(
            stripe_id=event["id"],
            defaults={
                "type": event["type"],
                "livemode": bool(event.get("livemode", False)),
                "payload": event,
                "stripe_created_at": _timestamp(created_ts),
            },
        )
        if stored.processed_at is None:
            pk = stored.pk
            transaction.on_commit(lambda: stripe_event_enqueue(event_pk=pk))
    return stored, created


def stripe_event_enqueue(*, event_pk: int) -> None:
    """Queue processing; if the broker is down the event stays unprocessed for the sweeper
    (`stripe_events_sweep`) instead of failing the webhook that already stored it."""
    from shop.payments.tasks import process_stripe_event

    try:
        process_stripe_event.delay(event_pk)
    except Exception:
        logger.exception("Could not enqueue Stripe event %s; the sweeper will retry", event_pk)


# --- Processing events ---


def stripe_event_process(*, event: StripeEvent) -> StripeEvent:
    """Process a stored event once: dispatch by type, then mark it processed. Safe to call
    any number of times, concurrently too (the event row is locked). On failure nothing of
    the handler's work is kept, the attempt and error are recorded, and the error re-raised
    (the task retries)."""
    try:
        with transaction.atomic():
            locked = StripeEvent.objects.select_for_update().get(pk=event.pk)
            if locked.processed_at is not None:
                return locked
            handler = EVENT_HANDLERS.get(locked.type)
            if handler is not None:
                handler(event=locked)
            locked.processed_at = timezone.now()
            locked.attempts += 1
            locked.processing_error = ""
            locked.save(update_fields=["processed_at", "attempts", "processing_error"])
            return locked
    except Exception as exc:
        StripeEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(
            attempts=F("attempts") + 1,
            processing_error=f"{type(exc).__name__}: {exc}"[:4000],
        )
        raise


def _on_payment_intent_succeeded(*, event: StripeEvent) -> None:
    record = _record_for_intent(event=event)
    _status_advance(record=record, status=Status.SUCCEEDED, event=event)
    # Checkout places the order of the attempt it paid (the shopper may have closed the
    # browser); order settles one placed while the bank was still confirming.
    signals.payment_succeeded.send(sender=PaymentIntentRecord, record=record)
    if record.fee is None:
        pk = record.pk
        transaction.on_commit(lambda: _enqueue_fee(record_pk=pk))


def _on_payment_intent_payment_failed(*, event: StripeEvent) -> None:
    record = _record_for_intent(event=event)
    error = event.data_object.get("last_payment_error") or {}
    _status_advance(
        record=record,
        status=Status.PAYMENT_FAILED,
        event=event,
        error=str(error.get("message") or "The payment failed."),
    )
    signals.payment_failed.send(
        sender=PaymentIntentRecord, record=record, reason="The payment failed."
    )


def _on_payment_intent_canceled(*, event: StripeEvent) -> None:
    record = _record_for_intent(event=event)
    _status_advance(record=record, status=Status.CANCELED, event=event)
    signals.payment_failed.send(
        sender=PaymentIntentRecord, record=record, reason="The payment was cancelled."
    )


def _on_charge_refunded(*, event: StripeEvent) -> None:
    charge = event.data_object
    intent_id = charge.get("payment_intent")
    if isinstance(intent_id, dict):
        intent_id = intent_id.get("id")
    if not intent_id:
        logger.warning("charge.refunded %s has no PaymentIntent; ignored", event.stripe_id)
        return
    currency = charge["currency"]
    record, _ = PaymentIntentRecord.objects.select_for_update().get_or_create(
        payment_intent_id=intent_id,
        defaults={
            "amount": from_minor(charge["amount"], currency),
            "currency": currency.upper(),
            **_metadata_fields(charge.get("metadata") or {}),
        },
    )
    refunds = charge.get("refunds") or {}
    for refund in refunds.get("data", []) if isinstance(refunds, dict) else []:
        _refund_row(record=record, refund=refund)
    _refunded_total_update(
        record=record, at_least=from_minor(charge.get("amount_refunded") or 0, currency)
    )
    signals.payment_refunded.send(sender=PaymentIntentRecord, record=record)


EVENT_HANDLERS: dict[str, Callable[..., None]] = {
    "payment_intent.succeeded": _on_payment_intent_succeeded,
    "payment_intent.payment_failed": _on_payment_intent_payment_failed,
    "payment_intent.canceled": _on_payment_intent_canceled,
    "charge.refunded": _on_charge_refunded,
}


# --- Refunds ---

# Refund statuses that never count as money returned.
REFUND_NOT_COUNTED = ("failed", "canceled")


def payment_refund_create(
    *,
    record: PaymentIntentRecord,
    amount: Decimal | None,
    idempotency_key: str,
    refunded_before: Decimal | None = None,
    held: Decimal = Decimal("0.00"),
    held_reasons: tuple[str, ...] = (),
) -> PaymentRefund:
    """Refund `amount` (None = all that is left) through Stripe and record it once. The
    refund rules live here: a succeeded payment, an amount in the currency's units, more
    than 0 and at most what is left; `refunded_before` (what a form showed as refunded)
    must still hold. `held` is what the apps above keep back from refunds (take-back credit
    already paid for an item of the order), `held_reasons` says why, for staff.
    RefundRefused (nothing sent to Stripe) otherwise.

    The record stays locked during the Stripe call so two refunds of the same payment are
    checked one after the other against what is left (staff action, low volume)."""
    with transaction.atomic():
        record = PaymentIntentRecord.objects.select_for_update().get(pk=record.pk)
        left = max(record.amount - record.amount_refunded - held, Decimal("0.00"))
        amount = left if amount is None else amount
        _refund_check(
            record=record,
            amount=amount,
            left=left,
            refunded_before=refunded_before,
            held_reasons=held_reasons if held > 0 else (),
        )
        refund = stripe_api.refund_create(
            payment_intent_id=record.payment_intent_id,
            amount_minor=to_minor(amount, record.currency),
            idempotency_key=idempotency_key,
        )
        row = _refund_row(record=record, refund=refund.to_dict())
        _refunded_total_update(record=record, at_least=Decimal("0"))
    return row


def _refund_check(
    *,
    record: PaymentIntentRecord,
    amount: Any,
    left: Decimal,
    refunded_before: Decimal | None,
    held_reasons: tuple[str, ...] = (),
) -> None:
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise RefundRefused("Enter an amount.", field="amount")
    if record.status != Status.SUCCEEDED:
        raise RefundRefused("Only a payment that succeeded can be refunded.")
    places = exponent(record.currency)
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        raise RefundRefused(
            f"Enter the amount in {record.currency} with at most {places} decimal places.",
            field="amount",
        )
    if refunded_before is not None and refunded_before != record.amount_refunded:
        raise RefundRefused(
            "This order's refunds changed since the page was shown (was the form sent "
            "twice?); nothing more was refunded. Check the figures and try again."
        )
    if left <= 0:
        raise RefundRefused(
            " ".join(["Nothing is left to refund on this order.", *held_reasons])
            if held_reasons
            else "This order has been refunded in full already."
        )
    if amount <= 0:
        raise RefundRefused("A refund must be more than 0.", field="amount")
    if amount > left:
        raise RefundRefused(
            " ".join([f"At most {left} {record.currency} can be refunded.", *held_reasons]),
            field="amount",
        )


def payment_refund_for_order(
    *,
    order_number: str,
    amount: Decimal,
    refunded_before: Decimal | None = None,
    held: Decimal = Decimal("0.00"),
    held_reasons: tuple[str, ...] = (),
) -> PaymentRefund:
    """Refund part or all of the card payment of this order (staff, cancellations). The
    Stripe idempotency key is derived from the locked state, so a retried request after a
    lost reply gives back the same refund. RefundRefused, PaymentProviderUnavailable."""
    with transaction.atomic():
        record = (
            PaymentIntentRecord.objects.select_for_update()
            .filter(order_number=order_number)
            .first()
        )
        if record is None:
            raise RefundRefused("This order was not paid by card through Stripe.")
        refunded_minor = to_minor(record.amount_refunded, record.currency)
        finite = isinstance(amount, Decimal) and amount.is_finite()
        amount_minor = to_minor(amount, record.currency) if finite else 0
        return payment_refund_create(
            record=record,
            amount=amount,
            idempotency_key=(
                f"mv-order-refund-{record.payment_intent_id}-{refunded_minor}-{amount_minor}"
            ),
            refunded_before=refunded_before,
            held=held,
            held_reasons=held_reasons,
        )


def _refund_row(*, record: PaymentIntentRecord, refund: dict[str, Any]) -> PaymentRefund:
    currency = refund.get("currency") or record.currency
    row, _ = PaymentRefund.objects.get_or_create(
        refund_id=refund["id"],
        defaults={
            "record": record,
            "amount": from_minor(refund["amount"], currency),
            "currency": currency.upper(),
            "status": refund.get("status") or "",
            "created_at": _timestamp(refund.get("created")) or timezone.now(),
        },
    )
    if refund.get("status") and row.status != refund["status"]:
        PaymentRefund.objects.filter(pk=row.pk).update(status=refund["status"])
        row.status = refund["status"]
    return row


def _refunded_total_update(*, record: PaymentIntentRecord, at_least: Decimal) -> None:
    """amount_refunded = the larger of Stripe's cumulative figure and our refunds' sum:
    counting the same refund twice, or an older event after a newer one, changes nothing."""
    counted = PaymentRefund.objects.filter(record=record).exclude(
        status__in=REFUND_NOT_COUNTED
    ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
    total = max(record.amount_refunded, counted, at_least)
    if total != record.amount_refunded:
        record.amount_refunded = total
        record.save(update_fields=["amount_refunded", "updated_at"])


# --- Fees ---


def fee_at_rate(*, amount: Decimal, currency: str) -> Decimal:
    """The configured rate: STRIPE_FEE_PERCENT of the amount plus STRIPE_FEE_FIXED."""
    percent = Decimal(str(settings.STRIPE_FEE_PERCENT))
    fixed = Decimal(str(settings.STRIPE_FEE_FIXED))
    quantum = Decimal(1).scaleb(-exponent(currency))
    return (amount * percent / 100 + fixed).quantize(quantum, ROUND_HALF_UP)


def payment_fee_record(*, record: PaymentIntentRecord) -> PaymentIntentRecord:
    """Record the fee once: Stripe's balance transaction when it gives one, else our rate.
    Raises PaymentProviderUnavailable if Stripe cannot be asked (the task retries)."""
    if record.fee is not None:
        return record
    fee_minor = stripe_api.balance_fee_for(payment_intent_id=record.payment_intent_id)
    if fee_minor is not None:
        fee, source = from_minor(fee_minor, record.currency), "stripe"
    else:
        fee, source = fee_at_rate(amount=record.amount, currency=record.currency), "rate"
    PaymentIntentRecord.objects.filter(pk=record.pk, fee__isnull=True).update(
        fee=fee, fee_source=source, updated_at=timezone.now()
    )
    record.refresh_from_db()
    return record


def payment_card_fingerprint(*, record: PaymentIntentRecord) -> str:
    """The fingerprint of the card that paid this succeeded PaymentIntent, read from Stripe
    the first time and kept on the record; "" when no card paid it (or not succeeded).
    Raises PaymentProviderUnavailable if Stripe cannot be asked (the caller's task retries)."""
    if record.card_fingerprint or record.status != Status.SUCCEEDED:
        return record.card_fingerprint
    fingerprint = stripe_api.card_fingerprint_for(payment_intent_id=record.payment_intent_id)
    if not fingerprint:
        return ""
    PaymentIntentRecord.objects.filter(pk=record.pk, card_fingerprint="").update(
        card_fingerprint=fingerprint, updated_at=timezone.now()
    )
    record.card_fingerprint = fingerprint
    return fingerprint


def _enqueue_fee(*, record_pk: int) -> None:
    from shop.payments.tasks import record_payment_fee

    try:
        record_payment_fee.delay(record_pk)
    except Exception:
        logger.exception("Could not enqueue the fee of PaymentIntentRecord %s", record_pk)


# --- Helpers ---


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return parse_timestamp(value)


def _metadata_fields(metadata: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    basket_id = str(metadata.get("basket_id") or "")
    if basket_id.isdigit():
        fields["basket_id"] = int(basket_id)
    if metadata.get("order_number"):
        fields["order_number"] = str(metadata["order_number"])[:128]
    return fields


def _record_for_intent(*, event: StripeEvent) -> PaymentIntentRecord:
    """The locked record of the event's PaymentIntent, created on first sight; basket id
    and order number are filled from metadata when they were missing."""
    intent = event.data_object
    currency = intent["currency"]
    meta = _metadata_fields(intent.get("metadata") or {})
    record, created = PaymentIntentRecord.objects.select_for_update().get_or_create(
        payment_intent_id=intent["id"],
        defaults={
            "amount": from_minor(intent["amount"], currency),
            "currency": currency.upper(),
            **meta,
        },
    )
    missing = {k: v for k, v in meta.items() if not getattr(record, k)}
    if missing and not created:
        for key, value in missing.items():
            setattr(record, key, value)
        record.save(update_fields=[*missing, "updated_at"])
    return record


def _status_advance(
    *, record: PaymentIntentRecord, status: str, event: StripeEvent, error: str = ""
) -> bool:
    """Move the (locked) record to the event's `status` unless that would go backwards: a
    final status (succeeded, canceled) never changes, and an event older than the last one
    applied does not override it. Returns whether the record changed."""
    event_at = event.stripe_created_at or event.received_at
    if (
        record.last_event_at
        and event_at < record.last_event_at
        and status not in PaymentIntentRecord.FINAL_STATUSES
    ):
        return False
    intent = event.data_object
    return _status_write(
        record=record,
        status=status,
        last_event_at=max(filter(None, [record.last_event_at, event_at])),
        amount=from_minor(intent["amount"], intent["currency"]),
        currency=intent["currency"].upper(),
        last_payment_error=error,
    )


def _status_write(*, record: PaymentIntentRecord, status: str, **fields: Any) -> bool:
    """The only write of PaymentIntentRecord.status: the (locked) record moves to `status`
    with `fields`, unless it is final already (succeeded and canceled never change). Returns
    whether it changed."""
    if record.status in PaymentIntentRecord.FINAL_STATUSES:
        return False
    record.status = status
    for name, value in fields.items():
        setattr(record, name, value)
    record.save(update_fields=["status", *fields, "updated_at"])
    return True


# --- The daily job's question about an unpaid order ---


def payment_succeeded_or_cancel(*, order_number: str) -> bool:
    """For the daily clean-up of unpaid orders: ask Stripe about the order's payment. True
    when it succeeded (its webhook lost; the record says so now). Otherwise the
    PaymentIntent is cancelled so it can no longer be paid, and False says the order may be
    cancelled. PaymentProviderUnavailable when Stripe cannot be asked."""
    record = PaymentIntentRecord.objects.filter(order_number=order_number).first()
    if record is None:
        return False
    intent = stripe_api.payment_intent_retrieve(payment_intent_id=record.payment_intent_id)
    if intent.status == Status.SUCCEEDED:
        with transaction.atomic():
            locked = PaymentIntentRecord.objects.select_for_update().get(pk=record.pk)
            _status_write(record=locked, status=Status.SUCCEEDED)
        return True
    if intent.status != Status.CANCELED:
        payment_intent_cancel_quietly(payment_intent_id=record.payment_intent_id)
    return False


def payment_amount_refundable(*, order_number: str, held: Decimal = Decimal("0.00")) -> Decimal:
    """What is left to refund of the order's card payment (0 when it was not card-paid),
    less `held` (what the apps above keep back)."""
    record = PaymentIntentRecord.objects.filter(order_number=order_number).first()
    if record is None or record.status != Status.SUCCEEDED:
        return Decimal("0.00")
    return max(record.amount - record.amount_refunded - held, Decimal("0.00"))
