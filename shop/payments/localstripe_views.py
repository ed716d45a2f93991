"""localstripe only (tests and the `make run` demo): attach the typed card to the session's
PaymentIntent and confirm it, on the server.

localstripe's fake Stripe.js cannot confirm a PaymentIntent itself: its confirmCardPayment skips
attaching the card, and localstripe accepts the publishable key only for tokens, sources and
3-D Secure, never for PaymentMethods or PaymentIntent update/confirm (and its CORS headers
forbid an Authorization header). So static/shop/js/localstripe-adapter.js posts the fake card
inputs here; we create the PaymentMethod with the secret key, attach it with an update, confirm,
and answer the PaymentIntent's status. `requires_action` goes back to the fake 3-D Secure dialog.

The view answers 404 unless STRIPE_API_BASE is set (never with real Stripe, which refuses raw
card numbers from servers), and only for a PaymentIntent this session's payment pages were shown."""

import logging

from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from shop.payments import stripe_api
from shop.payments.exceptions import CardDeclined, PaymentError, PaymentProviderUnavailable
from shop.payments.services import session_intent_allowed

logger = logging.getLogger(__name__)


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"message": message}}, status=status)


@require_POST
def localstripe_confirm(request: HttpRequest) -> JsonResponse:
    if not settings.STRIPE_API_BASE:
        raise Http404("Only with localstripe.")
    intent_id = request.POST.get("payment_intent_id", "")
    if not session_intent_allowed(session=request.session, payment_intent_id=intent_id):
        return _error("This payment is not valid for your basket. No payment was taken.", 403)
    number = request.POST.get("number", "").replace(" ", "")
    try:
        exp_month = int(request.POST.get("exp_month", ""))
        exp_year = int(request.POST.get("exp_year", ""))
    except ValueError:
        return _error("Your card's expiry date is incomplete.", 400)
    cvc = request.POST.get("cvc", "")
    if not number.isdigit() or not cvc.isdigit():
        return _error("Your card number or security code is incomplete.", 400)
    try:
        method = stripe_api.payment_method_create_card(
            number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc
        )
        stripe_api.payment_intent_update(payment_intent_id=intent_id, payment_method=method.id)
        intent = stripe_api.payment_intent_confirm(payment_intent_id=intent_id)
    except CardDeclined as exc:
        return _error(exc.message, 402)
    except PaymentProviderUnavailable as exc:
        return _error(exc.message, 503)
    except PaymentError as exc:
        logger.warning("localstripe confirm of %s refused: %s", intent_id, exc)
        return _error(
            "Your card could not be used. Please check the details or try another card.", 400
        )
    return JsonResponse({"id": intent.id, "status": intent.status})
