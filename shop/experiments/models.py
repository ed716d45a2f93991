"""A/B experiments: what staff defined (Experiment, its Variants with weights) and, only where
stickiness across sign-in needs one, an account's Assignment.

A visitor's variant is not stored: it is a weighted hash of (experiment name, visitor id),
computed the same way in Python (shop.experiments.hashing) and in the report's SQL. Only an
account gets a row, when it signs in during a running experiment, so that the account keeps
one variant on every browser it uses from then on.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from shop.growth.models import Step
from shop.reports.selectors import RFM_SEGMENT_NAMES

SLUG_RE = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
NAME_MAX = 50
KEY_MAX = 30
CONTROL = "control"
WEIGHT_MAX = 1000
slug_validator = RegexValidator(
    SLUG_RE,
    "Use lower-case letters, digits and single hyphens (e.g. takeback-promise).",
)


class Experiment(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        RUNNING = "running", "Running"
        STOPPED = "stopped", "Stopped"

    class Audience(models.TextChoices):
        ALL = "all", "All visitors"
        NEW = "new", "New visitors (first seen today, no earlier paid order)"
        RETURNING = "returning", "Returning visitors (seen before today, or a customer)"
        SEGMENT = "segment", "Customers in one RFM segment"

    name = models.CharField(
        max_length=NAME_MAX,
        unique=True,
        validators=[slug_validator],
        help_text="Templates and views ask for the experiment by this name.",
    )
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.ALL)
    segment = models.CharField(
        max_length=40, blank=True, choices=[(name, name) for name in RFM_SEGMENT_NAMES]
    )
    goal = models.CharField(max_length=20, choices=Step.choices, default=Step.ADD_TO_BASKET)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        permissions = [("run_experiments", "Can create, edit, start and stop experiments")]
        constraints = [
            models.CheckConstraint(
                condition=Q(audience="segment", segment__gt="") | ~Q(audience="segment"),
                name="experiment_segment_named",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
                name="experiment_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_live(self, now: datetime.datetime) -> bool:
        """Running and inside its start/stop times (a start in the future waits for it)."""
        return (
            self.status == self.Status.RUNNING
            and (self.starts_at is None or self.starts_at <= now)
            and (self.ends_at is None or now < self.ends_at)
        )


class Variant(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    key = models.CharField(max_length=KEY_MAX, validators=[slug_validator])
    label = models.CharField(max_length=80, blank=True)
    weight = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(WEIGHT_MAX)]
    )
    position = models.PositiveSmallIntegerField()
    is_control = models.BooleanField(default=False)

    class Meta:
        ordering = ("position", "pk")
        constraints = [
            models.UniqueConstraint(fields=("experiment", "key"), name="variant_key_unique"),
            models.UniqueConstraint(
                fields=("experiment", "position"), name="variant_position_unique"
            ),
            models.UniqueConstraint(
                fields=("experiment",), condition=Q(is_control=True), name="variant_one_control"
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=1) & Q(weight__lte=WEIGHT_MAX), name="variant_weight_range"
            ),
            models.CheckConstraint(
                condition=Q(is_control=False) | Q(key=CONTROL, position=0),
                name="variant_control_first",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.experiment.name}={self.key}"


class Assignment(models.Model):
    """An account's variant of an experiment, recorded when it first signed in while the
    experiment ran (the browser's variant then). It wins on every browser afterwards."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="assignments")
    visitor_id = models.CharField(max_length=22, blank=True)  # the browser it came from
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("experiment", "user"), name="assignment_one_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.experiment_id}: {self.variant_id}"
