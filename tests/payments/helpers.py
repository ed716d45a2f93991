"""Signed test events for the webhook (Stripe's scheme: t=<ts>,v1=HMAC-SHA256)."""

import hashlib
import hmac
import json
import secrets
import time

WEBHOOK_SECRET = "whsec_test_marlowvale"
WEBHOOK_PATH = "/payments/stripe/webhook/"


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A Stripe-Signature header the way Stripe (and localstripe) make it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def make_event(event_type: str, obj: dict, *, event_id: str | None = None, created=None) -> dict:
    return {
        "id": event_id or "evt_" + secrets.token_hex(8),
        "object": "event",
        "api_version": "2017-08-15",
        "created": int(time.time()) if created is None else created,
        "livemode": False,
        "type": event_type,
        "data": {"object": obj},
    }


def intent_obj(
    pi_id: str = "pi_test1",
    *,
    amount: int = 12500,
    currency: str = "gbp",
    status: str = "succeeded",
    basket_id: int | None = 42,
    error: str | None = None,
) -> dict:
    obj = {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "currency": currency,
        "status": status,
        "metadata": {"basket_id": str(basket_id)} if basket_id else {},
        "last_payment_error": {"message": error, "code": "card_declined"} if error else None,
    }
    return obj


def charge_obj(
    pi_id: str = "pi_test1",
    *,
    amount: int = 12500,
    refunds: list[tuple[str, int]] = (),
    currency: str = "gbp",
) -> dict:
    return {
        "id": "ch_" + pi_id[3:],
        "object": "charge",
        "amount": amount,
        "currency": currency,
        "payment_intent": pi_id,
        "refunded": sum(a for _, a in refunds) >= amount,
        "amount_refunded": sum(a for _, a in refunds),
        "metadata": {},
        "refunds": {
            "object": "list",
            "data": [
                {"id": rid, "object": "refund", "amount": a, "currency": currency}
                | {"status": "succeeded", "created": int(time.time())}
                for rid, a in refunds
            ],
        },
    }


def post_event(client, event: dict | str, *, secret: str = WEBHOOK_SECRET, header=None):
    payload = event if isinstance(event, str) else json.dumps(event)
    headers = {"HTTP_STRIPE_SIGNATURE": header if header is not None else sign(payload, secret)}
    if header == "":
        headers = {}
    return client.post(WEBHOOK_PATH, data=payload, content_type="application/json", **headers)
