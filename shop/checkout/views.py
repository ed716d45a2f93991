"""Checkout fork: the payment page freezes what it shows in a CheckoutAttempt (with its own
PaymentIntent) and takes the card with Stripe.js; Pay places exactly that attempt
(shop.checkout.services.order_place) or refuses and charges nothing."""

import logging

from django.conf import settings
from django.contrib import messages
from django.db import DatabaseError, connection, transaction
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from oscar.apps.checkout import views

from shop.checkout.models import CheckoutAttempt
from shop.checkout.services import (
    AttemptExpired,
    OrderPlacementRefused,
    checkout_attempt_check,
    checkout_attempt_open,
    order_place,
)
from shop.common.parsing import parse_uuid
from shop.credit.selectors import credit_balance
from shop.payments.exceptions import PaymentError, PaymentProviderUnavailable
from shop.payments.services import session_intent_allow

logger = logging.getLogger(__name__)

ATTEMPTS_SESSION_KEY = "checkout_attempts"
CREDIT_SESSION_KEY = "checkout_use_store_credit"
UNAVAILABLE = (
    "Card payment is temporarily unavailable. "
    "Your basket is kept; please try again in a few minutes."
)


def stripe_js_url() -> str:
    if settings.STRIPE_API_BASE:
        return settings.STRIPE_API_BASE.rstrip("/") + "/js.stripe.com/v3/"
    return settings.STRIPE_JS_URL


def _remember(request, attempt: CheckoutAttempt) -> None:
    """The attempts this browser session was shown (the only ones it may confirm)."""
    tokens = [t for t in request.session.get(ATTEMPTS_SESSION_KEY, []) if t != str(attempt.token)]
    request.session[ATTEMPTS_SESSION_KEY] = (tokens + [str(attempt.token)])[-20:]


def _attempt_posted(request) -> CheckoutAttempt | None:
    """The attempt the form names (by its token, or by its PaymentIntent for the retry
    page): None when the form names none; 404 when it names one this session was not
    shown (a tampered or foreign id)."""
    raw_token = request.POST.get("attempt", "")
    raw_intent = request.POST.get("payment_intent_id", "")
    if not raw_token and not raw_intent:
        return None
    if raw_token:
        token = parse_uuid(raw_token)
        attempt = CheckoutAttempt.objects.filter(token=token).first() if token else None
    else:
        attempt = CheckoutAttempt.objects.filter(payment_intent_id=raw_intent[:255]).first()
    if attempt is None or str(attempt.token) not in request.session.get(ATTEMPTS_SESSION_KEY, []):
        raise Http404("No such checkout.")
    return attempt


class PaymentDetailsView(views.PaymentDetailsView):
    """The payment page: the attempt's frozen summary beside the card form. Oscar's preview
    step is never used (the payment page is the last look before paying): its URL, kept by
    Oscar's URL conf, sends the shopper back to the payment page."""

    def get(self, request, *args, **kwargs):
        if self.preview:
            return redirect("checkout:payment-details")
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if self.preview:
            return redirect("checkout:payment-details")
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        request = self.request
        user = request.user
        if user.is_authenticated:
            ctx["credit_available"] = credit_balance(user=user)
        submission = self.build_submission()
        method = submission["shipping_method"]
        email = user.email if user.is_authenticated else self.checkout_session.get_guest_email()
        try:
            attempt = checkout_attempt_open(
                basket=request.basket,
                user=user,
                guest_email=email or "",
                shipping_address=submission["shipping_address"],
                method_code=method.code if method else "",
                use_credit=bool(request.session.get(CREDIT_SESSION_KEY)),
            )
        except PaymentProviderUnavailable:
            ctx["payment_unavailable"] = UNAVAILABLE
            return ctx
        except OrderPlacementRefused as exc:
            ctx["payment_unavailable"] = exc.message
            return ctx
        except PaymentError as exc:
            logger.error("PaymentIntent for basket %s refused: %s", request.basket.id, exc)
            ctx["payment_unavailable"] = UNAVAILABLE
            return ctx
        _remember(request, attempt)
        ctx.update(
            attempt=attempt,
            credit_applied=attempt.credit,
            amount_due=attempt.amount_due,
        )
        if not attempt.payment_intent_id:
            # Paid in full with store credit: no card, no PaymentIntent.
            ctx["credit_covers_total"] = True
            return ctx
        session_intent_allow(session=request.session, payment_intent_id=attempt.payment_intent_id)
        ctx.update(
            stripe_client_secret=attempt.client_secret,
            stripe_publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
            stripe_js_url=stripe_js_url(),
            stripe_api_base=(settings.STRIPE_API_BASE or "").rstrip("/"),
            payment_intent_id=attempt.payment_intent_id,
        )
        return ctx


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
    """Pay pressed: the browser posts the attempt's token after confirmCardPayment
    succeeded (or, store credit covering it all, without a card). Only an attempt this
    session was shown is accepted (else 404); the server re-reads the PaymentIntent and
    places exactly what the attempt froze, or refuses and charges nothing."""

    def post(self, request, *args, **kwargs):
        attempt = _attempt_posted(request)
        if attempt is None:
            messages.error(request, "Please pay on the payment page. No order was placed.")
            return redirect("checkout:payment-details")
        return _place(self, request, attempt)


def _place(view, request, attempt: CheckoutAttempt):
    try:
        order, _created = order_place(attempt=attempt)
    except PaymentProviderUnavailable:
        messages.error(
            request,
            "We could not confirm your payment just now. If it went through, your order "
            "will be placed and emailed to you; your basket is kept.",
        )
        return redirect("checkout:payment-details")
    except AttemptExpired as exc:
        return render(
            request, "shop/checkout/start_again.html", {"message": exc.message}, status=410
        )
    except OrderPlacementRefused as exc:
        messages.error(request, exc.message)
        return redirect("checkout:payment-details")
    except DatabaseError:
        logger.exception("Order placement for attempt %s interrupted", attempt.token)
        connection.close()  # the next query opens a fresh connection
        # Not back to the payment page (it would start a new payment): the same attempt is
        # asked again, which places the order once.
        return render(
            request,
            "shop/checkout/placement_retry.html",
            {"attempt": attempt, "message": PLACEMENT_INTERRUPTED},
            status=503,
        )
    request.session.pop(CREDIT_SESSION_KEY, None)
    view.checkout_session.flush()
    request.session["checkout_order_id"] = order.id
    return redirect(reverse("checkout:thank-you"))


class PaymentCheckView(views.OrderPlacementMixin, views.generic.View):
    """Pay pressed, before the card is charged: can this attempt still be placed?
    {"ok": true}, or {"ok": false, "message": ...} (the refusal, also kept as a message for
    the reloaded payment page, which shows the new total on a new attempt)."""

    def post(self, request, *args, **kwargs):
        attempt = _attempt_posted(request)
        if attempt is None:
            raise Http404("No such checkout.")
        try:
            checkout_attempt_check(attempt=attempt)
        except OrderPlacementRefused as exc:
            messages.error(request, exc.message)
            return JsonResponse({"ok": False, "message": exc.message})
        return JsonResponse({"ok": True})


class StoreCreditView(views.OrderPlacementMixin, views.generic.View):
    """The payment page's store credit box: use it (apply what the balance allows, up to the
    total) or not; the page then shows (and freezes) a new attempt."""

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.POST.get("use") == "1":
            request.session[CREDIT_SESSION_KEY] = True
        else:
            request.session.pop(CREDIT_SESSION_KEY, None)
        return redirect("checkout:payment-details")


# Placement runs its own transactions (see PaymentConfirmView).
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class StoreCreditPlaceView(views.OrderPlacementMixin, views.generic.View):
    """Place an order paid in full with store credit (no card): the attempt the page showed.
    Nothing is spent unless the order is placed."""

    def post(self, request, *args, **kwargs):
        attempt = _attempt_posted(request)
        if not request.user.is_authenticated or attempt is None or attempt.payment_intent_id:
            messages.error(request, "Please choose to use your store credit first.")
            return redirect("checkout:payment-details")
        return _place(self, request, attempt)
