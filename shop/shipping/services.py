"""Writes for shipping: the parcel cost history."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from shop.shipping.models import ParcelCost

FIRST_SINCE = date(2000, 1, 1)
# What a parcel cost us when the shop opened (carrier price, packaging, label); staff keep the
# figures current on the dashboard page, each change from a date on.
FIRST_PARCEL_COSTS = (
    ("royal-mail-tracked-48", Decimal("3.95")),
    ("dpd-next-day", Decimal("7.20")),
)


def parcel_cost_set(
    *, shipping_code: str, cost: Decimal, valid_from: date, user: Any = None
) -> ParcelCost:
    """Record what a parcel of the method costs from `valid_from` on (the same method and day
    set twice: the later figure replaces the earlier one; earlier days keep theirs)."""
    with transaction.atomic():
        entry, _ = ParcelCost.objects.update_or_create(
            shipping_code=shipping_code,
            valid_from=valid_from,
            defaults={"cost": cost.quantize(Decimal("0.01")), "set_by": user},
        )
    return entry


def parcel_costs_ensure(*, using: str = "default") -> None:
    """The first parcel costs exist (after every migrate and test database flush); never
    overwrites what staff set."""
    for code, cost in FIRST_PARCEL_COSTS:
        if not ParcelCost.objects.using(using).filter(shipping_code=code).exists():
            ParcelCost.objects.using(using).create(
                shipping_code=code, valid_from=FIRST_SINCE, cost=cost
            )
