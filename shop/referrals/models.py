"""Referrals: every customer's share code, the friends who joined through one, and what
became of each (rewarded with store credit, refused with a reason, or withdrawn when the
rewarding order was cancelled or refunded). Every state change is a ReferralEvent row; the
programme's settings are one row staff edit (defaults from settings)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from shop.common.statemachine import StateMachine

# Share codes: 10 characters of an alphabet without look-alikes (no 0/o, 1/l/i), about 49
# bits: short to read out, far too many to guess (a wrong code is answered like a right one
# but for the cookie). Matched case-insensitively.
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 10
# What the credit ledger names a referral's credits by: "referral:<id>:friend" / ":referrer"
# (Referral.credit_reference writes them; the selectors find them by this prefix).
REFERENCE_PREFIX = "referral:"


class ReferralProgramme(models.Model):
    """The programme's settings (one row, pk=1, made from settings the first time)."""

    enabled = models.BooleanField(default=True)
    friend_credit = models.DecimalField(
        max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))]
    )
    referrer_credit = models.DecimalField(
        max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))]
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "referral programme"
        permissions = [("edit_referral_programme", "Can edit the referral programme")]
        constraints = [
            models.CheckConstraint(
                condition=Q(friend_credit__gte=0) & Q(referrer_credit__gte=0),
                name="referral_programme_credits_not_negative",
            )
        ]

    def __str__(self) -> str:
        state = "on" if self.enabled else "paused"
        return f"Referral programme ({state}): {self.friend_credit} / {self.referrer_credit}"


class ReferralCode(models.Model):
    """A customer's share code (made the first time they open their invite page)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referral_code"
    )
    code = models.CharField(max_length=16, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.code


class Referral(models.Model):
    class Status(models.TextChoices):
        JOINED = "joined", "Joined"
        REWARDED = "rewarded", "Rewarded"
        REFUSED = "refused", "Refused"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Reason(models.TextChoices):
        SAME_CARD = "same_card", "Paid with a card the referrer has paid with"
        SAME_ADDRESS = "same_address", "Delivered to an address the referrer uses"
        PAUSED = "paused", "The programme was paused when the friend paid"
        ORDER_ENDED = "order_ended", "The first order was cancelled or refunded before the reward"

    MACHINE = StateMachine.of(
        {
            Status.JOINED: (Status.REWARDED, Status.REFUSED),
            Status.REWARDED: (Status.WITHDRAWN,),
            Status.REFUSED: (),
            Status.WITHDRAWN: (),
        }
    )

    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals_made"
    )
    # A friend is referred once, by the first link they registered through.
    friend = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referral"
    )
    code = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.JOINED)
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    # The friend's first paid order, once it was looked at (rewarded or refused).
    order_number = models.CharField(max_length=128, blank=True, db_index=True)
    # The credit given to each (0 until rewarded; what was issued, whatever the settings now).
    friend_credit = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0.00"))
    referrer_credit = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0.00"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints = [
            models.CheckConstraint(
                condition=~Q(friend=models.F("referrer")), name="referral_not_self"
            ),
            models.CheckConstraint(
                condition=(Q(status="refused") & ~Q(reason=""))
                | (~Q(status="refused") & Q(reason="")),
                name="referral_reason_when_refused",
            ),
        ]

    def __str__(self) -> str:
        return f"Referral {self.pk}: {self.referrer_id} → {self.friend_id} ({self.status})"

    def credit_reference(self, role: str) -> str:
        """The ledger reference of this referral's credit for "friend" or "referrer"."""
        return f"{REFERENCE_PREFIX}{self.pk}:{role}"


class ReferralEvent(models.Model):
    """One row per state change of a referral (or change of the programme's settings)."""

    class Kind(models.TextChoices):
        JOINED = "joined", "Friend joined"
        REWARDED = "rewarded", "Credits issued"
        REFUSED = "refused", "Refused"
        WITHDRAWN = "withdrawn", "Credits withdrawn"
        PROGRAMME = "programme", "Programme settings changed"

    referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("created_at", "pk")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.referral_id})"
