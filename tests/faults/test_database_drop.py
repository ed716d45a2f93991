"""The PostgreSQL connection drops in the middle of placing an order: the shopper gets a
clear message, no half-made order is left, and paying again places exactly one order."""

import pytest
from django.db import connection

from shop.basket.models import Basket
from shop.checkout import services
from shop.order.models import Order
from shop.partner.models import StockRecord
from shop.payments.models import PaymentIntentRecord
from tests.factories import pay, to_payment_page
from tests.faults.invariants import assert_invariants


@pytest.mark.django_db(transaction=True)
def test_connection_dropped_during_placement_leaves_no_half_order(
    client, demo_catalogue, localstripe, monkeypatch
):
    page = to_payment_page(client)
    pi_id, attempt = page.context["payment_intent_id"], str(page.context["attempt"].token)
    pay(pi_id)
    stock = {sr.pk: (sr.num_in_stock, sr.num_allocated) for sr in StockRecord.objects.all()}
    real_create = services._order_create
    dropped = []

    def create_then_drop(**kwargs):
        order = real_create(**kwargs)  # lines, allocations, credit source written...
        dropped.append(order.number)
        with connection.cursor() as cursor:  # ...then the server ends our connection
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return order

    monkeypatch.setattr(services, "_order_create", create_then_drop)
    response = client.post("/checkout/payment-confirm/", {"payment_intent_id": pi_id})
    assert dropped and response.status_code == 503
    assert f'value="{attempt}"' in response.content.decode()  # "Finish my order" asks again
    assert "problem on our side" in response.content.decode()
    assert "will not be charged twice" in response.content.decode()
    assert not Order.objects.exists()
    assert Basket.objects.get().status != Basket.SUBMITTED
    assert PaymentIntentRecord.objects.get(payment_intent_id=pi_id).order_number == ""
    after = {sr.pk: (sr.num_in_stock, sr.num_allocated) for sr in StockRecord.objects.all()}
    assert after == stock

    monkeypatch.setattr(services, "_order_create", real_create)
    response = client.post("/checkout/payment-confirm/", {"payment_intent_id": pi_id})
    assert response["Location"] == "/checkout/thank-you/", [
        str(m) for m in client.get(response["Location"]).context["messages"]
    ]
    assert Order.objects.count() == 1 and Order.objects.get().status == "Paid"
    assert_invariants()
