"""The task outbox: enqueue Celery tasks so that a broker outage loses nothing.

`outbox_enqueue` writes a row inside the caller's transaction and, once it commits, tries
to publish the task straight away (the usual path: milliseconds). If Redis cannot be
reached, the shopper's request still succeeds; the row stays unsent and `outbox_drain`
(Celery beat, every minute) publishes it when Redis is back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from importlib import import_module
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from shop.common.commit import commit_batch_add
from shop.common.models import OutboxMessage

logger = logging.getLogger(__name__)

# A message is left to the drain only when the immediate publish had time to happen.
DRAIN_GRACE = timedelta(seconds=20)


# Inside `outbox_muted()` nothing is recorded or published.
_muted: ContextVar[bool] = ContextVar("outbox_muted", default=False)


@contextmanager
def outbox_muted() -> Iterator[None]:
    """Tasks enqueued inside are neither recorded nor published: for history written after
    the fact (the demo's seed), whose emails, labels and tickets belong to the past."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def outbox_enqueue(
    *,
    task: str,
    args: list[Any] | None = None,
    kwargs: dict[str, Any] | None = None,
    subject: str = "",
) -> OutboxMessage:
    """Record the task in the current transaction; publish it once the transaction commits.
    (Muted: the message is returned unsaved.)"""
    if _muted.get():
        return OutboxMessage(task=task, args=list(args or []), kwargs=dict(kwargs or {}))
    message = OutboxMessage.objects.create(
        task=task, args=list(args or []), kwargs=dict(kwargs or {}), subject=subject
    )
    _publish_on_commit(message)
    return message


def outbox_enqueue_many(*, messages: list[dict[str, Any]]) -> list[OutboxMessage]:
    """`outbox_enqueue` for several tasks (each a dict of its arguments) in one insert."""
    if _muted.get():
        return []
    rows = OutboxMessage.objects.bulk_create(
        OutboxMessage(
            task=m["task"],
            args=list(m.get("args") or []),
            kwargs=dict(m.get("kwargs") or {}),
            subject=m.get("subject", ""),
        )
        for m in messages
    )
    for row in rows:
        _publish_on_commit(row)
    return rows


class _Batch(list):
    """The messages one commit callback publishes (shop.common.commit: those recorded under
    the same savepoints)."""

    merge = list.extend

    def __call__(self) -> None:
        outbox_publish(messages=list(self))


def _publish_on_commit(message: OutboxMessage) -> None:
    commit_batch_add(_Batch, [message])


# After a failed publish, requests stop trying for a while (a circuit breaker): during an
# outage each request would otherwise wait for the broker's connect timeout.
BROKER_RETRY_AFTER = 10.0
_broker_down_until = 0.0


def outbox_publish(*, messages: list[OutboxMessage]) -> int:
    """Publish messages just committed to the broker, in order; returns how many went out
    now, all marked sent in one statement. (The drain leaves messages younger than
    DRAIN_GRACE alone, so it is not also publishing these; were it to, the tasks are
    idempotent.)

    Never raises for a broker failure: the error is kept on the rows for the drain, and the
    messages after a failure are not tried (the broker is down)."""
    global _broker_down_until
    sent: list[int] = []
    failed: OutboxMessage | None = None
    if time.monotonic() >= _broker_down_until:
        for message in messages:
            try:
                _publish(message)
            except Exception as exc:  # noqa: BLE001 - any broker failure: the drain retries
                _broker_down_until = time.monotonic() + BROKER_RETRY_AFTER
                logger.warning("Outbox %s: could not publish %s: %s", message.pk, message.task, exc)
                OutboxMessage.objects.filter(pk=message.pk).update(
                    attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000]
                )
                failed = message
                break
            sent.append(message.pk)
        else:
            _broker_down_until = 0.0
    untried = [m.pk for m in messages if m.pk not in sent and m is not failed]
    if untried:
        OutboxMessage.objects.filter(pk__in=untried).update(
            last_error="Not tried: the broker was unreachable a moment ago."
        )
    if sent:
        OutboxMessage.objects.filter(pk__in=sent, sent_at__isnull=True).update(
            sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
        )
    return len(sent)


def outbox_drain(*, limit: int = 500, grace: timedelta = DRAIN_GRACE) -> int:
    """Publish messages left unsent (older than `grace`), oldest first. Rows are locked with
    SKIP LOCKED, so two drains running together never publish the same row. Returns how
    many went out; stops at the first broker failure (the broker is still down)."""
    sent = 0
    cutoff = timezone.now() - grace
    while sent < limit:
        with transaction.atomic():
            message = (
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(sent_at__isnull=True, created_at__lte=cutoff)
                .order_by("pk")
                .first()
            )
            if message is None:
                break
            try:
                _publish(message)
            except Exception as exc:  # noqa: BLE001
                message.attempts += 1
                message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                message.save(update_fields=["attempts", "last_error"])
                logger.warning("Outbox drain stopped: %s", exc)
                break
            message.sent_at = timezone.now()
            message.attempts += 1
            message.last_error = ""
            message.save(update_fields=["sent_at", "attempts", "last_error"])
            sent += 1
    return sent


def _publish(message: OutboxMessage) -> None:
    from config.celery_app import app

    if message.task not in app.tasks:
        # Our task names are their module paths: import it so the task registers.
        import_module(message.task.rsplit(".", 1)[0])
    task = app.tasks[message.task]
    # No publish retries here: a broker that is down must not hold up the shopper's
    # request; the drain tries again.
    task.apply_async(args=message.args, kwargs=message.kwargs, retry=False)
