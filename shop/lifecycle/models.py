"""Lifecycle emails: each customer's marketing consent (and its history, the proof of it),
the campaigns staff pause and tune, and one row per email a campaign meant to send.

A send is unique per (campaign, key): the key names what the email is about (the basket,
the customer's last order, the order line, the order), so a sweep that runs again, or two
sweeps at once, can never queue a second email about the same thing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ConsentSource(models.TextChoices):
    REGISTRATION = "registration", "Registration form"
    ACCOUNT = "account", "Account page"
    UNSUBSCRIBE = "unsubscribe", "Unsubscribe link"
    STAFF = "staff", "Staff"


class MarketingConsent(models.Model):
    """Whether the customer agreed to marketing email, now. No row: never asked, no consent."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="marketing_consent",
    )
    opted_in = models.BooleanField(default=False)
    source = models.CharField(max_length=20, choices=ConsentSource.choices)
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user_id}: {'in' if self.opted_in else 'out'} ({self.source})"


class ConsentChange(models.Model):
    """One change of a customer's consent (append only): what they agreed to or withdrew,
    when, from where, and the words they were shown. The proof of consent GDPR asks for."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consent_changes"
    )
    opted_in = models.BooleanField()
    source = models.CharField(max_length=20, choices=ConsentSource.choices)
    # The words of the checkbox the customer ticked or unticked (empty for a link or staff).
    wording = models.TextField(blank=True)
    # The email whose unsubscribe link was followed.
    send = models.ForeignKey(
        "lifecycle.Send", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Staff who changed it for the customer (a phone call, a letter).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ("-created_at", "-pk")


class Campaign(models.Model):
    """One lifecycle email (one row per kind, made by the data migration): paused or not,
    and its parameters."""

    class Kind(models.TextChoices):
        ABANDONED_BASKET = "abandoned_basket", "Abandoned basket"
        WIN_BACK = "win_back", "Win-back"
        TAKEBACK_REMINDER = "takeback_reminder", "Take-back reminder"
        REVIEW_REQUEST = "review_request", "Review request"

    kind = models.CharField(max_length=32, choices=Kind.choices, unique=True)
    paused = models.BooleanField(default=False)
    # Hours for the abandoned basket (untouched for), days for the others.
    wait = models.PositiveIntegerField()
    # Win-back only: the RFM segments it writes to (shop.reports.selectors.RFM_SEGMENT_NAMES).
    segments = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ("pk",)
        permissions = [("manage_campaigns", "Can pause and change lifecycle email campaigns")]

    def __str__(self) -> str:
        return self.get_kind_display()

    @property
    def wait_unit(self) -> str:
        return "hours" if self.kind == self.Kind.ABANDONED_BASKET else "days"

    @property
    def wait_label(self) -> str:
        return {
            self.Kind.ABANDONED_BASKET: "Basket untouched for (hours)",
            self.Kind.WIN_BACK: "No order for (days)",
            self.Kind.TAKEBACK_REMINDER: "Delivered more than (days) ago",
            self.Kind.REVIEW_REQUEST: "Days after delivery",
        }[self.kind]


class Send(models.Model):
    """One email a campaign meant to send: queued by the sweep, then sent or skipped (with
    the reason) by the send task, which checks everything again at send time."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped"

    class Reason(models.TextChoices):
        NO_CONSENT = "no_consent", "No consent"
        PAUSED = "paused", "Campaign paused"
        NOT_RELEVANT = "not_relevant", "Nothing to say any more"
        NO_ADDRESS = "no_address", "No email address"

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="sends")
    # What the email is about, unique per campaign: basket id, "user:last order", line, order.
    key = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lifecycle_sends"
    )
    basket = models.ForeignKey(
        "basket.Basket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.ForeignKey(
        "order.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    line = models.ForeignKey(
        "order.Line", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    skipped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints = [
            models.UniqueConstraint(fields=("campaign", "key"), name="lifecycle_send_once"),
        ]
        indexes = [
            models.Index(fields=("campaign", "status", "created_at"), name="lifecycle_send_status"),
            models.Index(fields=("user", "sent_at"), name="lifecycle_send_user_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} {self.key}: {self.status}"
