"""Background-task plumbing: failures recorded for staff, beat's schedule, the outbox drain."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.celery_app import app
from shop.common import outbox
from shop.common.models import OutboxMessage, TaskFailure
from shop.common.outbox import outbox_drain, outbox_enqueue, outbox_enqueue_many
from shop.common.tasks import TRANSIENT_ERRORS, durable_task
from shop.payments.exceptions import PaymentProviderUnavailable
from tests.conftest import wait_for


def test_every_beat_entry_names_a_real_task():
    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name
    assert {"drain-outbox", "cancel-unpaid-orders", "flag-overdue-workshop-jobs"} <= set(
        settings.CELERY_BEAT_SCHEDULE
    )


def test_house_tasks_retry_transient_errors_and_give_up_before_redelivery():
    app.loader.import_default_modules()
    retried = {name: t for name, t in app.tasks.items() if getattr(t, "autoretry_for", ())}
    assert {
        "shop.order.tasks.send_order_email",
        "shop.payments.tasks.process_stripe_event",
        "shop.payments.tasks.record_payment_fee",
        "shop.workshop.tasks.create_workshop_jobs",
        "shop.takeback.tasks.issue_label",
        "shop.takeback.tasks.issue_credit",
    } <= set(retried)
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    for name, task in retried.items():
        assert task.acks_late, name
        assert set(TRANSIENT_ERRORS) <= set(task.autoretry_for), name
        # The longest a task can spend waiting between its tries (backoff capped per try).
        waiting = sum(min(2**n, task.retry_backoff_max) for n in range(task.max_retries))
        assert waiting < visibility, name
    assert (
        PaymentProviderUnavailable
        in retried["shop.payments.tasks.process_stripe_event"].autoretry_for
    )
    assert retried["shop.order.tasks.send_order_email"].subject_kind == "order"
    assert retried["shop.workshop.tasks.create_workshop_jobs"].subject_kind == "order"
    assert retried["shop.takeback.tasks.issue_label"].subject_kind == "takeback"


tries: list[int] = []


@durable_task(subject_kind="test")
def _flaky(self, fail_times: int, error: str) -> int:
    tries.append(self.request.retries)
    if len(tries) <= fail_times:
        raise OperationalError("connection reset") if error == "db" else ValueError("a bug")
    return len(tries)


@pytest.mark.django_db
def test_a_durable_task_is_run_again_after_a_transient_error_but_not_after_a_bug(
    errors_kept_in_results,
):
    tries.clear()
    assert _flaky.apply(args=[2, "db"]).get() == 3
    assert tries == [0, 1, 2]

    tries.clear()
    result = _flaky.apply(args=[1, "bug"])
    assert result.failed() and isinstance(result.result, ValueError)
    assert tries == [0]

    tries.clear()
    result = _flaky.apply(args=[99, "db"])
    assert result.failed() and isinstance(result.result, OperationalError)
    assert tries == list(range(_flaky.max_retries + 1))
    # Both ended for good: staff see them on the failed-task screen.
    errors = TaskFailure.objects.filter(task=_flaky.name).values_list("error", flat=True)
    assert sorted(e.split(":")[0] for e in errors) == ["OperationalError", "ValueError"]


@pytest.mark.worker
def test_a_task_that_fails_for_good_is_recorded_with_its_error(celery_worker):
    with transaction.atomic():
        # An email code the store does not know: a bug, not a transient error (no retry).
        outbox_enqueue(
            task="shop.order.tasks.send_order_email",
            args=[999999, "ORDER_LOST"],
            subject="order:999999",
        )
    failure = wait_for(lambda: TaskFailure.objects.first())
    assert failure.task == "shop.order.tasks.send_order_email"
    assert failure.args == [999999, "ORDER_LOST"] and failure.subject == "order:999999"
    assert "Unknown order email 'ORDER_LOST'" in failure.error
    assert "Traceback" in failure.traceback


@pytest.mark.django_db(transaction=True)
def test_the_drain_sends_what_waits_oldest_first_and_once(monkeypatch):
    sent = []
    monkeypatch.setattr(outbox, "_publish", lambda message: sent.append(message.pk))
    old = timezone.now() - timedelta(minutes=5)
    first = OutboxMessage.objects.create(task="shop.common.tasks.drain_outbox")
    second = OutboxMessage.objects.create(task="shop.common.tasks.drain_outbox")
    fresh = OutboxMessage.objects.create(task="shop.common.tasks.drain_outbox")
    OutboxMessage.objects.filter(pk__in=[first.pk, second.pk]).update(created_at=old)
    done = OutboxMessage.objects.create(task="x", sent_at=timezone.now())
    OutboxMessage.objects.filter(pk=done.pk).update(created_at=old)

    assert outbox_drain() == 2  # the fresh one is left to its immediate publish
    assert sent == [first.pk, second.pk]
    assert outbox_drain() == 0
    assert OutboxMessage.objects.filter(sent_at__isnull=True).get() == fresh


@pytest.mark.django_db(transaction=True)
def test_the_drain_stops_at_a_broker_failure_and_keeps_the_error(monkeypatch):
    def down(message):
        raise ConnectionRefusedError("Connection refused")

    monkeypatch.setattr(outbox, "_publish", down)
    for _ in range(3):
        OutboxMessage.objects.create(task="shop.common.tasks.drain_outbox")
    assert outbox_drain(grace=timedelta(0)) == 0
    first, *rest = OutboxMessage.objects.order_by("pk")
    assert first.attempts == 1 and "Connection refused" in first.last_error
    assert all(m.attempts == 0 for m in rest)  # not hammered while the broker is down


@pytest.fixture
def published(monkeypatch):
    """What the outbox hands to the broker (task names, in order); the circuit breaker reset."""
    sent: list[str] = []
    monkeypatch.setattr(outbox, "_publish", lambda message: sent.append(message.task))
    monkeypatch.setattr(outbox, "_broker_down_until", 0.0)
    return sent


def _marked_sent(captured) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith('UPDATE "common_outboxmessage" SET "sent_at"')
    ]


@pytest.mark.django_db(transaction=True)
def test_a_transactions_messages_go_out_in_order_after_commit_marked_sent_at_once(published):
    with CaptureQueriesContext(connection) as captured:
        with transaction.atomic():
            outbox_enqueue(task="t.first")
            outbox_enqueue_many(messages=[{"task": "t.second", "args": [1]}, {"task": "t.third"}])
            assert published == []  # nothing before the commit
    assert published == ["t.first", "t.second", "t.third"]
    assert len(_marked_sent(captured)) == 1
    rows = OutboxMessage.objects.order_by("pk")
    assert [(m.task, m.args, m.attempts, m.last_error) for m in rows] == [
        ("t.first", [], 1, ""),
        ("t.second", [1], 1, ""),
        ("t.third", [], 1, ""),
    ]
    assert all(m.sent_at for m in rows)


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_takes_only_its_own_messages(published):
    with transaction.atomic():
        outbox_enqueue(task="t.kept")
        with pytest.raises(RuntimeError), transaction.atomic():
            outbox_enqueue(task="t.rolled-back")
            raise RuntimeError
        outbox_enqueue(task="t.after")
    assert published == ["t.kept", "t.after"]
    assert list(OutboxMessage.objects.order_by("pk").values_list("task", flat=True)) == [
        "t.kept",
        "t.after",
    ]
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_enqueue(task="t.never")
        raise RuntimeError
    assert published == ["t.kept", "t.after"]


@pytest.mark.django_db(transaction=True)
def test_a_broker_failure_mid_batch_leaves_the_rest_for_the_drain(monkeypatch):
    tried: list[str] = []

    def publish(message):
        tried.append(message.task)
        if message.task == "t.second":
            raise ConnectionRefusedError("Connection refused")

    monkeypatch.setattr(outbox, "_publish", publish)
    monkeypatch.setattr(outbox, "_broker_down_until", 0.0)
    with transaction.atomic():
        outbox_enqueue_many(messages=[{"task": f"t.{n}"} for n in ("first", "second", "third")])
    assert tried == ["t.first", "t.second"]  # the third is not tried against a dead broker
    first, second, third = OutboxMessage.objects.order_by("pk")
    assert first.sent_at and first.attempts == 1
    assert not second.sent_at and second.attempts == 1 and "refused" in second.last_error
    assert not third.sent_at and third.attempts == 0 and "Not tried" in third.last_error
    # The breaker is open: the next transaction's messages wait for the drain untried.
    with transaction.atomic():
        outbox_enqueue(task="t.later")
    assert tried == ["t.first", "t.second"]
    assert outbox_drain(grace=timedelta(0)) == 0  # the drain tries anyway: second fails
    monkeypatch.setattr(outbox, "_publish", lambda message: tried.append(message.task))
    assert outbox_drain(grace=timedelta(0)) == 3
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
