"""Checkout turns a basket and a payment into an order, in two steps:

1. `checkout_attempt_open` (the payment page): the basket is priced (lines, shipping, total),
   the store credit to apply is chosen, and all of it is frozen in a CheckoutAttempt with
   its own PaymentIntent for exactly the amount to charge. A page load that would show the
   same thing reuses the open attempt; anything different (another window applying or
   dropping credit, a changed basket) makes a new one. An attempt is never edited, so what
   one window charges cannot be changed by another.
2. `order_place` (Pay pressed, or Stripe's webhook): under locks (attempt row, basket row,
   stock records in primary-key order) the basket is priced again the same way; if it no
   longer prices to what the attempt froze, nothing is placed ("your basket changed in
   another window") and a card already charged is refunded. Otherwise the credit is spent,
   the order made and, paid, settled: exactly what the page showed.

The server never trusts the browser: the PaymentIntent is read back from Stripe and must
have succeeded for the attempt's amount and currency. One order per attempt (and so per
PaymentIntent).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Q
from oscar.core.loading import get_class, get_model

from shop.checkout.models import CheckoutAttempt
from shop.credit.selectors import credit_balance
from shop.credit.services import CreditError, credit_spend
from shop.order.services import order_payment_settle, order_source_add
from shop.order.utils import OrderCreator, OrderNumberGenerator
from shop.payments.exceptions import PaymentError
from shop.payments.services import (
    PaidIntent,
    payment_intent_cancel_quietly,
    payment_intent_open,
    payment_intent_read,
    payment_intent_reusable,
    payment_record_lock,
    payment_record_order_set,
    payment_refund_unplaced,
)
from shop.personalization.selectors import line_personalisation

logger = logging.getLogger(__name__)

Basket = get_model("basket", "Basket")
Order = get_model("order", "Order")
ShippingAddress = get_model("order", "ShippingAddress")
StockRecord = get_model("partner", "StockRecord")
Selector = get_class("partner.strategy", "Selector")
Repository = get_class("shipping.repository", "Repository")
OrderTotalCalculator = get_class("checkout.calculators", "OrderTotalCalculator")
SurchargeApplicator = get_class("checkout.applicator", "SurchargeApplicator")

Status = CheckoutAttempt.Status


# --- refusals: each a type, so callers choose by type -----------------------------------


class OrderPlacementRefused(PaymentError):
    """The order cannot be placed for this attempt; `message` is for the shopper."""


class SoldOut(OrderPlacementRefused):
    """The last units went to someone else."""


class BasketChanged(OrderPlacementRefused):
    """The basket no longer prices to what the page showed. `new_total` is what it costs
    now (None when it cannot be priced: emptied, no shipping method)."""

    def __init__(self, message: str, *, new_total: Decimal | None = None):
        super().__init__(message)
        self.new_total = new_total


class AlreadyOrdered(OrderPlacementRefused):
    """The basket was ordered through another attempt (another window)."""


class CreditUnavailable(OrderPlacementRefused):
    """The store credit the page applied has been spent elsewhere meanwhile."""


class AttemptExpired(OrderPlacementRefused):
    """The attempt is older than CHECKOUT_ATTEMPT_MINUTES and was not paid."""


# --- pricing: the one priced step, for the page and for placement ------------------------


@dataclass
class Priced:
    """A basket priced for one address and shipping method (Oscar's objects kept for
    OrderCreator; `frozen` is what an attempt stores and compares)."""

    method: Any
    shipping_charge: Any
    surcharges: Any
    total: Any
    frozen: dict[str, Any]


def _money(value: Decimal) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def checkout_price(*, basket: Any, user: Any, address: dict[str, Any], method_code: str):
    """Price the basket as the order would be placed now, or None when it cannot be (empty,
    the shipping method no longer offered). `basket.strategy` is set for `user`."""
    basket.strategy = Selector().strategy(user=user)
    if basket.is_empty:
        return None
    shipping_address = ShippingAddress(**address)
    method = next(
        (
            m
            for m in Repository().get_shipping_methods(basket, shipping_addr=shipping_address)
            if m.code == method_code
        ),
        None,
    )
    if method is None:
        return None
    shipping_charge = method.calculate(basket)
    surcharges = SurchargeApplicator(None, {}).get_applicable_surcharges(
        basket, shipping_charge=shipping_charge
    )
    total = OrderTotalCalculator().calculate(basket, shipping_charge, surcharges=surcharges)
    lines = [
        {
            "line_id": line.pk,
            "reference": line.line_reference,
            "stockrecord_id": line.stockrecord_id,
            "title": line.product.get_title() if line.product else "",
            "quantity": line.quantity,
            "unit_price": _money(line.unit_price_incl_tax or 0),
            "price": _money(line.line_price_incl_tax or 0),
        }
        for line in basket.all_lines()
    ]
    frozen = {
        "lines": lines,
        "shipping": {
            "code": method.code,
            "name": str(method.name),
            "charge": _money(shipping_charge.incl_tax),
        },
        "total": _money(total.incl_tax),
        "currency": total.currency,
    }
    return Priced(method, shipping_charge, surcharges, total, frozen)


def _line_options(basket: Any) -> dict[str, list[dict[str, Any]]]:
    """Each personalised line's choices as the basket shows them, frozen with the attempt so
    the payment page's summary shows them: {line id: [{kind, label, text, surcharge}]}."""
    options = {}
    for line in basket.all_lines():
        rows = line_personalisation(line)
        if rows:
            options[str(line.pk)] = [
                dict(row, surcharge=_money(row["surcharge"]) if row["surcharge"] else None)
                for row in rows
            ]
    return options


def address_fields(shipping_address: Any) -> dict[str, Any]:
    """The shipping address's fields as JSON (what an attempt stores and an order is made
    from)."""
    fields: dict[str, Any] = {}
    if shipping_address is None:
        return fields
    for field in shipping_address._meta.concrete_fields:
        if not field.primary_key:
            value = getattr(shipping_address, field.attname)
            fields[field.attname] = value if value is None else str(value)
    return fields


# --- 1. the payment page ----------------------------------------------------------------


def checkout_attempt_open(
    *,
    basket: Any,
    user: Any,
    guest_email: str,
    shipping_address: Any,
    method_code: str,
    use_credit: bool,
) -> CheckoutAttempt:
    """What the payment page shows and will charge, frozen: the open attempt that shows
    exactly this (reused), or a new one with its own PaymentIntent. The returned attempt
    carries `client_secret` ("" when store credit covers the total).

    Raises BasketChanged when the basket cannot be priced (empty, shipping method gone),
    PaymentProviderUnavailable when Stripe cannot be reached."""
    user = user if getattr(user, "is_authenticated", False) else None
    address = address_fields(shipping_address)
    priced = checkout_price(basket=basket, user=user, address=address, method_code=method_code)
    if priced is None:
        raise BasketChanged("Your basket changed; please check it and try again.")
    total = priced.total.incl_tax
    credit = Decimal("0.00")
    if use_credit and user is not None:
        credit = min(credit_balance(user=user), total)
    content = dict(priced.frozen, address=address, email=guest_email or "")
    content["credit"] = _money(credit)
    content["options"] = _line_options(basket)
    fingerprint = hashlib.sha256(
        json.dumps([basket.pk, user.pk if user else None, content], sort_keys=True).encode()
    ).hexdigest()
    with transaction.atomic():
        # Two windows opening the payment page queue here.
        Basket.objects.select_for_update().filter(pk=basket.pk).first()
        attempt = (
            CheckoutAttempt.objects.filter(
                basket_id=basket.pk, fingerprint=fingerprint, status=Status.OPEN
            )
            .order_by("-pk")
            .first()
        )
        if attempt is not None and not attempt.is_expired():
            if not attempt.payment_intent_id:
                attempt.client_secret = ""
                return attempt
            secret = payment_intent_reusable(payment_intent_id=attempt.payment_intent_id)
            if secret:
                attempt.client_secret = secret
                return attempt
        attempt = CheckoutAttempt(
            basket_id=basket.pk,
            user=user,
            guest_email=guest_email or "",
            content=content,
            fingerprint=fingerprint,
            currency=priced.total.currency,
            total=total,
            credit=credit,
            amount_due=total - credit,
        )
        attempt.client_secret = ""
        if attempt.amount_due > 0:
            record = payment_intent_open(
                amount=attempt.amount_due,
                currency=attempt.currency,
                metadata={
                    "basket_id": str(basket.pk),
                    "attempt": str(attempt.token),
                    "email": guest_email or "",
                },
                idempotency_key=f"mv-attempt-{attempt.token}",
            )
            attempt.payment_intent_id = record.payment_intent_id
            attempt.client_secret = record.client_secret
        attempt.save()
    return attempt


def checkout_attempt_check(*, attempt: CheckoutAttempt) -> None:
    """Before the card is charged (Pay pressed, before Stripe.js confirms): raise the
    refusal placing would give now (basket ordered or changed in another window, attempt
    expired), so nothing is charged for an order that could not be placed. Reads only;
    placement checks again under locks."""
    basket = Basket.objects.filter(pk=attempt.basket_id).first()
    if attempt.status != Status.OPEN or basket is None or basket.status == Basket.SUBMITTED:
        raise AlreadyOrdered(
            "This basket has already been ordered (in another window). Nothing was charged."
        )
    if attempt.is_expired():
        raise AttemptExpired(START_AGAIN)
    priced, same = _repriced(attempt=attempt, basket=basket)
    if not same:
        new_total = priced.total.incl_tax if priced is not None else None
        raise _basket_changed(None, new_total, attempt.currency, charged=False)


def _repriced(*, attempt: CheckoutAttempt, basket: Any) -> tuple[Priced | None, bool]:
    """The basket priced again as the attempt's page priced it, and whether it still prices
    to what that page froze."""
    content = attempt.content
    priced = checkout_price(
        basket=basket,
        user=attempt.user,
        address=content.get("address") or {},
        method_code=(content.get("shipping") or {}).get("code", ""),
    )
    return priced, _matches(priced, content)


def _matches(priced: Priced | None, content: dict[str, Any]) -> bool:
    """Does the basket still price to what the attempt froze?"""
    return priced is not None and all(priced.frozen[k] == content.get(k) for k in FROZEN)


# --- 2. placing the order ---------------------------------------------------------------


def order_place(*, attempt: CheckoutAttempt) -> tuple[Order, bool]:
    """Place the order the attempt's page showed, once: returns (order, created); again
    (replays, the browser and the webhook together) the same order.

    Refuses (a subclass of OrderPlacementRefused, nothing placed, nothing spent, a card
    charge refunded) when the payment has not gone through, the basket was ordered in
    another window or no longer prices to what the page showed, stock ran out, or the
    credit was spent elsewhere. PaymentProviderUnavailable when Stripe cannot be asked."""
    intent = None
    if attempt.payment_intent_id:
        intent = payment_intent_read(payment_intent_id=attempt.payment_intent_id)
    try:
        placed, created, refusal = _place_under_locks(attempt=attempt, intent=intent)
    except AttemptExpired:
        if intent is not None:  # no Stripe call under the locks: cancelled once they are gone
            payment_intent_cancel_quietly(payment_intent_id=intent.id)
        raise
    if placed is not None:
        return placed, created
    if intent is not None and intent.status == "succeeded":
        # Money was taken for an order that cannot be made: give it back, once.
        number = payment_refund_unplaced(payment_intent_id=intent.id, succeeded=True)
        if number:
            return Order.objects.get(number=number), False
        logger.warning("PaymentIntent %s refunded: %s", intent.id, refusal.message)
    raise refusal


def _place_under_locks(
    *, attempt: CheckoutAttempt, intent: PaidIntent | None
) -> tuple[Order | None, bool, OrderPlacementRefused | None]:
    """(order, created, None) or (None, False, the refusal), in one transaction."""
    with transaction.atomic():
        # Lock order: payment record (as the webhook's processing holds it), basket, the
        # basket's attempts, stock records (primary-key order). The basket before the
        # attempts: placing one attempt closes the basket's others.
        record = payment_record_lock(intent=intent) if intent is not None else None
        basket = Basket.objects.select_for_update().filter(pk=attempt.basket_id).first()
        # This attempt and the basket's other open ones, in one statement.
        locked = {
            a.pk: a
            for a in CheckoutAttempt.objects.select_for_update().filter(
                Q(pk=attempt.pk) | Q(basket_id=attempt.basket_id, status=Status.OPEN)
            )
        }
        attempt = locked.pop(attempt.pk)
        attempt.others = list(locked.values())
        if attempt.order_number:
            return Order.objects.get(number=attempt.order_number), False, None
        _payment_check(attempt=attempt, intent=intent, record=record)
        refusal, placed = _place_locked(
            attempt=attempt, basket=basket, intent=intent, record=record
        )
        return placed, placed is not None, refusal


def _payment_check(*, attempt: CheckoutAttempt, intent: PaidIntent | None, record: Any) -> None:
    """Refuse (raise) unless the attempt's payment can become an order."""
    if intent is None:
        if attempt.amount_due > 0:
            raise OrderPlacementRefused("We do not recognise this payment.")
        if attempt.is_expired():
            raise AttemptExpired(START_AGAIN)
        return
    if record is None or intent.metadata.get("attempt") != str(attempt.token):
        raise OrderPlacementRefused("This payment does not belong to this checkout.")
    if intent.status == "requires_action":
        raise OrderPlacementRefused(
            "Your bank asks you to authenticate this payment (3-D Secure). Please complete "
            "the check on the payment page; no order was placed and nothing was charged."
        )
    if intent.status not in ("succeeded", "processing"):
        if attempt.is_expired():
            raise AttemptExpired(START_AGAIN)  # its intent is cancelled by order_place
        raise OrderPlacementRefused("The payment has not gone through; no order was placed.")


START_AGAIN = (
    "This payment page was opened too long ago and has expired; nothing was charged. "
    "Please start the payment again."
)


def _place_locked(
    *, attempt: CheckoutAttempt, basket: Any, intent: PaidIntent | None, record: Any
) -> tuple[OrderPlacementRefused | None, Order | None]:
    """Under the basket's and the attempt's locks: (refusal, None) or (None, the order)."""
    if basket is None or basket.status == Basket.SUBMITTED:
        return AlreadyOrdered(_already_ordered(intent)), None
    priced, same = _repriced(attempt=attempt, basket=basket)
    if not same:
        new_total = priced.total.incl_tax if priced is not None else None
        return _basket_changed(intent, new_total, attempt.currency), None
    if intent is not None and (
        intent.currency.upper() != attempt.currency.upper() or intent.amount != attempt.amount_due
    ):
        return OrderPlacementRefused("This payment does not match this checkout."), None
    if not _stock_reserve_possible(basket=basket):
        return SoldOut(
            "Sorry, an item in your basket has just sold out. "
            + ("Your payment is refunded." if intent else "Nothing was spent.")
        ), None
    if record is not None and record.amount_refunded > 0:
        # Refunded earlier because it could not be placed then (sold out): stock that came
        # back since must not turn money already returned into an order.
        return OrderPlacementRefused(
            "This payment has been refunded, so no order was placed. "
            "Your basket is kept; please pay again to order."
        ), None
    number = OrderNumberGenerator().order_number(basket)
    if attempt.credit:
        # Spent in this transaction, before the order is made: if the order is not placed,
        # the spend rolls back with it and the credit is not lost.
        try:
            credit_spend(user=attempt.user, amount=attempt.credit, order_number=number)
        except CreditError:
            return CreditUnavailable(_credit_gone(intent)), None
    order = _order_create(attempt=attempt, basket=basket, priced=priced, number=number)
    paid = intent is None or intent.status == "succeeded"
    stripe_source = None
    if intent is not None:
        stripe_source = order_source_add(
            order=order, kind="Stripe", amount=attempt.amount_due, reference=intent.id, paid=paid
        )
    if record is not None:
        payment_record_order_set(record=record, order_number=order.number)
    attempt.order_number = order.number
    attempt.status = Status.PLACED
    _attempts_settle(attempt=attempt)
    if paid:
        # Placed as "Pending payment", paid in the same transaction: the timeline shows the
        # payment, and confirmation and tickets follow the commit. A card still "processing"
        # waits, stock reserved; its webhook (or the daily job) settles it.
        order_payment_settle(
            order=order,
            reference=intent.id if intent else f"credit:{order.number}",
            placed_source=stripe_source,
            note=f"Stripe {intent.id}" if intent else "Paid with store credit",
        )
    return None, order


# What placement compares with what the page froze (the credit is the attempt's own choice).
FROZEN = ("lines", "shipping", "total", "currency")


def _already_ordered(intent: PaidIntent | None) -> str:
    if intent is None:
        return "This basket has already been ordered (in another window). Nothing was spent."
    return "This basket has already been ordered (in another window); this payment is refunded."


def _basket_changed(
    intent: PaidIntent | None, new_total: Decimal | None, currency: str, charged: bool = True
) -> BasketChanged:
    if not charged:
        outcome = "nothing was charged"
    else:
        outcome = "this payment is refunded" if intent is not None else "nothing was spent"
    if new_total is None:
        return BasketChanged(f"Your basket changed in another window; {outcome}.")
    return BasketChanged(
        f"Your basket changed in another window: the new total is £{new_total}. "
        f"No order was placed and {outcome}; please check the payment page and pay again.",
        new_total=new_total,
    )


def _credit_gone(intent: PaidIntent | None) -> str:
    if intent is None:
        return (
            "Your store credit no longer covers this order (it may have been used in another "
            "checkout). Nothing was spent; please pay the rest by card."
        )
    return (
        "Your store credit was used elsewhere before this payment completed; the payment is "
        "refunded and your credit is untouched. Please pay again."
    )


def _attempts_settle(*, attempt: CheckoutAttempt) -> None:
    """This attempt is placed; the basket's other open ones (`attempt.others`, locked) can
    no longer be paid. Their PaymentIntents are cancelled after commit
    (best effort: one paid meanwhile is refunded when it comes to be placed)."""
    CheckoutAttempt.objects.filter(pk=attempt.pk).update(
        status=Status.PLACED, order_number=attempt.order_number
    )
    if attempt.others:
        CheckoutAttempt.objects.filter(pk__in=[a.pk for a in attempt.others]).update(
            status=Status.CLOSED
        )
    intents = [a.payment_intent_id for a in attempt.others if a.payment_intent_id]
    if not intents:
        return

    def cancel() -> None:
        for payment_intent_id in intents:
            payment_intent_cancel_quietly(payment_intent_id=payment_intent_id)

    transaction.on_commit(cancel)


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


def _order_create(*, attempt: CheckoutAttempt, basket: Any, priced: Priced, number: str) -> Order:
    """The order (status Pending payment) and its store-credit source; submits the basket."""
    address = attempt.content.get("address") or {}
    shipping_address = None
    if address:
        shipping_address = ShippingAddress(**address)
        shipping_address.save()
    order_kwargs = {}
    if attempt.user is None:
        order_kwargs["guest_email"] = attempt.guest_email or attempt.content.get("email", "")
    order = OrderCreator().place_order(
        basket=basket,
        total=priced.total,
        shipping_method=priced.method,
        shipping_charge=priced.shipping_charge,
        user=attempt.user or AnonymousUser(),
        shipping_address=shipping_address,
        billing_address=None,
        order_number=number,
        surcharges=priced.surcharges,
        **order_kwargs,
    )
    if attempt.credit:
        order_source_add(
            order=order,
            kind="Store credit",
            amount=attempt.credit,
            reference=f"credit:{order.number}",
            paid=True,
            record_debit=True,
        )
    basket.submit()
    return order


# --- entry points by PaymentIntent (the webhook, the retry page) -------------------------


def checkout_attempt_for_intent(*, payment_intent_id: str) -> CheckoutAttempt | None:
    return CheckoutAttempt.objects.filter(payment_intent_id=payment_intent_id).first()


def order_place_for_payment_intent(*, payment_intent_id: str) -> tuple[Order, bool]:
    """`order_place` for the attempt paid by this PaymentIntent; OrderPlacementRefused when
    no checkout attempt made it."""
    attempt = checkout_attempt_for_intent(payment_intent_id=payment_intent_id)
    if attempt is None:
        raise OrderPlacementRefused("We do not recognise this payment.")
    return order_place(attempt=attempt)


def payment_succeeded_place(sender: Any, *, record: Any, **kwargs: Any) -> None:
    """Receiver of payments' `payment_succeeded`: place the order of the attempt it paid
    (the shopper may have closed the browser). Refusals are logged (the payment was
    refunded); Stripe being unreachable re-raises so the task retries."""
    attempt = checkout_attempt_for_intent(payment_intent_id=record.payment_intent_id)
    if attempt is None or attempt.order_number:
        return  # not made by our checkout, or placed already (order settles it)
    try:
        order_place(attempt=attempt)
    except OrderPlacementRefused as exc:
        logger.warning(
            "PaymentIntent %s: no order placed: %s", record.payment_intent_id, exc.message
        )
