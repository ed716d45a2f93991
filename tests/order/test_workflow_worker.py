"""The whole order pipeline on a real Celery worker: paid → (workshop) → ready → shipped →
delivered, with each email sent once and tickets made for personalized lines only."""

import email
from email import policy

import pytest
from django.db import transaction
from oscar.test.factories import UserFactory

from shop.common.models import OutboxMessage, TaskFailure
from shop.order import pipeline as p
from shop.order.models import CommunicationEvent
from shop.order.services import order_mark_paid, order_status_change
from shop.personalization.rules import Choices
from shop.workshop.models import WorkshopJob
from shop.workshop.services import workshop_job_advance
from tests.conftest import sent_emails, wait_for
from tests.faults.invariants import assert_invariants
from tests.workshop.helpers import place_order, place_personalized_order, plain_product


def _subjects(mail_dir) -> list[str]:
    return sorted(
        email.message_from_string(text, policy=policy.default)["Subject"]
        for text in sent_emails(mail_dir)
    )


def _status(order) -> str:
    order.refresh_from_db()
    return order.status


@pytest.mark.worker
def test_personalized_order_from_payment_to_delivery(celery_worker, mail_dir, demo_personalization):
    staff = UserFactory(is_staff=True)
    with transaction.atomic():
        order = order_mark_paid(order=place_personalized_order(guest_email="jo@example.com"))
    # The worker sends the confirmation, makes the ticket, which puts the order in the
    # workshop, which sends "being made".
    wait_for(lambda: _status(order) == p.IN_WORKSHOP)
    n = order.number
    wait_for(lambda: len(_subjects(mail_dir)) == 2)
    assert _subjects(mail_dir) == [
        f"Your Marlow & Vale order {n}",
        f"Your Marlow & Vale order {n} is being made",
    ]
    [job] = WorkshopJob.objects.filter(order=order)
    workshop_job_advance(job=job, status=WorkshopJob.Status.DONE, staff=staff)
    assert _status(order) == p.READY_TO_SHIP
    order_status_change(
        order=order, to_status=p.SHIPPED, actor=staff, tracking_number="AB123456789GB"
    )
    wait_for(lambda: len(_subjects(mail_dir)) == 3)
    shipped = next(text for text in sent_emails(mail_dir) if "on its way" in text)
    assert "Tracking number: AB123456789GB" in shipped
    order_status_change(order=order, to_status=p.DELIVERED, actor=staff)
    assert [c.new_status for c in order.status_changes.order_by("pk")] == [
        p.PAID,
        p.IN_WORKSHOP,
        p.READY_TO_SHIP,
        p.SHIPPED,
        p.DELIVERED,
    ]
    assert CommunicationEvent.objects.filter(order=order).count() == 3
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    assert not TaskFailure.objects.exists()
    assert_invariants()


@pytest.mark.worker
def test_plain_order_skips_the_workshop(celery_worker, mail_dir, demo_personalization):
    staff = UserFactory(is_staff=True)
    with transaction.atomic():
        order = order_mark_paid(
            order=place_order(lines=[(plain_product(), Choices(), 1)], guest_email="al@example.com")
        )
    wait_for(lambda: len(_subjects(mail_dir)) == 1)
    # The ticket task ran too and found nothing to make: no job, still Paid.
    wait_for(lambda: celery_worker.log_path.read_text().count("create_workshop_jobs[") >= 2)
    assert not WorkshopJob.objects.exists() and _status(order) == p.PAID
    order_status_change(order=order, to_status=p.READY_TO_SHIP, actor=staff)
    order_status_change(
        order=order, to_status=p.SHIPPED, actor=staff, tracking_number="1Z999AA10123456784"
    )
    wait_for(lambda: len(_subjects(mail_dir)) == 2)
    assert _subjects(mail_dir)[1] == f"Your Marlow & Vale order {order.number} is on its way"
    assert_invariants()
