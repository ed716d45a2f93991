"""Priced personalization: what each product (class) offers, and what each order line recorded.

Oscar's product options carry no price and no rules. Here an *offer* says that a product
class (or one product, which then overrides its class) offers a kind of personalization,
at a surcharge, a workshop cost and extra lead time; its *values* are the allowed choices
(monogram styles and positions, thread colours, hardware finishes), each of which may add
its own surcharge. The shopper's choices travel on basket and order lines as Oscar line
attributes; at placement each priced choice is copied to `OrderLinePersonalization`, so a
later change of surcharge never rewrites an order.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q


class Kind(models.TextChoices):
    MONOGRAM = "monogram", "Monogram"
    THREAD = "thread", "Thread colour"
    HARDWARE = "hardware", "Hardware finish"
    GIFT_MESSAGE = "gift_message", "Gift message"


class ValueGroup(models.TextChoices):
    STYLE = "style", "Monogram style"
    POSITION = "position", "Monogram position"
    COLOUR = "colour", "Thread colour"
    FINISH = "finish", "Hardware finish"


# Which value groups each kind uses.
KIND_GROUPS = {
    Kind.MONOGRAM: (ValueGroup.STYLE, ValueGroup.POSITION),
    Kind.THREAD: (ValueGroup.COLOUR,),
    Kind.HARDWARE: (ValueGroup.FINISH,),
    Kind.GIFT_MESSAGE: (),
}

MONEY = {"max_digits": 10, "decimal_places": 2, "default": Decimal("0.00")}


class PersonalizationOffer(models.Model):
    product_class = models.ForeignKey(
        "catalogue.ProductClass",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="personalization_offers",
    )
    product = models.ForeignKey(
        "catalogue.Product",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="personalization_offers",
        help_text="Set for one product; it then overrides its product class's offer.",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    is_active = models.BooleanField(default=True)
    surcharge = models.DecimalField("surcharge (GBP, incl. VAT)", **MONEY)
    cost = models.DecimalField("workshop cost (GBP)", **MONEY)
    lead_days = models.PositiveSmallIntegerField("extra lead time (working days)", default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("kind",)
        constraints = [
            models.CheckConstraint(
                name="offer_for_class_xor_product",
                condition=Q(product_class__isnull=True, product__isnull=False)
                | Q(product_class__isnull=False, product__isnull=True),
            ),
            models.UniqueConstraint(
                fields=("product_class", "kind"),
                condition=Q(product__isnull=True),
                name="one_offer_per_class_and_kind",
            ),
            models.UniqueConstraint(
                fields=("product", "kind"),
                condition=Q(product_class__isnull=True),
                name="one_offer_per_product_and_kind",
            ),
            models.CheckConstraint(
                name="offer_surcharge_not_negative", condition=Q(surcharge__gte=0)
            ),
            models.CheckConstraint(name="offer_cost_not_negative", condition=Q(cost__gte=0)),
        ]

    def __str__(self) -> str:
        owner = self.product or self.product_class
        return f"{self.get_kind_display()} on {owner}"


class PersonalizationValue(models.Model):
    offer = models.ForeignKey(PersonalizationOffer, on_delete=models.CASCADE, related_name="values")
    group = models.CharField(max_length=20, choices=ValueGroup.choices)
    code = models.SlugField(max_length=40)
    label = models.CharField(max_length=60)
    hex = models.CharField("colour for the preview", max_length=7, blank=True)
    surcharge = models.DecimalField("extra surcharge (GBP, incl. VAT)", **MONEY)
    cost = models.DecimalField("extra workshop cost (GBP)", **MONEY)
    lead_days = models.PositiveSmallIntegerField("extra lead time (working days)", default=0)
    is_active = models.BooleanField(default=True)
    display_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("group", "display_order", "pk")
        constraints = [
            models.UniqueConstraint(fields=("offer", "group", "code"), name="one_value_per_code"),
            models.CheckConstraint(
                name="value_surcharge_not_negative", condition=Q(surcharge__gte=0)
            ),
            models.CheckConstraint(name="value_cost_not_negative", condition=Q(cost__gte=0)),
        ]

    def __str__(self) -> str:
        return self.label


class OrderLinePersonalization(models.Model):
    """One priced choice as recorded when the order was placed (never recomputed)."""

    line = models.ForeignKey(
        "order.Line", on_delete=models.CASCADE, related_name="personalizations"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.CharField(max_length=300)
    surcharge = models.DecimalField(
        "unit surcharge (GBP, incl. VAT)", max_digits=10, decimal_places=2
    )
    cost = models.DecimalField("unit workshop cost (GBP)", max_digits=10, decimal_places=2)
    lead_days = models.PositiveSmallIntegerField(default=0)
    data = models.JSONField(default=dict, help_text="The raw choices, for the workshop.")

    class Meta:
        ordering = ("line", "pk")
        constraints = [
            models.UniqueConstraint(fields=("line", "kind"), name="one_snapshot_per_line_and_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.description}"
