"""`outbox_muted`: history written after the fact queues nothing; outside it, all is queued."""

import pytest

from shop.common.models import OutboxMessage
from shop.common.outbox import outbox_enqueue, outbox_enqueue_many, outbox_muted

pytestmark = pytest.mark.django_db


def test_muted_records_and_publishes_nothing_and_ends_with_its_block(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as callbacks:
        with outbox_muted():
            message = outbox_enqueue(task="shop.order.tasks.x", args=[1], subject="past")
            assert outbox_enqueue_many(messages=[{"task": "shop.order.tasks.y"}]) == []
        assert message.pk is None and not OutboxMessage.objects.exists()
        assert not callbacks
        outbox_enqueue(task="shop.order.tasks.x", args=[2], subject="now")
    assert list(OutboxMessage.objects.values_list("subject", flat=True)) == ["now"]
    assert len(callbacks) == 1
