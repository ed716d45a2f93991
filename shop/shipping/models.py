"""Oscar's shipping models, and what a parcel costs us per shipping method over time."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from oscar.apps.shipping.models import *  # noqa: F403


class ParcelCost(models.Model):
    """What one parcel sent with a shipping method costs us (carrier price, packaging, label):
    an estimate staff maintain under Dashboard > Fulfilment > Parcel costs. Append-only
    history: a row holds from `valid_from` on, until the next row of the same method. The
    profitability report charges each order the cost in effect on the day it was sold."""

    shipping_code = models.CharField(max_length=128)
    cost = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    valid_from = models.DateField()
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("shipping_code", "-valid_from")
        constraints = [
            models.UniqueConstraint(
                fields=("shipping_code", "valid_from"), name="parcel_cost_once_a_day"
            ),
            models.CheckConstraint(
                name="parcel_cost_not_negative", condition=models.Q(cost__gte=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shipping_code}: {self.cost} from {self.valid_from}"
