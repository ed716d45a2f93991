"""A checkout attempt is what one payment page showed, frozen: Pay charges exactly that, or
nothing (against localstripe). Two windows of one shopper: what one pays cannot be changed
by the other; both paying, or store credit racing a card, make one order and charge only
what it showed; a tampered attempt is a 404; an expired one asks to start again."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connections
from django.test import Client
from oscar.core.loading import get_model

from shop.checkout.models import CheckoutAttempt
from shop.credit.models import CreditEntry
from shop.credit.selectors import credit_balance, credit_ledger_sum
from shop.credit.services import credit_issue
from shop.payments import stripe_api
from shop.payments.models import PaymentIntentRecord
from tests.factories import confirm, in_threads, pay, signed_in_payment_page, to_payment_page

Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")
D = Decimal


@pytest.fixture
def shopper(django_user_model):
    return django_user_model.objects.create_user(
        username="grace", email="grace@example.com", password="a long pass phrase"
    )


def _intent(pi_id: str):
    return stripe_api.payment_intent_retrieve(payment_intent_id=pi_id)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _charged(pi_id: str) -> Decimal:
    """What the card keeps: paid and not refunded."""
    intent = _intent(pi_id)
    if intent.status != "succeeded":
        return D("0.00")
    record = PaymentIntentRecord.objects.get(payment_intent_id=pi_id)
    return D(int(intent.amount)) / 100 - record.amount_refunded


def _invariants(user) -> None:
    """One order at most per basket; every source and spend agrees with the order; every
    card payment either became its order or was refunded in full."""
    assert credit_balance(user=user) == credit_ledger_sum(user=user) >= 0
    for order in Order.objects.all():
        sources = {s.source_type.name: s for s in order.sources.all()}
        assert sum(s.amount_allocated for s in sources.values()) == order.total_incl_tax
        spent = CreditEntry.objects.filter(order_number=order.number, kind="spent")
        assert spent.count() == ("Store credit" in sources)
    for record in PaymentIntentRecord.objects.all():
        if record.order_number:
            assert record.amount_refunded == 0
        elif record.status == "succeeded":
            assert record.amount_refunded == record.amount


@pytest.mark.django_db
def test_two_tabs_the_card_pays_what_the_pressed_page_showed(
    client, demo_catalogue, localstripe, shopper, django_capture_on_commit_callbacks
):
    """Tab 1 applies £10 of credit (Pay £19.50); tab 2 opens the payment page without
    credit (Pay £29.50); tab 1 pays: £19.50 on the card and the credit used, never more."""
    credit_issue(user=shopper, amount=D("10.00"))
    tab1 = signed_in_payment_page(client, shopper, use_credit=True)
    assert "Pay £19.50 and place order" in tab1.content.decode()
    client.post("/checkout/store-credit/", {"use": "0"})  # tab 2, same session
    tab2 = client.get("/checkout/payment-details/")
    assert "Pay £29.50 and place order" in tab2.content.decode()
    first, second = tab1.context["attempt"], tab2.context["attempt"]
    assert first.payment_intent_id != second.payment_intent_id
    assert int(_intent(first.payment_intent_id).amount) == 1950  # untouched by tab 2

    pay(first.payment_intent_id)
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(client, tab1)
    assert response["Location"] == "/checkout/thank-you/"
    order = Order.objects.get()
    assert order.total_incl_tax == D("29.50")
    sources = {s.source_type.name: s.amount_debited for s in order.sources.all()}
    assert sources == {"Stripe": D("19.50"), "Store credit": D("10.00")}
    assert _charged(first.payment_intent_id) == D("19.50")
    assert credit_balance(user=shopper) == D("0.00")
    thanks = client.get("/checkout/thank-you/").content.decode()
    assert "Paid by card: £19.50" in thanks and "Paid with your store credit: £10.00" in thanks
    assert "Allocation of" not in thanks
    # Tab 2's offer can no longer be paid.
    assert CheckoutAttempt.objects.get(pk=second.pk).status == "closed"
    assert _intent(second.payment_intent_id).status == "canceled"
    _invariants(shopper)


@pytest.mark.django_db
def test_the_same_page_again_reuses_its_attempt_and_a_change_makes_a_new_one(
    client, demo_catalogue, localstripe, shopper
):
    credit_issue(user=shopper, amount=D("10.00"))
    page = signed_in_payment_page(client, shopper)
    again = client.get("/checkout/payment-details/")
    assert again.context["attempt"].pk == page.context["attempt"].pk
    client.post("/checkout/store-credit/", {"use": "1"})
    credited = client.get("/checkout/payment-details/").context["attempt"]
    assert (credited.credit, credited.amount_due) == (D("10.00"), D("19.50"))
    assert int(_intent(page.context["payment_intent_id"]).amount) == 2950  # never updated


@pytest.mark.django_db
def test_basket_changed_in_another_window_refuses_with_the_new_total(
    client, demo_catalogue, localstripe
):
    page = to_payment_page(client)
    pi_id = page.context["payment_intent_id"]
    client.post(f"/basket/add/{Product.objects.get(upc='MV-HE-KEY').pk}/", {"quantity": 1})
    pay(pi_id)
    response = confirm(client, page)
    assert response["Location"] == "/checkout/payment-details/"
    message = _messages(response)[-1]
    assert message.startswith("Your basket changed in another window: the new total is £54.50")
    assert not Order.objects.exists()
    assert _charged(pi_id) == D("0.00")  # the payment went back


@pytest.mark.django_db(transaction=True)
def test_both_tabs_paying_at_once_make_one_order(demo_catalogue, localstripe, shopper):
    credit_issue(user=shopper, amount=D("10.00"))
    client = Client()
    tab1 = signed_in_payment_page(client, shopper, use_credit=True)
    client.post("/checkout/store-credit/", {"use": "0"})
    tab2 = client.get("/checkout/payment-details/")
    for page in (tab1, tab2):
        pay(page.context["payment_intent_id"])
    responses = in_threads(lambda page: confirm(client, page), [tab1, tab2])
    connections.close_all()
    assert [r["Location"] for r in responses].count("/checkout/thank-you/") == 1
    order = Order.objects.get()
    placed = PaymentIntentRecord.objects.get(order_number=order.number).payment_intent_id
    intents = {tab1.context["payment_intent_id"], tab2.context["payment_intent_id"]}
    other = (intents - {placed}).pop()
    assert _charged(placed) == order.sources.get(source_type__name="Stripe").amount_debited
    assert _charged(other) == D("0.00")
    _invariants(shopper)


@pytest.mark.django_db(transaction=True)
def test_credit_only_racing_a_card_makes_one_order_and_charges_only_it(
    demo_catalogue, localstripe, shopper
):
    credit_issue(user=shopper, amount=D("100.00"))
    client = Client()
    by_credit = signed_in_payment_page(client, shopper, use_credit=True)
    assert by_credit.context["credit_covers_total"] is True
    client.post("/checkout/store-credit/", {"use": "0"})
    by_card = client.get("/checkout/payment-details/")
    pi_id = by_card.context["payment_intent_id"]
    pay(pi_id)

    def press(page):
        if page is by_credit:
            data = {"attempt": str(page.context["attempt"].token)}
            return client.post("/checkout/store-credit/place/", data)
        return confirm(client, page)

    responses = in_threads(press, [by_credit, by_card])
    connections.close_all()
    assert [r["Location"] for r in responses].count("/checkout/thank-you/") == 1
    order = Order.objects.get()
    kinds = set(order.sources.values_list("source_type__name", flat=True))
    if kinds == {"Store credit"}:
        assert _charged(pi_id) == D("0.00") and credit_balance(user=shopper) == D("70.50")
    else:
        assert kinds == {"Stripe"} and _charged(pi_id) == D("29.50")
        assert credit_balance(user=shopper) == D("100.00")
    _invariants(shopper)


@pytest.mark.django_db
def test_a_tampered_or_foreign_attempt_is_not_found(client, demo_catalogue, localstripe):
    other = Client()
    foreign = to_payment_page(other).context["attempt"]
    to_payment_page(client)
    for value in (str(uuid.uuid4()), "not-a-uuid", "1 OR 1=1", str(foreign.token)):
        response = client.post("/checkout/payment-confirm/", {"attempt": value})
        assert response.status_code == 404, value
        response = client.post("/checkout/store-credit/place/", {"attempt": value})
        assert response.status_code == 404, value
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_an_expired_attempt_asks_to_start_again_and_charges_nothing(
    client, demo_catalogue, localstripe, settings
):
    page = to_payment_page(client)
    attempt = page.context["attempt"]
    CheckoutAttempt.objects.filter(pk=attempt.pk).update(
        created_at=attempt.created_at - timedelta(minutes=settings.CHECKOUT_ATTEMPT_MINUTES + 1)
    )
    response = confirm(client, page)
    assert response.status_code == 410
    assert "Please start the payment again" in response.content.decode()
    assert _intent(attempt.payment_intent_id).status == "canceled"  # cannot be paid later
    fresh = client.get("/checkout/payment-details/").context["attempt"]
    assert fresh.pk != attempt.pk and not Order.objects.exists()


@pytest.mark.django_db
def test_pay_pressed_after_a_change_elsewhere_is_refused_before_any_charge(
    client, demo_catalogue, localstripe
):
    page = to_payment_page(client)
    attempt = str(page.context["attempt"].token)
    assert client.post("/checkout/payment-check/", {"attempt": attempt}).json() == {"ok": True}
    client.post(f"/basket/add/{Product.objects.get(upc='MV-HE-KEY').pk}/", {"quantity": 1})
    answer = client.post("/checkout/payment-check/", {"attempt": attempt}).json()
    assert answer["ok"] is False
    assert answer["message"].startswith("Your basket changed in another window: the new total")
    assert "nothing was charged" in answer["message"]
    assert _intent(page.context["payment_intent_id"]).status == "requires_payment_method"
    assert (
        client.post("/checkout/payment-check/", {"attempt": str(uuid.uuid4())}).status_code == 404
    )
