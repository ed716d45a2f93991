"""Rules between orders and take-backs: only what the customer holds may be taken back
(delivered, or shipped TAKEBACK_SHIPPED_DAYS ago); an order cancelled or refunded voids its
take-backs not yet credited; a credited take-back's credit is deducted from the order's
refund (said on the staff refund page); staff read staff words."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from oscar.test.factories import UserFactory

from shop.order import pipeline
from shop.order.models import Order
from shop.order.services import order_amount_refundable, order_refund, order_status_change
from shop.payments.exceptions import RefundRefused
from shop.payments.models import PaymentIntentRecord
from shop.takeback.models import TakeBack
from shop.takeback.selectors import customer_returnable_lines
from shop.takeback.services import (
    TakeBackRefused,
    takeback_approve,
    takeback_credit_issue,
    takeback_label_issue,
)
from tests.takeback.helpers import delivered_order, graded, register_line, staff_member

pytestmark = pytest.mark.django_db
S = TakeBack.Status


@pytest.fixture
def staff(db):
    return staff_member()


@pytest.mark.parametrize(
    ("status", "shipped_days_ago", "message"),
    [
        (pipeline.PENDING_PAYMENT, None, "not been delivered yet"),
        (pipeline.PAID, None, "not been delivered yet"),
        (pipeline.READY_TO_SHIP, None, "not been delivered yet"),
        (pipeline.SHIPPED, 2, "once delivered \\(or 14 days after it shipped\\)"),
        (pipeline.CANCELLED, None, "cancelled: its items cannot be taken back"),
        (pipeline.REFUNDED, None, "refunded: its items cannot be taken back"),
    ],
)
def test_only_what_the_customer_holds_can_be_taken_back(
    jo, settings, status, shipped_days_ago, message
):
    settings.TAKEBACK_SHIPPED_DAYS = 14
    order = delivered_order(user=jo, status=status)
    if shipped_days_ago is not None:
        Order.objects.filter(pk=order.pk).update(
            shipped_at=timezone.now() - timedelta(days=shipped_days_ago)
        )
    assert customer_returnable_lines(customer=jo) == []
    with pytest.raises(TakeBackRefused, match=message):
        register_line(jo, order)


def test_delivered_or_shipped_long_enough_ago_can_be_taken_back(jo, settings):
    settings.TAKEBACK_SHIPPED_DAYS = 14
    delivered = delivered_order(user=jo)
    shipped = delivered_order(user=jo, status=pipeline.SHIPPED)
    Order.objects.filter(pk=shipped.pk).update(shipped_at=timezone.now() - timedelta(days=15))
    lines = customer_returnable_lines(customer=jo)
    assert {line.order_id for line in lines} == {delivered.pk, shipped.pk}
    assert register_line(jo, delivered).status == S.REGISTERED
    assert register_line(jo, shipped).status == S.REGISTERED


def test_a_refunded_order_voids_its_open_takebacks_but_not_a_credited_one(jo, staff):
    order = delivered_order(user=jo, quantity=3)
    credited = graded(jo, staff=staff)  # its own order
    open_one = takeback_label_issue(takeback=register_line(jo, order))
    second = register_line(jo, order)
    credited_order = credited.line.order
    takeback_approve(takeback=credited, staff=staff)
    takeback_credit_issue(takeback=credited)

    order_status_change(order=order, to_status=pipeline.REFUNDED, actor=staff)
    order_status_change(order=credited_order, to_status=pipeline.REFUNDED, actor=staff)

    for takeback in (open_one, second):
        takeback.refresh_from_db()
        assert takeback.status == S.VOIDED
        assert takeback.reason == f"Order {order.number} was refunded."
        assert takeback.events.last().kind == "voided"
        assert takeback.staff_status_label == "Voided: order cancelled or refunded"
    credited.refresh_from_db()
    assert credited.status == S.CREDIT_ISSUED  # the credit stays; the refund deducted it


def test_a_cancelled_order_voids_its_takebacks(jo, staff):
    order = delivered_order(user=jo, status=pipeline.SHIPPED)
    Order.objects.filter(pk=order.pk).update(shipped_at=timezone.now() - timedelta(days=30))
    takeback = register_line(jo, order)
    # Shipped orders cannot be cancelled; move it in the database to test the receiver.
    Order.objects.filter(pk=order.pk).update(status=pipeline.PAID)
    order_status_change(order=order, to_status=pipeline.CANCELLED, actor=staff)
    takeback.refresh_from_db()
    assert takeback.status == S.VOIDED


def _paid_by_card(order, amount: Decimal) -> PaymentIntentRecord:
    return PaymentIntentRecord.objects.create(
        payment_intent_id=f"pi_{order.number}",
        order_number=order.number,
        amount=amount,
        currency="GBP",
        status=PaymentIntentRecord.Status.SUCCEEDED,
    )


def test_the_refund_deducts_credit_already_paid_and_the_page_says_so(jo, staff):
    takeback = graded(jo, staff=staff)
    takeback_approve(takeback=takeback, staff=staff, amount=Decimal("25.00"))
    takeback_credit_issue(takeback=takeback)
    order = takeback.line.order
    _paid_by_card(order, Decimal("99.50"))

    assert order_amount_refundable(order=order) == Decimal("74.50")
    with pytest.raises(RefundRefused, match=f"At most 74.50 GBP.*{takeback.reference}"):
        order_refund(order=order, amount=Decimal("99.50"), staff=staff)

    boss = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(boss)
    page = client.get(f"/dashboard/payments/orders/{order.number}/refund/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "credit paid for it is deducted from what can be refunded" in html
    assert 'id="amount-held">£25.00' in html
    assert 'id="amount-refundable">£74.50' in html
    assert page.context["form"].initial["amount"] == Decimal("74.50")


def test_staff_pages_use_staff_words(jo, staff):
    takeback = graded(jo, staff=staff, grade="D")
    # below the estimate: the customer is offered it
    takeback_approve(takeback=takeback, staff=staff, amount=takeback.credit_min)
    takeback.refresh_from_db()
    assert takeback.status == S.OFFERED
    client = Client()
    client.force_login(staff)
    for url in ("/dashboard/take-back/?status=offered", f"/dashboard/take-back/{takeback.pk}/"):
        html = client.get(url).content.decode()
        assert "Offer sent, waiting for the customer" in html
        assert "Offer awaiting your answer" not in html
