"""Store credit at checkout (PostgreSQL + localstripe): partly (the card pays the rest: the
PaymentIntent is for the total minus the credit), fully (no card at all), and the credit is
never lost: used elsewhere before the card payment completes → refund, no order, balance
untouched; a cancelled order gives it back. Two checkouts spending the same credit at the
same moment: one order; invariants checked."""

import threading
from decimal import Decimal

import pytest
from django.db import connections
from oscar.core.loading import get_model

from shop.checkout.services import (
    OrderPlacementRefused,
    checkout_attempt_open,
    order_place,
    order_place_for_payment_intent,
)
from shop.credit.models import CreditEntry
from shop.credit.selectors import credit_balance, credit_ledger_sum
from shop.credit.services import credit_issue, credit_spend
from shop.order.services import order_cancel
from shop.payments.models import PaymentIntentRecord
from shop.storefront.services import shipping_countries_ensure
from tests.factories import ADDRESS, pay

Order = get_model("order", "Order")
Basket = get_model("basket", "Basket")
Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")
D = Decimal
KEY_FOB = "MV-HE-KEY"  # £25, £4.50 tracked delivery: £29.50


@pytest.fixture
def shopper(django_user_model):
    return django_user_model.objects.create_user(
        username="grace", email="grace@example.com", password="a long pass phrase"
    )


def _to_payment_page(client, user, *, use_credit: bool):
    client.force_login(user)
    shipping_countries_ensure()
    client.post(f"/basket/add/{Product.objects.get(upc=KEY_FOB).pk}/", {"quantity": 1})
    client.get("/checkout/")
    assert client.post("/checkout/shipping-address/", ADDRESS).status_code == 302
    client.post("/checkout/shipping-method/", {"method_code": "royal-mail-tracked-48"})
    if use_credit:
        client.post("/checkout/store-credit/", {"use": "1"})
    return client.get("/checkout/payment-details/")


def invariants(user):
    assert credit_balance(user=user) >= 0
    assert credit_balance(user=user) == credit_ledger_sum(user=user)
    for order in Order.objects.all():
        sources = {s.source_type.name: s for s in order.sources.all()}
        paid = sum((s.amount_allocated for s in sources.values()), D("0.00"))
        assert paid == order.total_incl_tax
        spent = CreditEntry.objects.filter(order_number=order.number, kind="spent")
        assert spent.count() == ("Store credit" in sources)
    assert CreditEntry.objects.filter(kind="spent").values("order_number").distinct().count() == (
        CreditEntry.objects.filter(kind="spent").count()
    )


@pytest.mark.django_db
def test_part_credit_part_card(client, demo_catalogue, localstripe, shopper):
    credit_issue(user=shopper, amount=D("10.00"))
    page = _to_payment_page(client, shopper, use_credit=True)
    assert page.context["credit_applied"] == D("10.00")
    assert page.context["amount_due"] == D("19.50")
    assert "Pay £19.50 and place order" in page.content.decode()
    pi_id = page.context["payment_intent_id"]
    record = PaymentIntentRecord.objects.get(payment_intent_id=pi_id)
    assert record.amount == D("19.50") and page.context["attempt"].credit == D("10.00")
    pay(pi_id)
    response = client.post("/checkout/payment-confirm/", {"payment_intent_id": pi_id})
    assert response["Location"] == "/checkout/thank-you/"
    order = Order.objects.get()
    assert order.total_incl_tax == D("29.50") and order.status == "Paid"
    sources = {s.source_type.name: s for s in order.sources.all()}
    assert sources["Store credit"].amount_debited == D("10.00")
    assert sources["Stripe"].amount_debited == D("19.50")
    assert credit_balance(user=shopper) == D("0.00")
    assert CreditEntry.objects.get(kind="spent").order_number == order.number
    # Replays place nothing more and spend nothing more.
    assert order_place_for_payment_intent(payment_intent_id=pi_id) == (order, False)
    invariants(shopper)


@pytest.mark.django_db
def test_credit_can_be_left_unused(client, demo_catalogue, localstripe, shopper):
    credit_issue(user=shopper, amount=D("10.00"))
    page = _to_payment_page(client, shopper, use_credit=False)
    assert "You have <strong>£10.00</strong> of store credit" in page.content.decode()
    assert PaymentIntentRecord.objects.get().amount == D("29.50")
    client.post("/checkout/store-credit/", {"use": "1"})
    credited = client.get("/checkout/payment-details/").context["payment_intent_id"]
    # A page that shows another amount has its own PaymentIntent; the first is untouched.
    assert PaymentIntentRecord.objects.get(payment_intent_id=credited).amount == D("19.50")
    client.post("/checkout/store-credit/", {"use": "0"})
    again = client.get("/checkout/payment-details/").context["payment_intent_id"]
    assert PaymentIntentRecord.objects.get(payment_intent_id=again).amount == D("29.50")
    assert PaymentIntentRecord.objects.count() == 2  # the first page's offer, reused


@pytest.mark.django_db
def test_credit_used_elsewhere_before_the_card_payment_refunds_and_keeps_credit(
    client, demo_catalogue, localstripe, shopper
):
    credit_issue(user=shopper, amount=D("10.00"))
    pi_id = _to_payment_page(client, shopper, use_credit=True).context["payment_intent_id"]
    pay(pi_id)
    credit_spend(user=shopper, amount=D("8.00"), order_number="ELSEWHERE")  # another tab
    response = client.post("/checkout/payment-confirm/", {"payment_intent_id": pi_id}, follow=True)
    assert "credit was used elsewhere" in response.content.decode()
    assert not Order.objects.exists()
    record = PaymentIntentRecord.objects.get(payment_intent_id=pi_id)
    assert record.amount_refunded == record.amount == D("19.50")
    assert credit_balance(user=shopper) == D("2.00")  # nothing taken by the failed order
    invariants(shopper)


@pytest.mark.django_db
def test_fully_paid_with_credit_without_stripe(client, demo_catalogue, shopper, published_tasks):
    credit_issue(user=shopper, amount=D("100.00"))
    page = _to_payment_page(client, shopper, use_credit=True)
    assert page.context.get("credit_covers_total") is True
    assert (
        "payment_intent_id" not in page.context and 'id="card-element"' not in page.content.decode()
    )
    assert not PaymentIntentRecord.objects.exists()
    attempt = str(page.context["attempt"].token)
    response = client.post("/checkout/store-credit/place/", {"attempt": attempt})
    assert response["Location"] == "/checkout/thank-you/"
    order = Order.objects.get()
    assert order.status == "Paid" and order.user == shopper
    assert credit_balance(user=shopper) == D("70.50")
    assert client.get("/checkout/thank-you/").status_code == 200
    invariants(shopper)
    # Cancelled: the credit comes back (no card to refund).
    order_cancel(order=order, reason="Customer changed their mind")
    assert credit_balance(user=shopper) == D("100.00")
    invariants(shopper)


@pytest.mark.django_db
def test_pay_with_credit_needs_the_choice_and_enough_credit(
    client, demo_catalogue, localstripe, shopper
):
    credit_issue(user=shopper, amount=D("100.00"))
    by_card = _to_payment_page(client, shopper, use_credit=False)
    response = client.post(
        "/checkout/store-credit/place/", {"attempt": str(by_card.context["attempt"].token)}
    )
    response = client.get(response["Location"])
    assert "choose to use your store credit" in response.content.decode()
    client.post("/checkout/store-credit/", {"use": "1"})
    page = client.get("/checkout/payment-details/")
    credit_spend(user=shopper, amount=D("80.00"), order_number="OTHER")  # another window
    response = client.post(
        "/checkout/store-credit/place/", {"attempt": str(page.context["attempt"].token)}
    )
    response = client.get(response["Location"])
    assert "no longer covers this order" in response.content.decode()
    assert not Order.objects.exists() and credit_balance(user=shopper) == D("20.00")


def _basket_for(user):
    from shop.partner.strategy import UKStrategy

    basket = Basket.objects.create(owner=user)
    basket.strategy = UKStrategy()
    basket.add_product(Product.objects.get(upc=KEY_FOB), quantity=1)
    return basket


def _attempt(basket, user, *, use_credit: bool = True):
    ShippingAddress = get_model("order", "ShippingAddress")
    fields = {k: v for k, v in ADDRESS.items() if k != "country"} | {"country_id": "GB"}
    return checkout_attempt_open(
        basket=basket,
        user=user,
        guest_email="",
        shipping_address=ShippingAddress(**fields),
        method_code="royal-mail-tracked-48",
        use_credit=use_credit,
    )


@pytest.mark.django_db(transaction=True)
def test_two_checkouts_spending_the_same_credit_at_once_one_succeeds(demo_catalogue, shopper):
    shipping_countries_ensure()
    credit_issue(user=shopper, amount=D("40.00"))  # enough for one £29.50 order, not two
    attempts = [_attempt(_basket_for(shopper), shopper) for _ in range(2)]
    assert [a.amount_due for a in attempts] == [D("0.00"), D("0.00")]
    stock_before = StockRecord.objects.get(product__upc=KEY_FOB).num_allocated or 0
    gate = threading.Barrier(len(attempts))
    outcomes = []

    def place(attempt):
        try:
            gate.wait(timeout=30)
            order_place(attempt=attempt)
            outcomes.append("placed")
        except OrderPlacementRefused as exc:
            outcomes.append(exc.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=place, args=(a,)) for a in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("placed") == 1, outcomes
    assert any("no longer covers" in o for o in outcomes if o != "placed")
    assert Order.objects.count() == 1
    assert credit_balance(user=shopper) == D("10.50")
    assert CreditEntry.objects.filter(kind="spent").count() == 1
    assert StockRecord.objects.get(product__upc=KEY_FOB).num_allocated == stock_before + 1
    statuses = sorted(
        Basket.objects.filter(pk__in=[a.basket_id for a in attempts]).values_list(
            "status", flat=True
        )
    )
    assert statuses == ["Open", "Submitted"]
    invariants(shopper)


@pytest.mark.django_db(transaction=True)
def test_two_card_checkouts_with_the_same_credit_one_keeps_it(demo_catalogue, localstripe, shopper):
    """Two baskets, each paying £14.50 by card after £15 of credit, with £15 of credit in all:
    placed at the same moment, one order takes the credit, the other payment is refunded and
    no order is made for it; the credit is spent once."""
    shipping_countries_ensure()
    credit_issue(user=shopper, amount=D("15.00"))
    intents = []
    for basket in (_basket_for(shopper), _basket_for(shopper)):
        attempt = _attempt(basket, shopper)
        assert attempt.amount_due == D("14.50")
        pay(attempt.payment_intent_id)
        intents.append(attempt.payment_intent_id)
    gate = threading.Barrier(len(intents))
    outcomes = []

    def place(pi_id):
        try:
            gate.wait(timeout=30)
            order_place_for_payment_intent(payment_intent_id=pi_id)
            outcomes.append("placed")
        except OrderPlacementRefused as exc:
            outcomes.append(exc.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=place, args=(pi,)) for pi in intents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("placed") == 1, outcomes
    assert any("credit was used elsewhere" in o for o in outcomes if o != "placed")
    assert Order.objects.count() == 1
    assert credit_balance(user=shopper) == D("0.00")
    records = {r.payment_intent_id: r for r in PaymentIntentRecord.objects.all()}
    placed = [r for r in records.values() if r.order_number]
    refunded = [r for r in records.values() if not r.order_number]
    assert len(placed) == 1 and len(refunded) == 1
    assert refunded[0].amount_refunded == refunded[0].amount == D("14.50")
    invariants(shopper)
