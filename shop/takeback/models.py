"""The take-back scheme: customers send back end-of-life products for store credit.

A take-back is one unit of one product. Its state machine (TRANSITIONS) is enforced by
`TakeBack.transition_to`, which the services call under a row lock; every change is a
TakeBackEvent row with the actor and the time. Credit rules and time limits are staff data.
"""

import os
import secrets
from decimal import Decimal

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.utils.deconstruct import deconstructible

from shop.common.statemachine import Refusal, StateMachine


class TakeBackTransitionError(ValueError):
    """A status change the take-back's state machine does not allow."""


class Grade(models.TextChoices):
    A = "A", "A — like new"
    B = "B", "B — refurbish"
    C = "C", "C — repair"
    D = "D", "D — recycle"


class Condition(models.TextChoices):
    LIKE_NEW = "like_new", "Like new: barely used, no marks"
    GOOD = "good", "Good: worn in, light marks"
    WORN = "worn", "Worn: scuffs, loose stitching or tired edges"
    DAMAGED = "damaged", "Damaged: torn, broken or missing parts"


# The grades a described condition is likely to get, best first: the estimate spans them.
CONDITION_GRADES: dict[str, tuple[str, str]] = {
    Condition.LIKE_NEW: (Grade.A, Grade.B),
    Condition.GOOD: (Grade.B, Grade.C),
    Condition.WORN: (Grade.C, Grade.D),
    Condition.DAMAGED: (Grade.D, Grade.D),
}


class Route(models.TextChoices):
    RESELL = "resell", "Resell as pre-loved"
    REPAIR_RETURN = "repair_return", "Repair and return"
    RECYCLE = "recycle", "Recycle with a partner"


class TakeBackPolicy(models.Model):
    """The scheme's time limits (one row, pk=1, staff edit it); defaults from settings."""

    reminder_days = models.PositiveSmallIntegerField(
        help_text="Remind the customer when nothing was posted this many days after the label."
    )
    expiry_days = models.PositiveSmallIntegerField(
        help_text="Expire a take-back not posted this many days after the label."
    )
    offer_days = models.PositiveSmallIntegerField(
        help_text="An offer below the estimate not answered within this many days is accepted."
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "take-back policy"
        constraints = [
            models.CheckConstraint(
                condition=Q(expiry_days__gt=models.F("reminder_days")),
                name="takeback_policy_expiry_after_reminder",
            )
        ]

    def __str__(self) -> str:
        return "Take-back time limits"


class CreditRule(models.Model):
    """The credit for a grade: for one product, else for a product class, else the default
    (neither set). Staff approve or adjust a take-back's credit within [min, max]."""

    product = models.ForeignKey(
        "catalogue.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    product_class = models.ForeignKey(
        "catalogue.ProductClass",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    grade = models.CharField(max_length=1, choices=Grade.choices)
    min_amount = models.DecimalField(max_digits=10, decimal_places=2)
    max_amount = models.DecimalField(max_digits=10, decimal_places=2)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("product_class_id", "product_id", "grade")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_amount__gte=0) & Q(max_amount__gte=models.F("min_amount")),
                name="credit_rule_range_valid",
            ),
            models.CheckConstraint(
                condition=Q(product__isnull=True) | Q(product_class__isnull=True),
                name="credit_rule_one_scope",
            ),
            models.UniqueConstraint(
                fields=("product", "grade"),
                condition=Q(product__isnull=False),
                name="credit_rule_unique_product",
            ),
            models.UniqueConstraint(
                fields=("product_class", "grade"),
                condition=Q(product_class__isnull=False),
                name="credit_rule_unique_class",
            ),
            models.UniqueConstraint(
                fields=("grade",),
                condition=Q(product__isnull=True, product_class__isnull=True),
                name="credit_rule_unique_default",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope_label} grade {self.grade}: {self.min_amount}–{self.max_amount}"

    @property
    def scope_label(self) -> str:
        if self.product_id:
            return f"Product: {self.product.get_title()}"
        if self.product_class_id:
            return f"Class: {self.product_class.name}"
        return "Default"


class ProductWeight(models.Model):
    """The leather in a product (kg), for the 'kept out of landfill' report."""

    product = models.OneToOneField(
        "catalogue.Product", on_delete=models.CASCADE, related_name="takeback_weight"
    )
    leather_kg = models.DecimalField(max_digits=6, decimal_places=3)

    def __str__(self) -> str:
        return f"{self.product_id}: {self.leather_kg} kg"


def tracking_number_new() -> str:
    """A carrier-style tracking number: MV + 10 random digits + GB."""
    return f"MV{secrets.randbelow(10**10):010d}GB"


class TakeBack(models.Model):
    class Status(models.TextChoices):
        REGISTERED = "registered", "Registered"
        LABEL_ISSUED = "label_issued", "Label issued"
        IN_TRANSIT = "in_transit", "In transit"
        RECEIVED = "received", "Received"
        GRADED = "graded", "Graded"
        OFFERED = "offered", "Offer awaiting your answer"
        APPROVED = "approved", "Credit approved"
        CREDIT_ISSUED = "credit_issued", "Credit issued"
        CLOSED = "closed", "Closed"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"
        VOIDED = "voided", "Voided: the order was cancelled or refunded"

    # What staff read for each status (the labels above are the customer's words).
    STAFF_LABELS: dict[str, str] = {
        "registered": "Registered, label not issued yet",
        "label_issued": "Label sent, waiting for the parcel",
        "in_transit": "Parcel on its way to us",
        "received": "Received, waiting to be graded",
        "graded": "Graded, credit to approve",
        "offered": "Offer sent, waiting for the customer",
        "approved": "Credit approved, being issued",
        "credit_issued": "Credit issued, item to route",
        "closed": "Closed",
        "rejected": "Rejected",
        "expired": "Expired: never posted",
        "voided": "Voided: order cancelled or refunded",
    }

    class Source(models.TextChoices):
        ONLINE = "online", "Bought online"
        BOUTIQUE = "boutique", "Bought in a boutique"
        GIFT = "gift", "Received as a gift"

    class DeclineChoice(models.TextChoices):
        RETURN = "return", "Send it back to me"
        RECYCLE = "recycle", "Recycle it"

    S = Status
    TRANSITIONS: dict[str, frozenset[str]] = {
        S.REGISTERED: frozenset({S.LABEL_ISSUED, S.EXPIRED, S.REJECTED, S.VOIDED}),
        S.LABEL_ISSUED: frozenset({S.IN_TRANSIT, S.RECEIVED, S.EXPIRED, S.REJECTED, S.VOIDED}),
        S.IN_TRANSIT: frozenset({S.RECEIVED, S.REJECTED, S.VOIDED}),
        S.RECEIVED: frozenset({S.GRADED, S.REJECTED, S.VOIDED}),
        S.GRADED: frozenset({S.APPROVED, S.OFFERED, S.REJECTED, S.VOIDED}),
        S.OFFERED: frozenset({S.APPROVED, S.CLOSED, S.VOIDED}),
        S.APPROVED: frozenset({S.CREDIT_ISSUED, S.VOIDED}),
        S.CREDIT_ISSUED: frozenset({S.CLOSED}),
        S.CLOSED: frozenset(),
        S.REJECTED: frozenset(),
        S.EXPIRED: frozenset(),
        S.VOIDED: frozenset(),
    }
    FINAL = (S.CLOSED, S.REJECTED, S.EXPIRED, S.VOIDED)
    # Not credited yet and not ended: an order cancelled or refunded voids these.
    VOIDABLE = (
        S.REGISTERED,
        S.LABEL_ISSUED,
        S.IN_TRANSIT,
        S.RECEIVED,
        S.GRADED,
        S.OFFERED,
        S.APPROVED,
    )
    # Not yet in the workshop's hands: the reminder and expiry apply.
    AWAITING_PARCEL = (S.REGISTERED, S.LABEL_ISSUED)
    # The customer's timeline: the happy path, in order.
    TIMELINE = (
        S.REGISTERED,
        S.LABEL_ISSUED,
        S.IN_TRANSIT,
        S.RECEIVED,
        S.GRADED,
        S.CREDIT_ISSUED,
        S.CLOSED,
    )

    reference = models.CharField(max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="takebacks"
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    # Bought online: the order line, and which of its units (1..quantity).
    line = models.ForeignKey(
        "order.Line", null=True, blank=True, on_delete=models.PROTECT, related_name="takebacks"
    )
    unit = models.PositiveSmallIntegerField(null=True, blank=True)
    product = models.ForeignKey(
        "catalogue.Product", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    product_title = models.CharField(max_length=255)
    purchase_year = models.PositiveSmallIntegerField(null=True, blank=True)
    condition = models.CharField(max_length=10, choices=Condition.choices)
    condition_notes = models.TextField(blank=True)
    estimate_low = models.DecimalField(max_digits=10, decimal_places=2)
    estimate_high = models.DecimalField(max_digits=10, decimal_places=2)
    leather_kg = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("0"))
    terms_accepted_at = models.DateTimeField()

    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.REGISTERED, db_index=True
    )
    tracking_number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    label_issued_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)

    grade = models.CharField(max_length=1, choices=Grade.choices, blank=True)
    grade_notes = models.TextField(blank=True)
    graded_at = models.DateTimeField(null=True, blank=True)
    route = models.CharField(max_length=20, choices=Route.choices, blank=True)
    # The rule's range for the grade, kept when graded (staff adjust within it).
    credit_min = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    credit_max = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    credit_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    offer_made_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    decline_choice = models.CharField(max_length=10, choices=DeclineChoice.choices, blank=True)
    credit_issued_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why it was rejected, expired or closed.")

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        permissions = [
            ("grade_takeback", "Can receive, grade and credit take-backs"),
            ("edit_takeback_rules", "Can edit take-back credit rules and time limits"),
        ]
        constraints = [
            # One take-back per purchased unit. An expired one (never posted) frees the unit.
            models.UniqueConstraint(
                fields=("line", "unit"),
                condition=Q(line__isnull=False) & ~Q(status="expired"),
                name="takeback_one_per_unit",
            ),
            models.CheckConstraint(
                condition=Q(source="online", line__isnull=False, unit__gte=1)
                | (~Q(source="online") & Q(line__isnull=True)),
                name="takeback_online_has_line",
            ),
            models.CheckConstraint(
                condition=Q(estimate_high__gte=models.F("estimate_low")),
                name="takeback_estimate_range",
            ),
        ]
        indexes = [models.Index(fields=("status", "label_issued_at"), name="takeback_status_label")]

    def __str__(self) -> str:
        return f"Take-back {self.reference}"

    def save(self, *args, **kwargs):
        if not self.reference:
            self.reference = f"TB-{secrets.token_hex(4).upper()}"
        super().save(*args, **kwargs)

    def can_move_to(self, status: str) -> bool:
        return StateMachine.of(self.TRANSITIONS).can_move(self.status, status)

    def transition_to(self, status: str) -> str:
        """Move to `status` or raise TakeBackTransitionError; returns the old status."""
        refusal = StateMachine.of(self.TRANSITIONS).refusal(self.status, status)
        if refusal is Refusal.UNKNOWN:
            raise TakeBackTransitionError(f"“{status}” is not a take-back status.")
        old = self.status
        if refusal is not None:
            raise TakeBackTransitionError(
                f"Take-back {self.reference} is {self.Status(old).label.lower()}: it cannot "
                f"move to {self.Status(status).label.lower()}."
            )
        self.status = status
        return old

    @property
    def staff_status_label(self) -> str:
        return self.STAFF_LABELS.get(self.status, self.get_status_display())

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL

    @property
    def condition_short(self) -> str:
        return self.get_condition_display().split(":")[0]

    @property
    def label_available(self) -> bool:
        """The label is for posting: shown until the parcel arrives."""
        return bool(self.tracking_number) and self.status in (
            self.Status.LABEL_ISSUED,
            self.Status.IN_TRANSIT,
        )

    @property
    def offer_below_estimate(self) -> bool:
        return self.credit_amount is not None and self.credit_amount < self.estimate_low


class TakeBackEvent(models.Model):
    """The audit log: every change of a take-back, with who did it and when."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", "Registered"
        LABEL_ISSUED = "label_issued", "Label issued"
        REMINDED = "reminded", "Reminder sent"
        SHIPPED = "shipped", "Posted"
        RECEIVED = "received", "Received"
        GRADED = "graded", "Graded"
        APPROVED = "approved", "Credit approved"
        OFFERED = "offered", "Lower offer made"
        ACCEPTED = "accepted", "Offer accepted"
        AUTO_ACCEPTED = "auto_accepted", "Offer accepted (no answer in time)"
        DECLINED = "declined", "Offer declined"
        CREDIT_ISSUED = "credit_issued", "Credit issued"
        EMAILED = "emailed", "Email sent"
        CLOSED = "closed", "Closed"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"
        PHOTO_ADDED = "photo_added", "Photo added"
        VOIDED = "voided", "Voided (order cancelled or refunded)"
        PUBLISHED = "published", "Published as pre-loved"

    takeback = models.ForeignKey(TakeBack, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_status = models.CharField(max_length=20, choices=TakeBack.Status.choices, blank=True)
    status = models.CharField(max_length=20, choices=TakeBack.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("created_at", "pk")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.status})"


@deconstructible(path="shop.takeback.models.PrivateStorage")
class PrivateStorage(FileSystemStorage):
    """Files outside MEDIA_ROOT and static (settings.TAKEBACK_PRIVATE_ROOT, read on each use):
    only served by views that check who is asking."""

    def __init__(self):
        super().__init__(base_url=None)

    @property
    def base_location(self):
        return str(settings.TAKEBACK_PRIVATE_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)


def _photo_path(instance: "TakeBackPhoto", filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"takeback/{secrets.token_urlsafe(24)}.{ext}"


class TakeBackPhoto(models.Model):
    class Kind(models.TextChoices):
        CUSTOMER = "customer", "From the customer"
        GRADING = "grading", "From grading"

    takeback = models.ForeignKey(TakeBack, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    image = models.FileField(upload_to=_photo_path, storage=PrivateStorage(), max_length=200)
    content_type = models.CharField(max_length=40)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "pk")

    def __str__(self) -> str:
        return f"Photo {self.pk} of {self.takeback_id}"


# --- Pre-loved: graded take-backs resold as one-off pieces ---

# What a shopper reads about a grade (only A and B are resold).
GRADE_PLAIN: dict[str, str] = {
    Grade.A: "Like new: barely used, no marks. Cleaned and conditioned in our workshop.",
    Grade.B: (
        "Gently worn: light marks and a softened shape that show it has been loved. "
        "Refurbished in our workshop: cleaned, edges re-burnished, conditioned."
    ),
}
RESALE_GRADES = (Grade.A, Grade.B)


class ResaleRule(models.Model):
    """The price of a pre-loved piece of a grade: a share (percent) of the product's current
    new price. Publishing proposes the top of [min_share, max_share]; staff may choose any
    price within it, as with the credit rules."""

    grade = models.CharField(max_length=1, choices=Grade.choices, unique=True)
    min_share = models.PositiveSmallIntegerField(help_text="Lowest price, % of the new price.")
    max_share = models.PositiveSmallIntegerField(help_text="Highest price, % of the new price.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("grade",)
        constraints = [
            models.CheckConstraint(
                condition=Q(min_share__gt=0)
                & Q(max_share__gte=models.F("min_share"))
                & Q(max_share__lte=100),
                name="resale_rule_share_valid",
            )
        ]

    def __str__(self) -> str:
        return f"Grade {self.grade}: {self.min_share}–{self.max_share}% of the new price"


class PreLovedPiece(models.Model):
    """A graded take-back listed as a one-off product (stock one). `product` is the listing,
    a stand-alone sibling of `original` (the parent or stand-alone product the take-back was
    a piece of), with its facts copied. `sold_line` is the order line that bought it: a later
    take-back of that line continues the piece's provenance chain."""

    takeback = models.OneToOneField(TakeBack, on_delete=models.PROTECT, related_name="preloved")
    product = models.OneToOneField(
        "catalogue.Product", on_delete=models.PROTECT, related_name="preloved_piece"
    )
    original = models.ForeignKey(
        "catalogue.Product",
        null=True,
        on_delete=models.SET_NULL,
        related_name="preloved_pieces",
    )
    grade = models.CharField(max_length=1, choices=Grade.choices)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    new_price = models.DecimalField(max_digits=10, decimal_places=2)
    credit_paid = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    repair_note = models.TextField(blank=True)
    listed_at = models.DateTimeField(db_index=True)
    listed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sold_at = models.DateTimeField(null=True, blank=True, db_index=True)
    sold_line = models.ForeignKey(
        "order.Line", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-listed_at", "-pk")
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="preloved_price_positive"),
            models.CheckConstraint(condition=Q(grade__in=("A", "B")), name="preloved_grade_ab"),
        ]

    def __str__(self) -> str:
        return f"Pre-loved {self.product_id} ({self.takeback_id})"

    @property
    def grade_plain(self) -> str:
        return GRADE_PLAIN.get(self.grade, "")

    @property
    def label(self) -> str:
        return f"pre-loved, grade {self.grade}"
