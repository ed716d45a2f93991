"""Shared plumbing: the task outbox, and the record of background tasks that failed."""

from django.conf import settings
from django.db import models


class OutboxMessage(models.Model):
    """A Celery task to send, written in the same transaction as the change that asks for it.

    Sent right after the transaction commits; when the broker cannot be reached then (Redis
    down), the row stays unsent and the periodic `outbox_drain` task sends it once Redis is
    back. The tasks themselves are idempotent, so a message sent twice has one effect.
    """

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    # What the task is about ("order:42"), for timelines and the failed-task screen.
    subject = models.CharField(max_length=100, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ("pk",)
        indexes = [
            models.Index(
                fields=("created_at",),
                name="outbox_unsent",
                condition=models.Q(sent_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"


class TaskFailure(models.Model):
    """A background task that failed for good (its retries exhausted, or an error that is
    not retried), with its error, so staff can see it and send it again."""

    task_id = models.CharField(max_length=64, unique=True)
    task = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    subject = models.CharField(max_length=100, blank=True, db_index=True)
    error = models.TextField()
    traceback = models.TextField(blank=True)
    failed_at = models.DateTimeField(auto_now_add=True)
    retried_at = models.DateTimeField(null=True, blank=True)
    retried_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ("-failed_at", "-pk")

    def __str__(self) -> str:
        return f"{self.task} failed: {self.error[:60]}"
