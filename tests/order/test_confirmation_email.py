"""Order emails go out through the outbox and a real Celery worker, after commit, once."""

import pytest
from django.db import transaction
from oscar.test.factories import create_order

from shop.common.models import OutboxMessage
from shop.order.models import CommunicationEvent
from shop.order.services import EMAIL_PLACED, order_email_enqueue, order_placed_followups
from tests.conftest import sent_emails, wait_for


def _emails(mail_dir):
    return sent_emails(mail_dir)


@pytest.mark.worker
def test_confirmation_is_sent_by_the_worker_after_commit_once(celery_worker, mail_dir):
    with transaction.atomic():
        order = create_order(guest_email="ada@example.com")
        # As an order becoming Paid does: nothing is queued before commit.
        order_placed_followups(order=order)

    body = wait_for(lambda: _emails(mail_dir))[0]
    assert "To: ada@example.com" in body
    assert f"Subject: Your Marlow & Vale order {order.number}" in body
    assert f"/accounts/order-status/{order.number}/" in body  # signed guest link

    # A second delivery of the same job (retry, redelivery) sends nothing more.
    with transaction.atomic():
        order_email_enqueue(order=order, code=EMAIL_PLACED)

    # The worker logs each task's return value: False means "already sent, nothing done".
    def confirmation_results() -> list[str]:
        lines = celery_worker.log_path.read_text().splitlines()
        return [
            line.rsplit(": ", 1)[-1]
            for line in lines
            if "send_order_email[" in line and " succeeded in " in line
        ]

    assert wait_for(
        lambda: confirmation_results() if len(confirmation_results()) == 2 else None
    ) == [
        "True",
        "False",
    ]
    assert len(_emails(mail_dir)) == 1
    assert CommunicationEvent.objects.filter(order=order).count() == 1
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_nothing_is_queued_when_the_transaction_rolls_back(published_tasks):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        order = create_order(guest_email="ada@example.com")
        order_email_enqueue(order=order, code=EMAIL_PLACED)
        raise Boom
    assert published_tasks == [] and not OutboxMessage.objects.exists()

    with transaction.atomic():
        order = create_order(guest_email="ada@example.com")
        order_email_enqueue(order=order, code=EMAIL_PLACED)
        assert published_tasks == []
    assert published_tasks == [("send_order_email", [order.pk, "ORDER_PLACED"])]
    assert OutboxMessage.objects.get().sent_at is not None
