"""`make run` falls back to in-process tasks when no Redis answers."""

import pytest
from django.core import mail
from django.db import transaction
from oscar.test.factories import create_order

from config.celery_app import app
from shop.order.services import EMAIL_PLACED, order_email_enqueue
from shop.storefront.management.commands.run_store import redis_answers, tasks_in_process


def test_redis_answers_tells_a_live_broker_from_none():
    assert redis_answers("redis://127.0.0.1:6379/15") is True
    assert redis_answers("redis://127.0.0.1:1/0") is False


@pytest.mark.django_db(transaction=True)
def test_without_redis_the_confirmation_is_sent_in_process(settings, monkeypatch):
    monkeypatch.setenv("CELERY_TASK_ALWAYS_EAGER", "false")  # restored after the test
    tasks_in_process()
    try:
        with transaction.atomic():
            order = create_order(guest_email="sam@example.com")
            order_email_enqueue(order=order, code=EMAIL_PLACED)
        assert [m.to for m in mail.outbox] == [["sam@example.com"]]
    finally:
        app.conf.task_always_eager = False
        settings.CELERY_TASK_ALWAYS_EAGER = False
