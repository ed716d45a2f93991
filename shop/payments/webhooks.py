"""Stripe's webhook endpoint: verify, store by event id, enqueue, answer 200 at once.

The only CSRF-exempt view of the store: Stripe cannot send a CSRF token; the signature
(STRIPE_WEBHOOK_SECRET) is what authenticates the request."""

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from shop.payments import stripe_api
from shop.payments.exceptions import (
    WebhookNotConfigured,
    WebhookPayloadInvalid,
    WebhookSignatureInvalid,
)
from shop.payments.services import stripe_event_store

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        event = stripe_api.webhook_event_construct(
            payload=request.body, sig_header=request.headers.get("Stripe-Signature")
        )
    except WebhookNotConfigured:
        logger.error("Stripe webhook received but STRIPE_WEBHOOK_SECRET is not set")
        return HttpResponse("Webhook not configured.", status=503, content_type="text/plain")
    except (WebhookSignatureInvalid, WebhookPayloadInvalid) as exc:
        logger.warning("Stripe webhook refused: %s", exc.message)
        return HttpResponseBadRequest(exc.message, content_type="text/plain")
    stripe_event_store(event=event)
    return HttpResponse("ok", content_type="text/plain")
