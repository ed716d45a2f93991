"""The order status service: events with who and when, stock, emails queued, refusals, the
cancel/refund paths and the daily jobs."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from oscar.test.factories import UserFactory

from shop.common.models import OutboxMessage
from shop.order import pipeline as p
from shop.order.models import Order
from shop.order.services import (
    OrderTransitionError,
    order_cancel,
    order_mark_paid,
    order_status_change,
    order_status_change_bulk,
    orders_unpaid_cancel,
)
from shop.partner.models import StockRecord
from shop.payments.models import PaymentIntentRecord
from shop.personalization.rules import Choices
from shop.workshop.models import WorkshopJob
from shop.workshop.services import (
    workshop_job_advance,
    workshop_jobs_create,
    workshop_jobs_overdue_flag,
)
from tests.workshop.helpers import place_order, place_personalized_order, plain_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, email="floor@marlowandvale.example", first_name="Kit")


def _queued() -> list[tuple[str, list]]:
    """Tasks written to the outbox (published once the transaction commits)."""
    return [
        (task.rsplit(".", 1)[-1], args)
        for task, args in OutboxMessage.objects.order_by("pk").values_list("task", "args")
    ]


def _history(order):
    return list(
        order.status_changes.order_by("pk").values_list("old_status", "new_status", "source")
    )


def test_placed_orders_wait_for_payment_then_paid_queues_email_and_tickets(
    demo_personalization, published_tasks
):
    order = place_order(lines=[(plain_product(), Choices(), 1)])
    assert order.status == p.PENDING_PAYMENT and order.promised_dispatch_date is not None
    assert _queued() == []
    order = order_mark_paid(order=order)
    assert order.status == p.PAID and order.paid_at is not None
    assert _history(order) == [(p.PENDING_PAYMENT, p.PAID, "payment")]
    assert _queued() == [
        ("send_order_email", [order.pk, "ORDER_PLACED"]),
        ("create_workshop_jobs", [order.pk]),
    ]


def test_plain_order_from_paid_to_delivered_moves_stock_once(
    demo_personalization, published_tasks, staff
):
    product = plain_product()
    record = StockRecord.objects.get(product=product)
    in_stock, allocated = record.num_in_stock, record.num_allocated or 0
    order = order_mark_paid(order=place_order(lines=[(product, Choices(), 2)]))
    record.refresh_from_db()
    assert (record.num_in_stock, record.num_allocated) == (in_stock, allocated + 2)

    order_status_change(order=order, to_status=p.READY_TO_SHIP, actor=staff)
    with pytest.raises(OrderTransitionError, match="tracking number"):
        order_status_change(order=order, to_status=p.SHIPPED, actor=staff)
    order = order_status_change(
        order=order, to_status=p.SHIPPED, actor=staff, tracking_number="ab 123456789 gb"
    )
    assert order.tracking_number == "AB 123456789 GB" and order.shipped_at is not None
    record.refresh_from_db()
    assert (record.num_in_stock, record.num_allocated) == (in_stock - 2, allocated)
    order = order_status_change(order=order, to_status=p.DELIVERED, actor=staff)
    assert order.delivered_at is not None
    with pytest.raises(OrderTransitionError, match="cannot be moved to shipped"):
        order_status_change(order=order, to_status=p.SHIPPED, tracking_number="AB123456789GB")

    assert _history(order) == [
        (p.PENDING_PAYMENT, p.PAID, "payment"),
        (p.PAID, p.READY_TO_SHIP, "staff"),
        (p.READY_TO_SHIP, p.SHIPPED, "staff"),
        (p.SHIPPED, p.DELIVERED, "staff"),
    ]
    assert set(order.status_changes.exclude(source="payment").values_list("actor", flat=True)) == {
        staff.pk
    }
    assert ("send_order_email", [order.pk, "ORDER_SHIPPED"]) in _queued()
    record.refresh_from_db()
    assert (record.num_in_stock, record.num_allocated) == (in_stock - 2, allocated)


def test_personalized_order_goes_through_the_workshop(demo_personalization, published_tasks, staff):
    order = order_mark_paid(order=place_personalized_order())
    with pytest.raises(OrderTransitionError, match="goes to the workshop first"):
        order_status_change(order=order, to_status=p.READY_TO_SHIP, actor=staff)
    [job] = workshop_jobs_create(order=order)
    order.refresh_from_db()
    assert order.status == p.IN_WORKSHOP
    assert ("send_order_email", [order.pk, "ORDER_IN_WORKSHOP"]) in _queued()
    with pytest.raises(OrderTransitionError, match="1 workshop job is not done yet"):
        order_status_change(order=order, to_status=p.READY_TO_SHIP, actor=staff)
    # Running the ticket task again changes nothing (idempotent), and no second move.
    workshop_jobs_create(order=order)
    assert order.status_changes.filter(new_status=p.IN_WORKSHOP).count() == 1

    workshop_job_advance(job=job, status=WorkshopJob.Status.DONE, staff=staff)
    order.refresh_from_db()
    assert order.status == p.READY_TO_SHIP
    last = order.status_changes.order_by("-pk").first()
    assert (last.actor, last.source, last.note) == (staff, "staff", "All workshop jobs done")


def test_a_refused_move_changes_nothing(demo_personalization, published_tasks):
    order = place_order(lines=[(plain_product(), Choices(), 1)])
    for target in (p.IN_WORKSHOP, p.SHIPPED, p.DELIVERED, p.REFUNDED, "Bogus"):
        with pytest.raises(OrderTransitionError):
            order_status_change(order=order, to_status=target, tracking_number="AB123456789GB")
    order.refresh_from_db()
    assert order.status == p.PENDING_PAYMENT and not order.status_changes.exists()
    assert _queued() == []


def test_cancelling_an_unpaid_order_releases_its_stock(demo_personalization, published_tasks):
    product = plain_product()
    record = StockRecord.objects.get(product=product)
    allocated = record.num_allocated or 0
    order = place_order(lines=[(product, Choices(), 1)])
    order = order_cancel(order=order, reason="Customer asked")
    record.refresh_from_db()
    assert order.status == p.CANCELLED and (record.num_allocated or 0) == allocated
    assert _queued() == [("send_order_email", [order.pk, "ORDER_CANCELLED"])]
    with pytest.raises(OrderTransitionError, match="already cancelled"):
        order_cancel(order=order)


def test_cancelling_a_paid_order_refunds_it_in_full(paid_order, staff):  # noqa: F811
    order = paid_order
    order_cancel(order=order, actor=staff, reason="Out of leather")
    order.refresh_from_db()
    record = PaymentIntentRecord.objects.get(order_number=order.number)
    assert order.status == p.CANCELLED
    assert record.amount_refunded == record.amount == order.total_incl_tax
    assert order.payment_events.filter(event_type__name="Refunded").count() == 1


def test_a_full_refund_makes_the_order_refunded(paid_order, staff):  # noqa: F811
    from shop.order.services import order_refund

    order = paid_order
    order_refund(order=order, amount=order.total_incl_tax - 1, staff=staff)
    order.refresh_from_db()
    assert order.status == p.PAID  # partial: unchanged
    order_refund(order=order, amount=order.total_incl_tax - (order.total_incl_tax - 1), staff=staff)
    order.refresh_from_db()
    assert order.status == p.REFUNDED
    assert order.status_changes.order_by("-pk").first().actor == staff


def test_bulk_moves_each_order_and_reports_refusals(demo_personalization, published_tasks, staff):
    plain = order_mark_paid(order=place_order(lines=[(plain_product(), Choices(), 1)]))
    personal = order_mark_paid(order=place_personalized_order())
    result = order_status_change_bulk(
        orders=[plain, personal], to_status=p.READY_TO_SHIP, actor=staff
    )
    assert result.moved == [plain.number]
    assert result.refused == [
        f"Order {personal.number}: This order has personalized pieces: it goes to the "
        "workshop first."
    ]


def test_the_daily_job_cancels_unpaid_orders_and_settles_paid_ones(
    demo_catalogue, localstripe, published_tasks
):
    from shop.payments import stripe_api
    from tests.factories import pay as pay_card

    def pending(amount_minor: int, pay: bool) -> Order:
        order = place_order(lines=[(plain_product(), Choices(), 1)])
        intent = stripe_api.payment_intent_create(
            amount_minor=amount_minor,
            currency="gbp",
            metadata={},
            idempotency_key=f"pending-{order.number}",
        )
        if pay:
            pay_card(intent.id)
        PaymentIntentRecord.objects.create(
            payment_intent_id=intent.id,
            amount=order.total_incl_tax,
            currency="GBP",
            order_number=order.number,
        )
        Order.objects.filter(pk=order.pk).update(date_placed=timezone.now() - timedelta(hours=30))
        return order

    record = StockRecord.objects.get(product=plain_product())
    allocated = record.num_allocated or 0
    abandoned = pending(4500, pay=False)
    settled = pending(4500, pay=True)
    recent = place_order(lines=[(plain_product(), Choices(), 1)])

    assert orders_unpaid_cancel() == 1
    abandoned.refresh_from_db(), settled.refresh_from_db(), recent.refresh_from_db()
    assert abandoned.status == p.CANCELLED
    assert settled.status == p.PAID and recent.status == p.PENDING_PAYMENT
    record.refresh_from_db()
    assert (record.num_allocated or 0) == allocated + 2  # settled and recent still hold stock
    intent = stripe_api.payment_intent_retrieve(
        payment_intent_id=PaymentIntentRecord.objects.get(
            order_number=abandoned.number
        ).payment_intent_id
    )
    assert intent.status == "canceled"
    assert orders_unpaid_cancel() == 0  # run twice: nothing more


def test_overdue_workshop_jobs_are_flagged_to_staff_once_a_day(
    demo_personalization, published_tasks, staff
):
    order = order_mark_paid(order=place_personalized_order())
    [job] = workshop_jobs_create(order=order)
    today = job.due_date + timedelta(days=2)
    assert [j.pk for j in workshop_jobs_overdue_flag(today=job.due_date)] == []
    assert [j.pk for j in workshop_jobs_overdue_flag(today=today)] == [job.pk]
    assert workshop_jobs_overdue_flag(today=today) == []  # same day again: nothing
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [staff.email]
    assert order.number in mail.outbox[0].body and "past their due date" in mail.outbox[0].subject
    assert [j.pk for j in workshop_jobs_overdue_flag(today=today + timedelta(days=1))] == [job.pk]
    workshop_job_advance(job=job, status=WorkshopJob.Status.DONE, staff=staff)
    assert workshop_jobs_overdue_flag(today=today + timedelta(days=2)) == []
