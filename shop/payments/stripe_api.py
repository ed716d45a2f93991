"""The only module that imports `stripe`: a thin, typed wrapper configured from settings.

Every call goes through one `StripeClient` built from STRIPE_SECRET_KEY and, when set,
STRIPE_API_BASE (e.g. http://127.0.0.1:8420 for localstripe; empty = real Stripe). Stripe's
errors come out as ours (shop.payments.exceptions):

- connection failures, timeouts, rate limits and Stripe 5xx -> PaymentProviderUnavailable
- card errors (402) -> CardDeclined, carrying Stripe's plain-words message
- anything else Stripe refuses -> PaymentProviderError

localstripe quirks (see DESIGN.md) shape the calls: PaymentIntents are created with
`payment_method_types=["card"]` (it refuses `automatic_payment_methods`), a PaymentMethod is
attached with an update before `confirm` (confirm with `payment_method` 500s there), and it
ignores idempotency keys (we still send them: real Stripe honours them).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from shop.common.parsing import json_is_storable, parse_timestamp
from shop.payments.exceptions import (
    CardDeclined,
    PaymentProviderError,
    PaymentProviderUnavailable,
    WebhookNotConfigured,
    WebhookPayloadInvalid,
    WebhookSignatureInvalid,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Seconds a webhook's signature timestamp may lag behind our clock (Stripe's default).
WEBHOOK_TOLERANCE = 300
# What the StripeEvent columns hold; a real event nests about ten levels.
MAX_EVENT_ID = 255
MAX_EVENT_TYPE = 100
MAX_EVENT_DEPTH = 64


@functools.lru_cache(maxsize=8)
def _client_for(api_key: str, api_base: str, timeout: float, retries: int) -> stripe.StripeClient:
    base_addresses = {"api": api_base.rstrip("/")} if api_base else None
    return stripe.StripeClient(
        api_key,
        base_addresses=base_addresses,
        http_client=stripe.RequestsClient(timeout=timeout),
        max_network_retries=retries,
    )


def client() -> stripe.StripeClient:
    """The client for the current settings (cached per key/base, so tests can switch)."""
    if not settings.STRIPE_SECRET_KEY:
        raise ImproperlyConfigured("STRIPE_SECRET_KEY is not set")
    return _client_for(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE or "",
        float(settings.STRIPE_TIMEOUT),
        int(settings.STRIPE_MAX_NETWORK_RETRIES),
    )


def _call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one SDK call, translating Stripe's exceptions into ours."""
    try:
        return fn(*args, **kwargs)
    except stripe.CardError as exc:
        raise CardDeclined(
            exc.user_message or "Your card was declined.",
            code=exc.code,
            decline_code=getattr(exc.error, "decline_code", None) if exc.error else None,
        ) from exc
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        logger.warning("Stripe unreachable: %s", exc)
        raise PaymentProviderUnavailable() from exc
    except stripe.APIError as exc:
        if exc.http_status is None or exc.http_status >= 500:
            logger.warning("Stripe failed (%s): %s", exc.http_status, exc)
            raise PaymentProviderUnavailable() from exc
        message = str(exc.user_message or exc)
        raise PaymentProviderError(message, http_status=exc.http_status) from exc
    except stripe.StripeError as exc:
        logger.error("Stripe refused a request (%s): %s", exc.http_status, exc)
        raise PaymentProviderError(
            exc.user_message or "The payment provider refused the request.",
            http_status=exc.http_status,
            code=exc.code,
        ) from exc


def _options(idempotency_key: str | None) -> dict[str, str]:
    return {"idempotency_key": idempotency_key} if idempotency_key else {}


# --- PaymentIntents ---


def payment_intent_create(
    *,
    amount_minor: int,
    currency: str,
    metadata: Mapping[str, str],
    idempotency_key: str,
    description: str | None = None,
) -> stripe.PaymentIntent:
    params: dict[str, Any] = {
        "amount": int(amount_minor),
        "currency": currency.lower(),
        "metadata": {k: str(v) for k, v in metadata.items()},
        "payment_method_types": ["card"],
    }
    if description:
        params["description"] = description
    return _call(
        client().v1.payment_intents.create, params=params, options=_options(idempotency_key)
    )


def payment_intent_update(
    *,
    payment_intent_id: str,
    amount_minor: int | None = None,
    metadata: Mapping[str, str] | None = None,
    payment_method: str | None = None,
    idempotency_key: str | None = None,
) -> stripe.PaymentIntent:
    """Change the amount or metadata, or attach a PaymentMethod (before `confirm`)."""
    params: dict[str, Any] = {}
    if amount_minor is not None:
        params["amount"] = int(amount_minor)
    if metadata is not None:
        params["metadata"] = {k: str(v) for k, v in metadata.items()}
    if payment_method is not None:
        params["payment_method"] = payment_method
    return _call(
        client().v1.payment_intents.update,
        payment_intent_id,
        params=params,
        options=_options(idempotency_key),
    )


def payment_intent_retrieve(
    *, payment_intent_id: str, expand: list[str] | None = None
) -> stripe.PaymentIntent:
    params = {"expand": expand} if expand else {}
    return _call(client().v1.payment_intents.retrieve, payment_intent_id, params=params)


def payment_intent_confirm(
    *, payment_intent_id: str, idempotency_key: str | None = None
) -> stripe.PaymentIntent:
    """Confirm server-side with the PaymentMethod already attached (never pass one here)."""
    return _call(
        client().v1.payment_intents.confirm,
        payment_intent_id,
        options=_options(idempotency_key),
    )


def payment_intent_cancel(*, payment_intent_id: str) -> stripe.PaymentIntent:
    return _call(client().v1.payment_intents.cancel, payment_intent_id)


def payment_method_create_card(
    *, number: str, exp_month: int, exp_year: int, cvc: str
) -> stripe.PaymentMethod:
    """A card PaymentMethod from raw card details: localstripe and tests only (real Stripe
    refuses raw card numbers from servers; shoppers' cards go through Stripe.js)."""
    params = {
        "type": "card",
        "card": {"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": cvc},
    }
    return _call(client().v1.payment_methods.create, params=params)


# --- Refunds and fees ---


def refund_create(
    *,
    payment_intent_id: str,
    amount_minor: int | None,
    idempotency_key: str,
    metadata: Mapping[str, str] | None = None,
) -> stripe.Refund:
    """Refund `amount_minor` (None = whatever is left) of the PaymentIntent's charge."""
    params: dict[str, Any] = {"payment_intent": payment_intent_id}
    if amount_minor is not None:
        params["amount"] = int(amount_minor)
    if metadata:
        params["metadata"] = {k: str(v) for k, v in metadata.items()}
    return _call(client().v1.refunds.create, params=params, options=_options(idempotency_key))


def balance_fee_for(*, payment_intent_id: str) -> int | None:
    """Stripe's fee in minor units from the charge's balance transaction, or None when
    there is none yet (no charge, pending, or the transaction is not expanded).

    localstripe's balance transactions always report a fee of 0."""
    intent = payment_intent_retrieve(
        payment_intent_id=payment_intent_id, expand=["latest_charge.balance_transaction"]
    )
    charge = intent.to_dict().get("latest_charge")
    if not charge or isinstance(charge, str):
        return None
    txn = charge.get("balance_transaction")
    if not txn or isinstance(txn, str) or txn.get("fee") is None:
        return None
    return int(txn["fee"])


def card_fingerprint_for(*, payment_intent_id: str) -> str | None:
    """The fingerprint of the card that paid the PaymentIntent (its PaymentMethod's, or the
    latest charge's payment_method_details), or None when no card paid it."""
    intent = payment_intent_retrieve(
        payment_intent_id=payment_intent_id, expand=["payment_method", "latest_charge"]
    ).to_dict()
    method = intent.get("payment_method")
    if isinstance(method, dict):
        fingerprint = (method.get("card") or {}).get("fingerprint")
        if isinstance(fingerprint, str) and fingerprint:
            return fingerprint[:64]
    charge = intent.get("latest_charge")
    if isinstance(charge, dict):
        details = charge.get("payment_method_details") or {}
        fingerprint = (details.get("card") or {}).get("fingerprint")
        if isinstance(fingerprint, str) and fingerprint:
            return fingerprint[:64]
    return None


# --- Webhooks ---


def webhook_event_construct(*, payload: bytes | str, sig_header: str | None) -> dict[str, Any]:
    """Verify the Stripe-Signature header against STRIPE_WEBHOOK_SECRET and return the event
    as a plain dict (id, type, created, data.object ...).

    Raises WebhookNotConfigured (no secret), WebhookSignatureInvalid (missing, malformed,
    stale or wrong signature) or WebhookPayloadInvalid (signed but not a readable event)."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise WebhookNotConfigured("STRIPE_WEBHOOK_SECRET is not set.")
    if not sig_header:
        raise WebhookSignatureInvalid("Missing Stripe-Signature header.")
    try:
        text = payload.decode("utf-8") if isinstance(payload, bytes | bytearray) else payload
    except UnicodeDecodeError as exc:
        raise WebhookSignatureInvalid("Body is not UTF-8.") from exc
    try:
        stripe.WebhookSignature.verify_header(text, sig_header, secret, WEBHOOK_TOLERANCE)
    except stripe.SignatureVerificationError as exc:
        raise WebhookSignatureInvalid("Invalid Stripe-Signature.") from exc
    try:
        event = json.loads(text)
    except ValueError as exc:
        raise WebhookPayloadInvalid("Body is not JSON.") from exc
    except RecursionError as exc:
        raise WebhookPayloadInvalid("Body nests too deeply.") from exc
    if not (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and 0 < len(event["id"]) <= MAX_EVENT_ID
        and isinstance(event.get("type"), str)
        and 0 < len(event["type"]) <= MAX_EVENT_TYPE
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    ):
        raise WebhookPayloadInvalid("Body is not a Stripe event.")
    if "created" in event and parse_timestamp(event["created"]) is None:
        raise WebhookPayloadInvalid("Event 'created' is not a plausible Unix time.")
    if not json_is_storable(event, max_depth=MAX_EVENT_DEPTH):
        raise WebhookPayloadInvalid("Event nests too deeply or holds a NUL character.")
    return event
