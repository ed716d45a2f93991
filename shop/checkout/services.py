"""Order placement for a paid PaymentIntent: one idempotent function, called by the payment
confirmation view (the browser) and by the `payment_intent.succeeded` webhook.

The server never trusts the client: it re-reads the PaymentIntent from Stripe, requires it to
have succeeded for exactly the basket's current total, and places the order under locks
(PaymentIntentRecord row, then basket row, then stock records in primary-key order). One
order per PaymentIntent: the record's order_number is unique and set once; Oscar's order
number is derived from the basket id and is unique too.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from oscar.core.loading import get_class, get_model

from shop.credit.services import CreditError, credit_spend
from shop.order.services import order_mark_paid
from shop.order.utils import OrderCreator, OrderNumberGenerator
from shop.payments import stripe_api
from shop.payments.exceptions import PaymentError
from shop.payments.models import PaymentIntentRecord
from shop.payments.money import to_minor
from shop.payments.services import payment_refund_create

logger = logging.getLogger(__name__)

Basket = get_model("basket", "Basket")
Order = get_model("order", "Order")
ShippingAddress = get_model("order", "ShippingAddress")
StockRecord = get_model("partner", "StockRecord")
Source = get_model("payment", "Source")
SourceType = get_model("payment", "SourceType")
Transaction = get_model("payment", "Transaction")
PaymentEvent = get_model("order", "PaymentEvent")
PaymentEventType = get_model("order", "PaymentEventType")
Selector = get_class("partner.strategy", "Selector")
Repository = get_class("shipping.repository", "Repository")
OrderTotalCalculator = get_class("checkout.calculators", "OrderTotalCalculator")
SurchargeApplicator = get_class("checkout.applicator", "SurchargeApplicator")


class OrderPlacementRefused(PaymentError):
    """The order cannot be placed for this PaymentIntent; `message` is for the shopper."""


class SoldOut(OrderPlacementRefused):
    """Paid, but the last units went to someone else: the payment has been refunded."""


def checkout_snapshot(
    *, user: Any, guest_email: str, shipping_address: Any, shipping_method_code: str
) -> dict[str, Any]:
    """What the order is placed from, stored on the PaymentIntentRecord (JSON)."""
    address = {}
    if shipping_address is not None:
        for field in shipping_address._meta.concrete_fields:
            if field.primary_key:
                continue
            value = getattr(shipping_address, field.attname)
            address[field.attname] = value if value is None else str(value)
    return {
        "user_id": user.pk if user is not None and user.is_authenticated else None,
        "guest_email": guest_email or "",
        "shipping_address": address,
        "shipping_method_code": shipping_method_code,
    }


def order_place_for_payment_intent(*, payment_intent_id: str) -> tuple[Order, bool]:
    """Place the order paid by this PaymentIntent, once. Returns (order, created): calling it
    again (replays, the webhook and the browser together) returns the same order.

    Raises OrderPlacementRefused (nothing created) when the payment is unknown, not
    succeeded, from another basket or does not match the basket's total; SoldOut (after a
    refund) when stock ran out; PaymentProviderUnavailable when Stripe cannot be asked."""
    intent = stripe_api.payment_intent_retrieve(payment_intent_id=payment_intent_id)
    refund_because = ""
    with transaction.atomic():
        record = (
            PaymentIntentRecord.objects.select_for_update()
            .filter(payment_intent_id=intent.id)
            .first()
        )
        if record is None or record.basket_id is None:
            raise OrderPlacementRefused("We do not recognise this payment.")
        metadata = intent.metadata.to_dict() if intent.metadata else {}
        if str(metadata.get("basket_id")) != str(record.basket_id):
            raise OrderPlacementRefused("This payment does not belong to this basket.")
        if record.order_number:
            return Order.objects.get(number=record.order_number), False
        if intent.status == "requires_action":
            raise OrderPlacementRefused(
                "Your bank asks you to authenticate this payment (3-D Secure). Please complete "
                "the check on the payment page; no order was placed and nothing was charged."
            )
        if intent.status not in ("succeeded", "processing"):
            raise OrderPlacementRefused("The payment has not gone through; no order was placed.")
        paid = intent.status == "succeeded"
        basket = Basket.objects.select_for_update().filter(pk=record.basket_id).first()
        if basket is None:
            raise OrderPlacementRefused("This payment's basket no longer exists.")
        # Saved with the order number below, or on its own if no order is placed.
        status_known = not paid or record.status == PaymentIntentRecord.Status.SUCCEEDED
        record.status = PaymentIntentRecord.Status.SUCCEEDED if paid else record.status

        snapshot = record.checkout or {}
        user = (
            get_user_model().objects.filter(pk=snapshot.get("user_id")).first()
            if snapshot.get("user_id")
            else None
        )
        basket.strategy = Selector().strategy(user=user)
        method = _shipping_method(basket=basket, snapshot=snapshot)
        if basket.status == Basket.SUBMITTED:
            refund_because = "This basket has already been ordered; this payment is refunded."
        elif basket.is_empty or method is None:
            refund_because = "Your basket changed; this payment is refunded."
        else:
            shipping_charge = method.calculate(basket)
            surcharges = SurchargeApplicator(None, {}).get_applicable_surcharges(
                basket, shipping_charge=shipping_charge
            )
            total = OrderTotalCalculator().calculate(basket, shipping_charge, surcharges=surcharges)
            paid_minor = int(intent.amount)
            # Store credit applied on the payment page: the card pays the rest.
            credit = _credit_applied(snapshot=snapshot, user=user, total=total.incl_tax)
            if credit is None:
                refund_because = "Your store credit could not be applied; the payment is refunded."
            elif (
                intent.currency.upper() != total.currency.upper()
                or to_minor(total.incl_tax - credit, total.currency) != paid_minor
            ):
                refund_because = "Your basket changed after payment; the payment is refunded."
            elif not _stock_reserve_possible(basket=basket):
                refund_because = (
                    "Sorry, an item in your basket has just sold out. Your payment is refunded."
                )
        if not refund_because and record.amount_refunded > 0:
            # Refunded earlier because it could not be placed then (sold out): stock that
            # came back since must not turn money already returned into an order.
            raise OrderPlacementRefused(
                "This payment has been refunded, so no order was placed. "
                "Your basket is kept; please pay again to order."
            )
        if not refund_because and credit:
            # Spent in this transaction, before the order is made: if the order is not
            # placed, the spend rolls back with it and the credit is not lost.
            try:
                credit_spend(
                    user=user,
                    amount=credit,
                    order_number=OrderNumberGenerator().order_number(basket),
                )
            except CreditError:
                refund_because = (
                    "Your store credit was used elsewhere before this payment completed; the "
                    "payment is refunded and your credit is untouched. Please pay again."
                )
        if not refund_because:
            order, stripe_source = _order_create(
                basket=basket,
                user=user,
                snapshot=snapshot,
                method=method,
                shipping_charge=shipping_charge,
                surcharges=surcharges,
                total=total,
                payment_intent_id=intent.id,
                credit=credit,
                paid=paid,
            )
            record.order_number = order.number
            record.save(update_fields=["order_number", "status", "updated_at"])
            if paid:
                # Placed as "Pending payment", paid in the same transaction: the timeline
                # shows the payment, and confirmation and tickets follow the commit.
                order_payment_settle(
                    order=order, payment_intent_id=intent.id, placed_source=stripe_source
                )
            # "processing" (a bank still confirming): the order waits, stock reserved, no
            # emails; the payment_intent.succeeded webhook or the daily job settles it.
            return order, True
        if not status_known:
            record.save(update_fields=["status", "updated_at"])
    placed = _refund_unplaceable(payment_intent_id=record.payment_intent_id)
    if placed is not None:
        return placed, False
    logger.warning("PaymentIntent %s refunded: %s", record.payment_intent_id, refund_because)
    raise (
        SoldOut(refund_because)
        if "sold out" in refund_because
        else OrderPlacementRefused(refund_because)
    )


def _refund_unplaceable(*, payment_intent_id: str) -> Order | None:
    """Refund a paid PaymentIntent that cannot become an order, once: under the record's
    lock, so the browser and the webhook refusing together refund it a single time (the
    second finds it refunded), and a placement never interleaves with the refund (a placer
    holds the same lock and refuses a refunded payment). Returns the order instead if one
    was placed for it meanwhile (nothing is refunded then)."""
    with transaction.atomic():
        record = PaymentIntentRecord.objects.select_for_update().get(
            payment_intent_id=payment_intent_id
        )
        if record.order_number:
            return Order.objects.get(number=record.order_number)
        if record.amount_refunded < record.amount:
            payment_refund_create(
                record=record, amount=None, idempotency_key=f"mv-unplaceable-{payment_intent_id}"
            )
    return None


def _shipping_method(*, basket: Any, snapshot: dict[str, Any]) -> Any:
    address = ShippingAddress(**(snapshot.get("shipping_address") or {}))
    code = snapshot.get("shipping_method_code") or ""
    for method in Repository().get_shipping_methods(basket, shipping_addr=address):
        if method.code == code:
            return method
    return None


def _stock_reserve_possible(*, basket: Any) -> bool:
    """Lock the basket's stock records (primary-key order) and check every line still fits
    in what is left; OrderCreator then allocates under these locks, so stock never goes
    negative."""
    needed: dict[int, int] = {}
    for line in basket.all_lines():
        if line.stockrecord_id:
            needed[line.stockrecord_id] = needed.get(line.stockrecord_id, 0) + line.quantity
    records = (
        StockRecord.objects.select_for_update(of=("self",))
        .select_related("product__product_class", "product__parent__product_class")
        .filter(pk__in=needed)
        .order_by("pk")
    )
    for stockrecord in records:
        product = stockrecord.product
        tracks = product.get_product_class().track_stock if product else True
        if tracks and stockrecord.num_in_stock is not None:
            if stockrecord.net_stock_level < needed[stockrecord.pk]:
                return False
    return True


def _credit_applied(*, snapshot: dict[str, Any], user: Any, total: Decimal) -> Decimal | None:
    """The store credit the payment page applied (snapshot "credit"); None when it cannot be
    (a guest, more than the total, not a valid amount)."""
    raw = snapshot.get("credit") or "0"
    try:
        credit = Decimal(str(raw))
    except ArithmeticError:
        return None
    if credit == 0:
        return Decimal("0.00")
    if credit < 0 or credit > total or user is None:
        return None
    return credit


def order_place_with_credit(*, basket: Any, user: Any, snapshot: dict[str, Any]) -> Order:
    """Place an order paid entirely with store credit (no card, no Stripe): the basket is
    locked, stock checked under lock, the credit spent with a guarded update and the order
    created and marked paid, all in one transaction. Raises OrderPlacementRefused (nothing
    placed, nothing spent) when the basket changed, stock ran out or the credit is short."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise OrderPlacementRefused("Please sign in to pay with store credit.")
    with transaction.atomic():
        basket = Basket.objects.select_for_update().filter(pk=basket.pk).first()
        if basket is None or basket.status == Basket.SUBMITTED:
            raise OrderPlacementRefused("This basket has already been ordered.")
        basket.strategy = Selector().strategy(user=user)
        method = _shipping_method(basket=basket, snapshot=snapshot)
        if basket.is_empty or method is None:
            raise OrderPlacementRefused("Your basket changed; please check it and try again.")
        shipping_charge = method.calculate(basket)
        surcharges = SurchargeApplicator(None, {}).get_applicable_surcharges(
            basket, shipping_charge=shipping_charge
        )
        total = OrderTotalCalculator().calculate(basket, shipping_charge, surcharges=surcharges)
        if not _stock_reserve_possible(basket=basket):
            raise SoldOut("Sorry, an item in your basket has just sold out. Nothing was spent.")
        number = OrderNumberGenerator().order_number(basket)
        try:
            credit_spend(user=user, amount=total.incl_tax, order_number=number)
        except CreditError as exc:
            raise OrderPlacementRefused(
                "Your store credit no longer covers this order (it may have been used in "
                "another checkout). Nothing was spent; please pay the rest by card."
            ) from exc
        order, _ = _order_create(
            basket=basket,
            user=user,
            snapshot=snapshot,
            method=method,
            shipping_charge=shipping_charge,
            surcharges=surcharges,
            total=total,
            payment_intent_id=None,
            credit=total.incl_tax,
        )
        event_type, _ = PaymentEventType.objects.get_or_create(name="Settled")
        event = PaymentEvent.objects.create(
            order=order,
            amount=order.total_incl_tax,
            reference=f"credit:{order.number}",
            event_type=event_type,
        )
        event.line_quantities.bulk_create(
            event.line_quantities.model(event=event, line=line, quantity=line.quantity)
            for line in order.lines.all()
        )
        order_mark_paid(order=order, note="Paid with store credit")
    return order


def _order_create(
    *,
    basket,
    user,
    snapshot,
    method,
    shipping_charge,
    surcharges,
    total,
    payment_intent_id,
    credit=Decimal("0.00"),
    paid: bool = False,
) -> tuple[Order, Source | None]:
    """Create the order (status Pending payment), its payment sources and submit the basket;
    returns the order and its Stripe source (None without a PaymentIntent)."""
    address = snapshot.get("shipping_address") or {}
    shipping_address = None
    if address:
        shipping_address = ShippingAddress(**address)
        shipping_address.save()
    order_kwargs = {}
    if user is None:
        order_kwargs["guest_email"] = snapshot.get("guest_email") or snapshot.get("email") or ""
    order = OrderCreator().place_order(
        basket=basket,
        total=total,
        shipping_method=method,
        shipping_charge=shipping_charge,
        user=user or AnonymousUser(),
        shipping_address=shipping_address,
        billing_address=None,
        order_number=OrderNumberGenerator().order_number(basket),
        surcharges=surcharges,
        **order_kwargs,
    )
    if credit:
        credit_type, _ = SourceType.objects.get_or_create(name="Store credit")
        credit_source = Source.objects.create(
            order=order,
            source_type=credit_type,
            currency=total.currency,
            amount_allocated=credit,
            reference=f"credit:{order.number}",
        )
        credit_source.debit(credit, reference=f"credit:{order.number}")
    stripe_source = None
    if payment_intent_id:
        source_type, _ = SourceType.objects.get_or_create(name="Stripe")
        amount = total.incl_tax - credit
        stripe_source = Source.objects.create(
            order=order,
            source_type=source_type,
            currency=total.currency,
            amount_allocated=amount,
            # Paid already: debited as it is made (order_payment_settle records the debit).
            amount_debited=amount if paid else Decimal("0.00"),
            reference=payment_intent_id,
        )
    basket.submit()
    return order, stripe_source


def order_payment_settle(
    *, order: Order, payment_intent_id: str, placed_source: Source | None = None
) -> Order:
    """The order's PaymentIntent succeeded: debit the Stripe source, record the "Settled"
    payment event and move the order to Paid (confirmation email and workshop tickets
    follow the commit). Once per order: a second call finds it settled and does nothing.

    `placed_source`: the order and this Stripe source were created a moment ago in the
    caller's transaction (so the order is locked and unsettled): nothing is read back, and a
    failure rolls back the caller's transaction with the order."""
    just_placed = placed_source is not None
    with transaction.atomic(savepoint=not just_placed):
        if not just_placed:
            order = Order.objects.select_for_update().get(pk=order.pk)
        event_type, _ = PaymentEventType.objects.get_or_create(name="Settled")
        if (
            not just_placed
            and PaymentEvent.objects.filter(order=order, event_type=event_type).exists()
        ):
            return order
        source = placed_source or (
            Source.objects.select_for_update()
            .filter(order=order, source_type__name="Stripe", reference=payment_intent_id)
            .first()
        )
        if source is not None and source.amount_debited and source is placed_source:
            # Made debited a moment ago: only the debit's transaction is left to record.
            source.transactions.create(
                txn_type=Transaction.DEBIT,
                amount=source.amount_debited,
                reference=payment_intent_id,
            )
        elif source is not None:
            source.debit(
                source.amount_allocated - source.amount_debited, reference=payment_intent_id
            )
        event = PaymentEvent.objects.create(
            order=order,
            amount=order.total_incl_tax,
            reference=payment_intent_id,
            event_type=event_type,
        )
        event.line_quantities.bulk_create(
            event.line_quantities.model(event=event, line=line, quantity=line.quantity)
            for line in order.lines.all()
        )
        return order_mark_paid(order=order, note=f"Stripe {payment_intent_id}", locked=just_placed)
