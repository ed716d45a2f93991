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
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from shop.common.parsing import parse_timestamp
from shop.payments import stripe_api
from shop.payments.exceptions import PaymentError
from shop.payments.models import PaymentIntentRecord, PaymentRefund, StripeEvent
from shop.payments.money import exponent, from_minor, to_minor

logger = logging.getLogger(__name__)

Status = PaymentIntentRecord.Status


# --- PaymentIntents for baskets ---


def payment_intent_for_basket(
    *,
    basket: Any,
    email: str,
    amount: Decimal,
    currency: str = "GBP",
    checkout: dict[str, Any] | None = None,
) -> PaymentIntentRecord:
    """The PaymentIntent of this basket's current attempt, for `amount` (basket total incl.
    shipping), made once and reused: a changed total updates it, unless it has already
    succeeded (then a new attempt starts). The returned record carries the intent's
    `client_secret` (not stored) for the payment page, and `checkout` (what the order is
    placed from) is saved on it.

    Raises PaymentProviderUnavailable when Stripe cannot be reached."""
    currency = currency.upper()
    amount_minor = to_minor(amount, currency)
    metadata = {"basket_id": str(basket.id), "email": email or ""}
    with transaction.atomic():
        # One attempt at a time per basket: two tabs opening the payment page queue here.
        basket._meta.model.objects.select_for_update().filter(pk=basket.pk).first()
        attempts = PaymentIntentRecord.objects.filter(basket_id=basket.id)
        record = (
            attempts.select_for_update()
            .filter(order_number="", currency=currency)
            .exclude(status__in=PaymentIntentRecord.FINAL_STATUSES)
            .order_by("-pk")
            .first()
        )
        intent = None
        if record is not None:
            intent = stripe_api.payment_intent_retrieve(payment_intent_id=record.payment_intent_id)
            if intent.status in ("succeeded", "canceled", "processing"):
                intent = None  # paid (or being paid) already: never change it, start anew
            elif getattr(intent, "last_payment_error", None):
                # A card was declined or failed authentication on this attempt: the shopper
                # tries another card on a fresh PaymentIntent (the old one is cancelled).
                try:
                    stripe_api.payment_intent_cancel(payment_intent_id=record.payment_intent_id)
                except PaymentError:
                    logger.warning("Could not cancel %s", record.payment_intent_id)
                intent = None
            elif (
                int(intent.amount) != amount_minor
                or (intent.metadata.to_dict() if intent.metadata else {}) != metadata
            ):
                intent = stripe_api.payment_intent_update(
                    payment_intent_id=record.payment_intent_id,
                    amount_minor=amount_minor,
                    metadata=metadata,
                )
        if intent is None:
            intent = stripe_api.payment_intent_create(
                amount_minor=amount_minor,
                currency=currency,
                metadata=metadata,
                idempotency_key=f"mv-basket-{basket.id}-{amount_minor}-{attempts.count()}",
            )
            record, _ = PaymentIntentRecord.objects.select_for_update().get_or_create(
                payment_intent_id=intent.id,
                defaults={"basket_id": basket.id, "amount": amount, "currency": currency},
            )
        record.amount = from_minor(intent.amount, currency)
        record.basket_id = basket.id
        record.checkout = dict(checkout or {}, email=email or "")
        record.save(update_fields=["amount", "basket_id", "checkout", "updated_at"])
    record.client_secret = intent.client_secret
    return record


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


def payment_succeeded_hook(*, record: PaymentIntentRecord, event: StripeEvent) -> None:
    """Place the order for a succeeded PaymentIntent (the shopper may have closed the
    browser): the same idempotent function the confirmation page calls, so replays and the
    browser together give one order. Refusals are logged (a refund was issued when money
    was taken for an order that cannot be placed); Stripe being unreachable re-raises so the
    task retries."""
    from shop.checkout.services import OrderPlacementRefused, order_place_for_payment_intent

    if record.order_number:
        _pending_order_settle(record=record)  # placed while the bank was still confirming
        return
    if record.basket_id is None or not record.checkout:
        return  # not made by our checkout: nothing to place from
    try:
        order_place_for_payment_intent(payment_intent_id=record.payment_intent_id)
    except OrderPlacementRefused as exc:
        logger.warning(
            "PaymentIntent %s (basket %s): no order placed: %s",
            record.payment_intent_id,
            record.basket_id,
            exc.message,
        )


def _on_payment_intent_succeeded(*, event: StripeEvent) -> None:
    record = _record_for_intent(event=event)
    _status_advance(record=record, status=Status.SUCCEEDED, event=event)
    payment_succeeded_hook(record=record, event=event)
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
    _pending_order_cancel(record=record, reason="The payment failed.")


def _on_payment_intent_canceled(*, event: StripeEvent) -> None:
    record = _record_for_intent(event=event)
    _status_advance(record=record, status=Status.CANCELED, event=event)
    _pending_order_cancel(record=record, reason="The payment was cancelled.")


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
    order_refunds_sync(record=record)


EVENT_HANDLERS: dict[str, Callable[..., None]] = {
    "payment_intent.succeeded": _on_payment_intent_succeeded,
    "payment_intent.payment_failed": _on_payment_intent_payment_failed,
    "payment_intent.canceled": _on_payment_intent_canceled,
    "charge.refunded": _on_charge_refunded,
}


# --- Refunds ---


def payment_refund_create(
    *, record: PaymentIntentRecord, amount: Decimal | None, idempotency_key: str
) -> PaymentRefund:
    """Refund `amount` (None = all that is left) through Stripe and record it once.

    The record stays locked during the Stripe call so two refunds of the same payment are
    checked one after the other against what is left (staff action, low volume)."""
    with transaction.atomic():
        record = PaymentIntentRecord.objects.select_for_update().get(pk=record.pk)
        if record.status != Status.SUCCEEDED:
            raise PaymentError("Only a payment that succeeded can be refunded.")
        left = record.amount - record.amount_refunded
        amount = left if amount is None else amount
        if amount <= 0 or amount > left:
            raise PaymentError(f"A refund must be more than 0 and at most {left}.")
        refund = stripe_api.refund_create(
            payment_intent_id=record.payment_intent_id,
            amount_minor=to_minor(amount, record.currency),
            idempotency_key=idempotency_key,
        )
        row = _refund_row(record=record, refund=refund.to_dict())
        _refunded_total_update(record=record, at_least=Decimal("0"))
    return row


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
        status__in=["failed", "canceled"]
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
    """Move the (locked) record to `status` unless that would go backwards: a final status
    (succeeded, canceled) never changes, and an event older than the last one applied does
    not override it. Returns whether the record changed."""
    event_at = event.stripe_created_at or event.received_at
    if record.status in PaymentIntentRecord.FINAL_STATUSES:
        return False
    if (
        record.last_event_at
        and event_at < record.last_event_at
        and status not in (PaymentIntentRecord.FINAL_STATUSES)
    ):
        return False
    intent = event.data_object
    record.status = status
    record.last_event_at = max(filter(None, [record.last_event_at, event_at]))
    record.amount = from_minor(intent["amount"], intent["currency"])
    record.currency = intent["currency"].upper()
    record.last_payment_error = error
    record.save(
        update_fields=[
            "status",
            "last_event_at",
            "amount",
            "currency",
            "last_payment_error",
            "updated_at",
        ]
    )
    return True


# --- Refunds of orders (staff, from the dashboard) ---


class RefundRefused(PaymentError):
    """The refund was refused before anything went to Stripe; `message` is for staff and
    `field` names the form field it is about (None: the whole form)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


REFUND_NOT_COUNTED = ("failed", "canceled")

# What an order's refunds must leave unpaid, reported by apps above payments (the take-back
# scheme: store credit already paid for an item of the order). Each hook takes the order and
# returns (amount, reason for staff); apps append theirs in AppConfig.ready().
REFUND_DEDUCTIONS: list[Callable[[Any], tuple[Decimal, str]]] = []


def order_refund_deductions(*, order: Any) -> tuple[Decimal, list[str]]:
    """The total held back from the order's refunds and the reasons, for the refund page."""
    total, reasons = Decimal("0.00"), []
    for hook in REFUND_DEDUCTIONS:
        amount, reason = hook(order)
        if amount > 0:
            total += amount
            reasons.append(reason)
    return total, reasons


def order_refund(
    *,
    order: Any,
    amount: Decimal,
    staff: Any,
    reason: str = "",
    refunded_before: Decimal | None = None,
    sync_status: bool = True,
) -> PaymentRefund:
    """Refund `amount` of a card-paid order through Stripe and record it on the order: an
    Oscar PaymentEvent "Refunded", a refund on the order's "Stripe" payment Source and an
    order note with who and why. Returns the PaymentRefund.

    Runs under the lock of the order's PaymentIntentRecord, so refunds of one order are
    checked one after the other against what is left. `refunded_before` is what the form
    showed as already refunded: if it changed meanwhile (the form sent twice, another staff
    member) nothing is refunded. The Stripe idempotency key is derived from the locked state,
    so a retried request after a lost reply gives back the same refund. Stripe unreachable:
    PaymentProviderUnavailable, nothing recorded. Refused input: RefundRefused."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise RefundRefused("Enter an amount.", field="amount")
    with transaction.atomic():
        record = (
            PaymentIntentRecord.objects.select_for_update()
            .filter(order_number=order.number)
            .first()
        )
        if record is None:
            raise RefundRefused("This order was not paid by card through Stripe.")
        if record.status != Status.SUCCEEDED:
            raise RefundRefused("Only a payment that succeeded can be refunded.")
        quantum = Decimal(1).scaleb(-exponent(record.currency))
        if amount != amount.quantize(quantum):
            raise RefundRefused(
                f"Enter the amount in {record.currency} with at most {exponent(record.currency)}"
                " decimal places.",
                field="amount",
            )
        held, reasons = order_refund_deductions(order=order)
        left = max(record.amount - record.amount_refunded - held, Decimal("0.00"))
        if refunded_before is not None and refunded_before != record.amount_refunded:
            raise RefundRefused(
                "This order's refunds changed since the page was shown (was the form sent "
                "twice?); nothing more was refunded. Check the figures and try again."
            )
        if left <= 0:
            raise RefundRefused(
                " ".join(["Nothing is left to refund on this order.", *reasons])
                if held
                else "This order has been refunded in full already."
            )
        if amount <= 0:
            raise RefundRefused("A refund must be more than 0.", field="amount")
        if amount > left:
            raise RefundRefused(
                " ".join([f"At most {left} {record.currency} can be refunded.", *reasons]),
                field="amount",
            )
        refunded_minor = to_minor(record.amount_refunded, record.currency)
        amount_minor = to_minor(amount, record.currency)
        refund = payment_refund_create(
            record=record,
            amount=amount,
            idempotency_key=f"mv-order-refund-{record.payment_intent_id}-{refunded_minor}-{amount_minor}",
        )
        order_refund_record(order=order, refund=refund)
        who = (staff.get_full_name() or staff.get_username()) if staff is not None else "staff"
        order.notes.create(
            user=staff if staff is not None and staff.pk else None,
            note_type="Info",
            message=(
                f"Refunded {refund.amount} {refund.currency} through Stripe ({refund.refund_id})"
                f" by {who}." + (f" Reason: {reason.strip()}" if reason.strip() else "")
            ),
        )
        if sync_status:
            from shop.order.services import order_refund_status_sync

            order_refund_status_sync(order=order, actor=staff)
    return refund


def order_refund_record(*, order: Any, refund: PaymentRefund) -> bool:
    """Record one Stripe refund on the order, once (keyed by the refund id): a PaymentEvent
    "Refunded" and a refund on the "Stripe" Source. Called by `order_refund` and for each
    refund in a `charge.refunded` event, so a refund made outside the dashboard (or whose
    reply was lost) is recorded too, and one made here is not recorded twice. Failed or
    canceled refunds are not recorded. Returns whether anything was recorded."""
    from oscar.core.loading import get_model

    PaymentEvent = get_model("order", "PaymentEvent")
    PaymentEventType = get_model("order", "PaymentEventType")
    Source = get_model("payment", "Source")

    if refund.status in REFUND_NOT_COUNTED:
        return False
    event_type, _ = PaymentEventType.objects.get_or_create(name="Refunded")
    if PaymentEvent.objects.filter(
        order=order, event_type=event_type, reference=refund.refund_id
    ).exists():
        return False
    PaymentEvent.objects.create(
        order=order, event_type=event_type, amount=refund.amount, reference=refund.refund_id
    )
    source = (
        Source.objects.select_for_update()
        .filter(order=order, source_type__name="Stripe", reference=refund.record.payment_intent_id)
        .first()
    )
    if source is not None:
        source.refund(refund.amount, reference=refund.refund_id, status=refund.status)
    return True


def order_refunds_sync(*, record: PaymentIntentRecord) -> None:
    """Record on the record's order every refund of it not recorded yet (webhook path)."""
    if not record.order_number:
        return
    from oscar.core.loading import get_model

    order = get_model("order", "Order").objects.filter(number=record.order_number).first()
    if order is None:
        return
    for refund in PaymentRefund.objects.filter(record=record).order_by("created_at", "pk"):
        order_refund_record(order=order, refund=refund)
    from shop.order.services import order_refund_status_sync

    order_refund_status_sync(order=order)


def order_amount_refundable(*, order: Any) -> Decimal:
    """What is left to refund of the order's card payment (0 when it was not card-paid), less
    what the refund deductions hold back."""
    record = PaymentIntentRecord.objects.filter(order_number=order.number).first()
    if record is None or record.status != Status.SUCCEEDED:
        return Decimal("0.00")
    held, _ = order_refund_deductions(order=order)
    return max(record.amount - record.amount_refunded - held, Decimal("0.00"))


def _order_for_record(*, record: PaymentIntentRecord) -> Any:
    from oscar.core.loading import get_model

    if not record.order_number:
        return None
    return get_model("order", "Order").objects.filter(number=record.order_number).first()


def _pending_order_settle(*, record: PaymentIntentRecord) -> bool:
    from shop.order.pipeline import PENDING_PAYMENT

    order = _order_for_record(record=record)
    if order is None or order.status != PENDING_PAYMENT:
        return False
    from shop.checkout.services import order_payment_settle

    order_payment_settle(order=order, payment_intent_id=record.payment_intent_id)
    return True


def _pending_order_cancel(*, record: PaymentIntentRecord, reason: str) -> None:
    from shop.order.pipeline import CANCELLED, PENDING_PAYMENT
    from shop.order.services import order_status_change

    order = _order_for_record(record=record)
    if order is not None and order.status == PENDING_PAYMENT:
        order_status_change(order=order, to_status=CANCELLED, source="payment", note=reason)


def pending_order_payment_settle(*, order: Any) -> bool:
    """For the daily clean-up of unpaid orders: ask Stripe about the order's payment. If it
    succeeded (its webhook lost), the order is settled (True). Otherwise the PaymentIntent
    is cancelled so it can no longer be paid, and False says the order may be cancelled.
    PaymentProviderUnavailable when Stripe cannot be asked (the order is left alone)."""
    record = PaymentIntentRecord.objects.filter(order_number=order.number).first()
    if record is None:
        return False
    intent = stripe_api.payment_intent_retrieve(payment_intent_id=record.payment_intent_id)
    if intent.status == "succeeded":
        with transaction.atomic():
            locked = PaymentIntentRecord.objects.select_for_update().get(pk=record.pk)
            if locked.status not in PaymentIntentRecord.FINAL_STATUSES:
                locked.status = Status.SUCCEEDED
                locked.save(update_fields=["status", "updated_at"])
            return _pending_order_settle(record=locked)
    if intent.status not in ("canceled",):
        try:
            stripe_api.payment_intent_cancel(payment_intent_id=record.payment_intent_id)
        except PaymentError as exc:
            logger.warning("PaymentIntent %s not cancelled: %s", record.payment_intent_id, exc)
    return False
