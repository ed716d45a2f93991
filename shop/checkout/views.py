"""Checkout fork: the payment step takes the card with Stripe.js; the order is placed by
shop.checkout.services.order_place_for_payment_intent once the PaymentIntent succeeded."""

import logging
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.db import DatabaseError, connection, transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from oscar.apps.checkout import views

from shop.checkout.services import (
    OrderPlacementRefused,
    checkout_snapshot,
    order_place_for_payment_intent,
    order_place_with_credit,
)
from shop.credit.selectors import credit_balance
from shop.payments.exceptions import PaymentError, PaymentProviderUnavailable
from shop.payments.services import payment_intent_for_basket

logger = logging.getLogger(__name__)

SESSION_KEY = "stripe_payment_intent_id"
CREDIT_SESSION_KEY = "checkout_use_store_credit"
UNAVAILABLE = (
    "Card payment is temporarily unavailable. "
    "Your basket is kept; please try again in a few minutes."
)


def stripe_js_url() -> str:
    if settings.STRIPE_API_BASE:
        return settings.STRIPE_API_BASE.rstrip("/") + "/js.stripe.com/v3/"
    return settings.STRIPE_JS_URL


class PaymentDetailsView(views.PaymentDetailsView):
    def _credit(self, total) -> tuple[Decimal, Decimal]:
        """(store credit available, credit applied to this order): applied only when the
        signed-in shopper chose to use it, never more than the total."""
        available = credit_balance(user=self.request.user)
        if not available or not self.request.session.get(CREDIT_SESSION_KEY):
            return available, Decimal("0.00")
        return available, min(available, total.incl_tax)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        if self.preview:
            return ctx
        total = ctx.get("order_total")
        if total is not None and self.request.user.is_authenticated:
            available, applied = self._credit(total)
            ctx.update(
                credit_available=available,
                credit_applied=applied,
                amount_due=total.incl_tax - applied,
            )
            if applied and applied == total.incl_tax:
                # Paid in full with store credit: no card, no PaymentIntent.
                ctx["credit_covers_total"] = True
                return ctx
        try:
            record = self._payment_intent()
        except PaymentProviderUnavailable:
            ctx["payment_unavailable"] = UNAVAILABLE
        except PaymentError as exc:
            logger.error("PaymentIntent for basket %s refused: %s", self.request.basket.id, exc)
            ctx["payment_unavailable"] = UNAVAILABLE
        else:
            ctx.update(
                stripe_client_secret=record.client_secret,
                stripe_publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
                stripe_js_url=stripe_js_url(),
                stripe_api_base=(settings.STRIPE_API_BASE or "").rstrip("/"),
                payment_intent_id=record.payment_intent_id,
            )
        return ctx

    def _payment_intent(self):
        submission = self.build_submission()
        total = submission["order_total"]
        user = self.request.user
        email = user.email if user.is_authenticated else self.checkout_session.get_guest_email()
        method = submission["shipping_method"]
        _available, credit = self._credit(total) if user.is_authenticated else (0, Decimal(0))
        snapshot = checkout_snapshot(
            user=user,
            guest_email=email or "",
            shipping_address=submission["shipping_address"],
            shipping_method_code=method.code if method else "",
        )
        snapshot["credit"] = str(credit)
        record = payment_intent_for_basket(
            basket=self.request.basket,
            email=email or "",
            amount=total.incl_tax - credit,
            currency=total.currency,
            checkout=snapshot,
        )
        self.request.session[SESSION_KEY] = record.payment_intent_id
        return record


PLACEMENT_INTERRUPTED = (
    "We could not finish placing your order because of a problem on our side. Your payment is "
    "safe and you will not be charged twice: press the button below in a moment, or wait for "
    "the confirmation email."
)


# Placement runs its own transactions: if the database connection drops half-way, nothing of
# the order is kept, and the shopper gets a clear message (and a fresh connection) instead of
# a 500 from the request-wide transaction.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class PaymentConfirmView(views.OrderPlacementMixin, views.generic.View):
    """The browser posts the PaymentIntent id after confirmCardPayment succeeded. Only the
    PaymentIntent made for this session's basket is accepted; the server re-reads it."""

    def post(self, request, *args, **kwargs):
        posted = request.POST.get("payment_intent_id", "")
        owned = request.session.get(SESSION_KEY)
        if not posted or posted != owned:
            messages.error(
                request,
                "This payment confirmation is not valid for your basket. No order was placed.",
            )
            return redirect("checkout:payment-details")
        try:
            order, _created = order_place_for_payment_intent(payment_intent_id=posted)
        except PaymentProviderUnavailable:
            messages.error(
                request,
                "We could not confirm your payment just now. If it went through, your order "
                "will be placed and emailed to you; your basket is kept.",
            )
            return redirect("checkout:payment-details")
        except OrderPlacementRefused as exc:
            messages.error(request, exc.message)
            return redirect("checkout:payment-details")
        except DatabaseError:
            logger.exception("Order placement for %s interrupted by the database", posted)
            connection.close()  # the next query opens a fresh connection
            # Not back to the payment page (it would start a new payment): the same payment
            # is asked again, which places the order once.
            return render(
                request,
                "shop/checkout/placement_retry.html",
                {"payment_intent_id": posted, "message": PLACEMENT_INTERRUPTED},
                status=503,
            )
        request.session.pop(SESSION_KEY, None)
        self.checkout_session.flush()
        request.session["checkout_order_id"] = order.id
        return redirect(reverse("checkout:thank-you"))


class StoreCreditView(views.OrderPlacementMixin, views.generic.View):
    """The payment page's store credit box: use it (apply what the balance allows, up to the
    total) or not; the PaymentIntent follows on the next page load."""

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.POST.get("use") == "1":
            request.session[CREDIT_SESSION_KEY] = True
        else:
            request.session.pop(CREDIT_SESSION_KEY, None)
        return redirect("checkout:payment-details")


class StoreCreditPlaceView(views.OrderPlacementMixin, views.generic.View):
    """Place an order paid in full with store credit (no card). Nothing is spent unless the
    order is placed."""

    def post(self, request, *args, **kwargs):
        if not request.user.is_authenticated or not request.session.get(CREDIT_SESSION_KEY):
            messages.error(request, "Please choose to use your store credit first.")
            return redirect("checkout:payment-details")
        submission = self.build_submission()
        method = submission["shipping_method"]
        snapshot = checkout_snapshot(
            user=request.user,
            guest_email=request.user.email,
            shipping_address=submission["shipping_address"],
            shipping_method_code=method.code if method else "",
        )
        try:
            order = order_place_with_credit(
                basket=request.basket, user=request.user, snapshot=snapshot
            )
        except OrderPlacementRefused as exc:
            messages.error(request, exc.message)
            return redirect("checkout:payment-details")
        request.session.pop(CREDIT_SESSION_KEY, None)
        self.checkout_session.flush()
        request.session["checkout_order_id"] = order.id
        return redirect(reverse("checkout:thank-you"))
