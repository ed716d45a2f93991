"""What tests build again and again, written once: a guest's way to the payment page, a card
paid as Stripe.js would, a Stripe event made from a real PaymentIntent, threads released
together. Test modules import from here, never from each other."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import connection, connections
from django.test import Client
from oscar.core.loading import get_model

from shop.payments import stripe_api
from shop.storefront.services import shipping_countries_ensure
from tests.payments.helpers import make_event

OK, DECLINED, THREE_D_SECURE = "4242424242424242", "4000000000000341", "4000002500003155"
KEY_FOB = "MV-HE-KEY"  # £25, £4.50 tracked delivery: £29.50
TRACKED = "royal-mail-tracked-48"
ADDRESS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "line1": "12 Lower Rushall Street",
    "line4": "Walsall",
    "postcode": "WS1 2AA",
    "country": "GB",
    "phone_number": "",
}


def checkout_to_shipping_method(client, upc: str, quantity: int = 1):
    """A guest adds `quantity` of `upc`, gives an email and the address: the shipping page."""
    Product = get_model("catalogue", "Product")
    shipping_countries_ensure()
    product = Product.objects.get(upc=upc)
    client.post(f"/basket/add/{product.pk}/", {"quantity": quantity})
    response = client.post("/checkout/", {"username": "ada@example.com", "options": "anonymous"})
    assert response.status_code == 302
    response = client.post("/checkout/shipping-address/", ADDRESS)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/checkout/shipping-method/"
    return client.get("/checkout/shipping-method/")


def to_payment_page(client, upc: str = KEY_FOB):
    """A guest's payment page for one `upc`, tracked delivery."""
    checkout_to_shipping_method(client, upc)
    client.post("/checkout/shipping-method/", {"method_code": TRACKED})
    response = client.get("/checkout/payment-details/")
    assert response.status_code == 200
    return response


def signed_in_payment_page(client, user, *, upc: str = KEY_FOB, use_credit: bool = False):
    """A signed-in customer's payment page for one `upc`, store credit used or not."""
    Product = get_model("catalogue", "Product")
    client.force_login(user)
    shipping_countries_ensure()
    client.post(f"/basket/add/{Product.objects.get(upc=upc).pk}/", {"quantity": 1})
    client.get("/checkout/")
    assert client.post("/checkout/shipping-address/", ADDRESS).status_code == 302
    client.post("/checkout/shipping-method/", {"method_code": TRACKED})
    if use_credit:
        client.post("/checkout/store-credit/", {"use": "1"})
    return client.get("/checkout/payment-details/")


def pay(pi_id: str, number: str = OK):
    """What the localstripe adapter does: PaymentMethod, attach with an update, confirm."""
    card = stripe_api.payment_method_create_card(
        number=number, exp_month=12, exp_year=2034, cvc="123"
    )
    stripe_api.payment_intent_update(payment_intent_id=pi_id, payment_method=card.id)
    return stripe_api.payment_intent_confirm(payment_intent_id=pi_id)


def confirm(client, page, **extra):
    """Press Pay's second half: post the page's attempt (as checkout.js does)."""
    data = {"attempt": str(page.context["attempt"].token)}
    if page.context.get("payment_intent_id"):
        data["payment_intent_id"] = page.context["payment_intent_id"]
    return client.post("/checkout/payment-confirm/", data, **extra)


def buyer_paid(_i: int = 0) -> tuple[Client, str]:
    """A guest who reached the payment page and paid with 4242 (not yet confirmed)."""
    client = Client()
    pi_id = to_payment_page(client).context["payment_intent_id"]
    assert pay(pi_id, OK).status == "succeeded"
    return client, pi_id


def stock_set(num_in_stock: int, upc: str = KEY_FOB):
    StockRecord = get_model("partner", "StockRecord")
    record = StockRecord.objects.get(product__upc=upc)
    StockRecord.objects.filter(pk=record.pk).update(num_in_stock=num_in_stock, num_allocated=0)
    record.refresh_from_db()
    return record


def succeeded_event(pi_id: str, **kwargs) -> dict:
    """A payment_intent.succeeded event made from the PaymentIntent as localstripe has it."""
    intent = stripe_api.payment_intent_retrieve(payment_intent_id=pi_id)
    obj = json.loads(json.dumps(intent.to_dict(), default=str))
    obj["amount"] = int(obj["amount"])
    return make_event("payment_intent.succeeded", obj, **kwargs)


def in_threads(fn, args: list, *, barrier: bool = True) -> list:
    """Run fn(arg) for every arg, each in its own thread (and DB connection), released
    together by a Barrier. Returns the results (or the exceptions) in order."""
    gate = threading.Barrier(len(args)) if barrier else None

    def run(arg):
        try:
            if gate is not None:
                gate.wait(timeout=60)
            return fn(arg)
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(args)) as pool:
        return list(pool.map(run, args))


def committed(capture, change: Callable[[], Any]) -> Any:
    """``change()``, then what its COMMIT runs (``capture`` is pytest-django's
    ``django_capture_on_commit_callbacks``): marking search documents and listing facts dirty,
    the refresh task, the version bumps. The callbacks are then dropped, as a real COMMIT
    does: the test's own transaction stays open, so the next change would otherwise join the
    batch already run. Returns what ``change`` returned."""
    with capture(execute=True):
        result = change()
    connection.run_on_commit.clear()
    return result
