"""Writes for orders after placement: the status pipeline, its side effects (emails,
workshop tickets, stock) and the scheduled clean-ups. Placement itself is Oscar's
(shop.order.utils.OrderCreator, called by shop.checkout.services)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.sites.models import Site
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from oscar.apps.communication.models import CommunicationEventType
from oscar.apps.order.signals import order_status_changed
from oscar.apps.order.utils import OrderDispatcher
from oscar.core.loading import get_model

from shop.common.outbox import outbox_enqueue, outbox_enqueue_many
from shop.order import pipeline
from shop.order.holds import open_work, refund_deductions
from shop.order.models import CommunicationEvent, Order, OrderStatusChange
from shop.order.pipeline import OrderTransitionError
from shop.payments.exceptions import PaymentProviderUnavailable
from shop.payments.models import PaymentIntentRecord, PaymentRefund
from shop.payments.services import (
    REFUND_NOT_COUNTED,
    payment_amount_refundable,
    payment_refund_for_order,
    payment_succeeded_or_cancel,
)
from shop.personalization.rules import makes_to_order

logger = logging.getLogger(__name__)

__all__ = [
    "OrderTransitionError",
    "order_cancel",
    "order_email_send",
    "order_placed_followups",
    "order_status_change",
    "order_status_change_bulk",
    "orders_unpaid_cancel",
]

EMAIL_TASK = "shop.order.tasks.send_order_email"
EMAIL_PLACED = OrderDispatcher.ORDER_PLACED_EVENT_CODE
EMAIL_IN_WORKSHOP = "ORDER_IN_WORKSHOP"
EMAIL_SHIPPED = "ORDER_SHIPPED"
EMAIL_CANCELLED = "ORDER_CANCELLED"
EMAIL_NAMES = {
    EMAIL_PLACED: "Order placed",
    EMAIL_IN_WORKSHOP: "Your order is being made",
    EMAIL_SHIPPED: "Your order has shipped",
    EMAIL_CANCELLED: "Your order is cancelled",
}
By = OrderStatusChange.Source


# --- the status pipeline --------------------------------------------------------------


def order_status_change(
    *,
    order: Order,
    to_status: str,
    actor: Any = None,
    source: str | None = None,
    note: str = "",
    tracking_number: str = "",
    locked: bool = False,
) -> Order:
    """Move the order to `to_status` under its row lock, or raise OrderTransitionError with
    a message for staff. Records who (actor) or what (source) moved it and when, keeps the
    dates the reports read (paid, shipped, delivered), moves stock (shipped: allocation
    consumed; cancelled or refunded before shipping: allocation released) and queues the
    customer's email for the move (through the outbox, after commit).

    `locked`: the caller holds the order's row in its own transaction and `order` is current
    (e.g. created a moment ago): it is not read again, and a refusal rolls back the caller."""
    actor = actor if getattr(actor, "pk", None) else None
    if source is None:
        source = By.STAFF if actor is not None else By.SYSTEM
    with transaction.atomic(savepoint=not locked):
        if not locked:
            order = Order.objects.select_for_update().get(pk=order.pk)
        old = order.status
        # What the workshop rules need, read only for the moves they govern.
        workshop_move = to_status in (pipeline.IN_WORKSHOP, pipeline.READY_TO_SHIP)
        error = pipeline.transition_error(
            from_status=old,
            to_status=to_status,
            personalized=workshop_move and pipeline.is_personalized(order=order),
            open_jobs=open_work(order=order) if workshop_move else 0,
            tracking_number=tracking_number,
        )
        if error:
            raise OrderTransitionError(f"Order {order.number}: {error}")
        now = timezone.now()
        order.status = to_status
        fields = ["status"]
        if to_status == pipeline.PAID:
            order.paid_at = order.paid_at or now
            fields.append("paid_at")
        elif to_status == pipeline.SHIPPED:
            order.tracking_number = pipeline.normalise_tracking_number(tracking_number)
            order.shipped_at = now
            fields += ["tracking_number", "shipped_at"]
            _stock_allocations(order=order, consume=True)
        elif to_status == pipeline.DELIVERED:
            order.delivered_at = now
            fields.append("delivered_at")
        elif pipeline.ended_before_dispatch(status=to_status, shipped_at=order.shipped_at):
            _stock_allocations(order=order, consume=False)
        order.save(update_fields=fields)
        OrderStatusChange.objects.create(
            order=order,
            old_status=old,
            new_status=to_status,
            actor=actor,
            source=source,
            note=note.strip(),
        )
        order_status_changed.send(sender=order, order=order, old_status=old, new_status=to_status)
        if to_status == pipeline.PAID:
            order_placed_followups(order=order)
        elif to_status == pipeline.IN_WORKSHOP:
            order_email_enqueue(order=order, code=EMAIL_IN_WORKSHOP)
        elif to_status == pipeline.SHIPPED:
            order_email_enqueue(order=order, code=EMAIL_SHIPPED)
        elif to_status == pipeline.CANCELLED:
            order_email_enqueue(order=order, code=EMAIL_CANCELLED)
    logger.info("Order %s: %s → %s (%s)", order.number, old, to_status, source)
    return order


@dataclass
class BulkResult:
    moved: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def order_status_change_bulk(
    *,
    orders: list[Order],
    to_status: str,
    actor: Any,
    tracking_numbers: dict[int, str] | None = None,
) -> BulkResult:
    """Move each order on its own (one refusal does not stop the others); returns the
    numbers moved and the refusal messages."""
    result = BulkResult()
    tracking_numbers = tracking_numbers or {}
    for order in sorted(orders, key=lambda o: o.pk):
        try:
            order_status_change(
                order=order,
                to_status=to_status,
                actor=actor,
                tracking_number=tracking_numbers.get(order.pk, ""),
            )
        except OrderTransitionError as exc:
            result.refused.append(str(exc))
        else:
            result.moved.append(order.number)
    return result


def _stock_allocations(*, order: Order, consume: bool) -> None:
    """Consume (shipped) or release (cancelled) what the order still holds, with the stock
    records locked in primary-key order like checkout does."""
    from oscar.core.loading import get_model

    StockRecord = get_model("partner", "StockRecord")
    lines = [line for line in order.lines.order_by("pk") if line.num_allocated]
    ids = sorted({line.stockrecord_id for line in lines if line.stockrecord_id})
    list(StockRecord.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    for line in lines:
        if consume:
            line.consume_allocation(line.num_allocated)
        else:
            line.cancel_allocation(line.num_allocated)


def order_mark_paid(*, order: Order, note: str = "", locked: bool = False) -> Order:
    """The payment for a pending order succeeded: Paid, then confirmation and tickets."""
    return order_status_change(
        order=order, to_status=pipeline.PAID, source=By.PAYMENT, note=note, locked=locked
    )


def order_cancel(*, order: Order, actor: Any = None, reason: str = "", source: str | None = None):
    """Cancel an order that has not shipped: its stock is released, and a paid order is
    refunded in full through Stripe first (if Stripe cannot be reached, nothing changes and
    PaymentProviderUnavailable is raised)."""
    order = Order.objects.get(pk=order.pk)
    error = pipeline.transition_error(
        from_status=order.status, to_status=pipeline.CANCELLED, personalized=False
    )
    if error:
        raise OrderTransitionError(f"Order {order.number}: {error}")
    if order.status in pipeline.PAID_STATUSES:
        left = order_amount_refundable(order=order)
        if left > 0:
            order_refund(
                order=order,
                amount=left,
                staff=actor,
                reason=reason or "Order cancelled",
                sync_status=False,
            )
    return order_status_change(
        order=order, to_status=pipeline.CANCELLED, actor=actor, source=source, note=reason
    )


def order_amount_refundable(*, order: Order) -> Decimal:
    """What is left to refund of the order's card payment (0 when it was not card-paid), less
    what the refund deductions hold back (`holds.refund_deductions`)."""
    held, _ = refund_deductions(order=order)
    return payment_amount_refundable(order_number=order.number, held=held)


def order_refund_status_sync(*, order: Order, actor: Any = None) -> Order:
    """After a refund: an order refunded in full becomes Refunded (stock released if it had
    not shipped). Partial refunds leave the status as it is."""
    order = Order.objects.get(pk=order.pk)
    if order.status in (*pipeline.END_STATUSES, pipeline.PENDING_PAYMENT):
        return order
    if order_amount_refundable(order=order) > 0:
        return order
    return order_status_change(
        order=order,
        to_status=pipeline.REFUNDED,
        actor=actor,
        source=By.STAFF if getattr(actor, "pk", None) else By.PAYMENT,
        note="Refunded in full",
    )


def orders_unpaid_cancel(*, older_than: timedelta | None = None) -> int:
    """Cancel orders still waiting for their payment after `older_than` (the payment never
    came) and release their stock. A payment that did succeed meanwhile (its webhook lost)
    is recognised first: that order becomes Paid instead. Returns how many were cancelled."""
    if older_than is None:
        older_than = timedelta(hours=settings.ORDER_UNPAID_CANCEL_HOURS)
    cutoff = timezone.now() - older_than
    cancelled = 0
    for order in Order.objects.filter(
        status=pipeline.PENDING_PAYMENT, date_placed__lt=cutoff
    ).order_by("pk"):
        try:
            if payment_succeeded_or_cancel(order_number=order.number):
                order_payment_settle(order=order, reference=_intent_of(order=order))
                continue
        except PaymentProviderUnavailable:
            logger.warning("Order %s: Stripe unreachable; not cancelled yet", order.number)
            continue
        try:
            order_status_change(
                order=order,
                to_status=pipeline.CANCELLED,
                source=By.SYSTEM,
                note=f"No payment after {older_than}; stock released.",
            )
        except OrderTransitionError:
            continue  # moved meanwhile (paid by a webhook)
        cancelled += 1
    return cancelled


# --- emails ---------------------------------------------------------------------------


# Filled at ready() by the apps that follow paid orders (workshop), keyed by app name: each
# gives the outbox messages an order becoming Paid sends along with its confirmation (one
# insert for all).
PAID_FOLLOWUPS: dict[str, Callable[[Order], list[dict[str, Any]]]] = {}


def paid_followup_register(name: str, followup: Callable[[Order], list[dict[str, Any]]]) -> None:
    PAID_FOLLOWUPS[name] = followup


def order_placed_followups(*, order: Order) -> None:
    """After an order is paid (and the transaction commits): the confirmation email, and
    what the apps following paid orders registered (the workshop's jobs for personalised
    lines), as idempotent tasks through the outbox."""
    messages = [
        {"task": EMAIL_TASK, "args": [order.pk, EMAIL_PLACED], "subject": f"order:{order.pk}"}
    ]
    for followup in PAID_FOLLOWUPS.values():
        messages += followup(order)
    outbox_enqueue_many(messages=messages)


def order_email_enqueue(*, order: Order, code: str) -> None:
    """Queue one of the order's emails (sent once, whatever happens to the queue)."""
    outbox_enqueue(
        task=EMAIL_TASK,
        args=[order.pk, code],
        subject=f"order:{order.pk}",
    )


def order_status_path(*, order: Order) -> str:
    """Path of the order's status page: a signed link for guests, the account page otherwise."""
    if order.is_anonymous:
        path = reverse(
            "customer:anon-order",
            kwargs={"order_number": order.number, "hash": order.verification_hash()},
        )
    else:
        path = reverse("customer:order", kwargs={"order_number": order.number})
    return path


def order_email_send(*, order_id: int, code: str) -> bool:
    """Send one of the order's emails once. Returns False when it had already been sent.

    The order row is locked while we check and record the communication event, so two
    deliveries of the same task (a retry, a redelivery after a worker died) send one email.
    """
    if code not in EMAIL_NAMES:
        raise ValueError(f"Unknown order email {code!r}")
    event_type, _ = CommunicationEventType.objects.get_or_create(
        code=code,
        defaults={"name": EMAIL_NAMES[code], "category": CommunicationEventType.ORDER_RELATED},
    )
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if CommunicationEvent.objects.filter(order=order, event_type=event_type).exists():
            logger.info("Order %s: %s already sent", order.number, code)
            return False
        lines = list(order.lines.prefetch_related("personalizations"))
        context = {
            "order": order,
            "lines": lines,
            "made_to_order": any(
                makes_to_order(p.kind) for line in lines for p in line.personalizations.all()
            ),
            "user": order.user,
            "status_url": True,
            "status_path": order_status_path(order=order),
            "site": Site.objects.get_current(),
            "last_change": order.status_changes.order_by("-date_created", "-pk").first(),
        }
        dispatcher = OrderDispatcher(logger=logger)
        messages = dispatcher.dispatcher.get_messages(code, context)
        dispatcher.dispatch_order_messages(order, messages, event_type)
        if not CommunicationEvent.objects.filter(order=order, event_type=event_type).exists():
            # Oscar records the event only when a message went out; record it regardless
            # so a redelivery never sends a second email.
            CommunicationEvent.objects.create(order=order, event_type=event_type)
    return True


# --- payments: sources, settling, refunds ------------------------------------------------

Source = get_model("payment", "Source")
SourceType = get_model("payment", "SourceType")
Transaction = get_model("payment", "Transaction")
PaymentEvent = get_model("order", "PaymentEvent")
PaymentEventType = get_model("order", "PaymentEventType")

SETTLED = "Settled"
REFUNDED_EVENT = "Refunded"


def order_source_add(
    *,
    order: Order,
    kind: str,
    amount: Decimal,
    reference: str,
    paid: bool,
    record_debit: bool = False,
) -> Any:
    """A payment source of the order ("Stripe", "Store credit") for `amount`; `paid`: made
    debited already (its debit transaction is recorded by `order_payment_settle`, or here
    with `record_debit`)."""
    source_type, _ = SourceType.objects.get_or_create(name=kind)
    source = Source.objects.create(
        order=order,
        source_type=source_type,
        currency=order.currency,
        amount_allocated=amount,
        amount_debited=amount if paid and not record_debit else Decimal("0.00"),
        reference=reference,
    )
    if record_debit:
        source.debit(amount, reference=reference)
    return source


def order_payment_settle(
    *, order: Order, reference: str, placed_source: Any = None, note: str = ""
) -> Order:
    """The order's payment succeeded (card `reference` = PaymentIntent id, or store credit
    alone): debit the Stripe source, record the "Settled" payment event and move the order
    to Paid (confirmation email and workshop tickets follow the commit). Once per order: a
    second call finds it settled and does nothing. The only writer of "Settled".

    `placed_source`: the order and this source were created a moment ago in the caller's
    transaction (so the order is locked and unsettled): nothing is read back, and a failure
    rolls back the caller's transaction with the order."""
    just_placed = placed_source is not None
    with transaction.atomic(savepoint=not just_placed):
        if not just_placed:
            order = Order.objects.select_for_update().get(pk=order.pk)
        event_type, _ = PaymentEventType.objects.get_or_create(name=SETTLED)
        if not just_placed and (
            order.status != pipeline.PENDING_PAYMENT
            or PaymentEvent.objects.filter(order=order, event_type=event_type).exists()
        ):
            return order
        source = placed_source or (
            Source.objects.select_for_update()
            .filter(order=order, source_type__name="Stripe", reference=reference)
            .first()
        )
        if source is not None and source is placed_source and source.amount_debited:
            # Made debited a moment ago: only the debit's transaction is left to record.
            source.transactions.create(
                txn_type=Transaction.DEBIT, amount=source.amount_debited, reference=reference
            )
        elif source is not None:
            source.debit(source.amount_allocated - source.amount_debited, reference=reference)
        event = PaymentEvent.objects.create(
            order=order, amount=order.total_incl_tax, reference=reference, event_type=event_type
        )
        event.line_quantities.bulk_create(
            event.line_quantities.model(event=event, line=line, quantity=line.quantity)
            for line in order.lines.all()
        )
        return order_mark_paid(order=order, note=note or f"Stripe {reference}", locked=just_placed)


def _intent_of(*, order: Order) -> str:
    record = PaymentIntentRecord.objects.filter(order_number=order.number).first()
    return record.payment_intent_id if record else ""


def order_refund(
    *,
    order: Order,
    amount: Decimal,
    staff: Any,
    reason: str = "",
    refunded_before: Decimal | None = None,
    sync_status: bool = True,
) -> PaymentRefund:
    """Refund `amount` of a card-paid order through Stripe and record it on the order: a
    PaymentEvent "Refunded", a refund on the order's "Stripe" payment Source and an order
    note with who and why. Returns the PaymentRefund.

    The refund rules (and the lock that checks refunds of one payment one after the other)
    are payments' (`payment_refund_for_order`): RefundRefused when refused,
    PaymentProviderUnavailable when Stripe cannot be reached (nothing recorded)."""
    held, reasons = refund_deductions(order=order)
    with transaction.atomic():
        refund = payment_refund_for_order(
            order_number=order.number,
            amount=amount,
            refunded_before=refunded_before,
            held=held,
            held_reasons=reasons,
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
            order_refund_status_sync(order=order, actor=staff)
    return refund


def order_refund_record(*, order: Order, refund: PaymentRefund) -> bool:
    """Record one Stripe refund on the order, once (keyed by the refund id): a PaymentEvent
    "Refunded" and a refund on the "Stripe" Source. Called by `order_refund` and for each
    refund payments reports (`payment_refunded`), so a refund made outside the dashboard
    (or whose reply was lost) is recorded too, and one made here is not recorded twice.
    Failed or canceled refunds are not recorded. Returns whether anything was recorded."""
    if refund.status in REFUND_NOT_COUNTED:
        return False
    event_type, _ = PaymentEventType.objects.get_or_create(name=REFUNDED_EVENT)
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


# --- what payments announces (connected in OrderConfig.ready) ---------------------------


def _order_of(record: PaymentIntentRecord) -> Order | None:
    if not record.order_number:
        return None
    return Order.objects.filter(number=record.order_number).first()


def on_payment_succeeded(sender: Any, *, record: PaymentIntentRecord, **kwargs: Any) -> None:
    """An order placed while the bank was still confirming becomes Paid."""
    order = _order_of(record)
    if order is not None and order.status == pipeline.PENDING_PAYMENT:
        order_payment_settle(order=order, reference=record.payment_intent_id)


def on_payment_failed(
    sender: Any, *, record: PaymentIntentRecord, reason: str, **kwargs: Any
) -> None:
    """An order waiting for this payment is cancelled (its stock released)."""
    order = _order_of(record)
    if order is not None and order.status == pipeline.PENDING_PAYMENT:
        order_status_change(
            order=order, to_status=pipeline.CANCELLED, source=By.PAYMENT, note=reason
        )


def on_payment_refunded(sender: Any, *, record: PaymentIntentRecord, **kwargs: Any) -> None:
    """Record on the order every refund of its payment not recorded yet (webhook path)."""
    order = _order_of(record)
    if order is None:
        return
    for refund in PaymentRefund.objects.filter(record=record).order_by("created_at", "pk"):
        order_refund_record(order=order, refund=refund)
    order_refund_status_sync(order=order)
