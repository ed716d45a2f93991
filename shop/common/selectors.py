"""Reads for the background-task screen."""

from __future__ import annotations

from django.db.models import Min, QuerySet

from shop.common.models import OutboxMessage, TaskFailure


def task_failures(*, include_retried: bool = False) -> QuerySet:
    qs = TaskFailure.objects.select_related("retried_by")
    if not include_retried:
        qs = qs.filter(retried_at__isnull=True)
    return qs.order_by("-failed_at", "-pk")


def outbox_state() -> dict:
    """How many task messages wait to be published, and since when."""
    unsent = OutboxMessage.objects.filter(sent_at__isnull=True)
    summary = unsent.aggregate(oldest=Min("created_at"))
    return {
        "waiting": unsent.count(),
        "oldest": summary["oldest"],
        "last_error": unsent.exclude(last_error="").values_list("last_error", flat=True).last(),
    }
