"""Writes for the shared plumbing: recording failed tasks and sending them again."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.utils import timezone

from shop.common.models import TaskFailure
from shop.common.outbox import outbox_enqueue


def _json_safe(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return str(value)


def task_subject(*, task: Any, args: Any) -> str:
    """ "order:42" for a task declaring `subject_kind = "order"` called with 42 first."""
    kind = getattr(task, "subject_kind", "")
    if kind and args:
        return f"{kind}:{args[0]}"
    return ""


def task_failure_record(
    *, task: Any, task_id: str, args: Any, kwargs: Any, error: BaseException, traceback: str = ""
) -> TaskFailure:
    """Keep a task that failed for good (once per task id)."""
    failure, _ = TaskFailure.objects.update_or_create(
        task_id=task_id or "",
        defaults={
            "task": getattr(task, "name", str(task)),
            "args": _json_safe(list(args or [])),
            "kwargs": _json_safe(dict(kwargs or {})),
            "subject": task_subject(task=task, args=args),
            "error": f"{type(error).__name__}: {error}"[:4000],
            "traceback": (traceback or "")[-20000:],
        },
    )
    return failure


class TaskRetryRefused(ValueError):
    pass


def task_failure_retry(*, failure: TaskFailure, staff: Any) -> TaskFailure:
    """Send a failed task again (through the outbox), once per failure."""
    with transaction.atomic():
        failure = TaskFailure.objects.select_for_update().get(pk=failure.pk)
        if failure.retried_at is not None:
            raise TaskRetryRefused("This task has already been sent again.")
        outbox_enqueue(
            task=failure.task, args=failure.args, kwargs=failure.kwargs, subject=failure.subject
        )
        failure.retried_at = timezone.now()
        failure.retried_by = staff if getattr(staff, "pk", None) else None
        failure.save(update_fields=["retried_at", "retried_by"])
    return failure
