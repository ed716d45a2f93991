"""Workshop jobs: one per personalized order line, with its promised dispatch date and an
event row for every change of status."""

from django.conf import settings
from django.db import models

from shop.common.statemachine import Refusal, StateMachine


class WorkshopJobTransitionError(ValueError):
    """A status change the workshop's state machine does not allow."""


class WorkshopJob(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    # Which statuses each status may move to. Done is final: a finished piece that needs
    # more work is a new job (a repair or a remake), not a reopened one.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.OPEN: frozenset({Status.IN_PROGRESS, Status.DONE}),
        Status.IN_PROGRESS: frozenset({Status.OPEN, Status.DONE}),
        Status.DONE: frozenset(),
    }
    ACTIVE = (Status.OPEN, Status.IN_PROGRESS)

    line = models.OneToOneField("order.Line", on_delete=models.CASCADE, related_name="workshop_job")
    order = models.ForeignKey("order.Order", on_delete=models.CASCADE, related_name="workshop_jobs")
    due_date = models.DateField(help_text="The dispatch date promised when the order was placed.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    # The day staff were last told this job is past its due date (daily job; once a day).
    overdue_flagged_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("due_date", "order_id", "line_id")
        indexes = [models.Index(fields=("status", "due_date"), name="workshop_job_status_due")]

    def __str__(self) -> str:
        return f"Workshop job {self.pk} (order line {self.line_id})"

    @property
    def next_statuses(self) -> list[tuple[str, str]]:
        """(value, label) of the statuses this job may move to, in the workflow's order."""
        allowed = MACHINE.allowed(self.status)
        return [(value, label) for value, label in self.Status.choices if value in allowed]

    def transition_to(self, status: str) -> str:
        """Move to `status`, or raise WorkshopJobTransitionError. Returns the old status."""
        refusal = MACHINE.refusal(self.status, status)
        if refusal is Refusal.UNKNOWN:
            raise WorkshopJobTransitionError(f"“{status}” is not a workshop job status.")
        old = self.status
        if refusal is Refusal.SAME:
            raise WorkshopJobTransitionError(
                f"This job is already {self.Status(old).label.lower()}."
            )
        if refusal is not None:
            raise WorkshopJobTransitionError(
                f"A job that is {self.Status(old).label.lower()} cannot be moved to "
                f"{self.Status(status).label.lower()}."
            )
        self.status = status
        return old


MACHINE = StateMachine.of(WorkshopJob.TRANSITIONS)


class WorkshopJobEvent(models.Model):
    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        STATUS_CHANGED = "status_changed", "Status changed"

    job = models.ForeignKey(WorkshopJob, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_status = models.CharField(max_length=20, choices=WorkshopJob.Status.choices, blank=True)
    status = models.CharField(max_length=20, choices=WorkshopJob.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "pk")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.from_status or '-'} → {self.status}"
