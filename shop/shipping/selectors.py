"""Reads for shipping: the shipping methods and their parcel costs."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from shop.shipping.methods import NextDay, Tracked48
from shop.shipping.models import ParcelCost


def shipping_methods() -> list[tuple[str, str]]:
    """(code, name) of every shipping method the shop offers."""
    return [(m.code, str(m.name)) for m in (Tracked48, NextDay)]


def parcel_costs_current(*, on: date | None = None) -> list[dict]:
    """Per shipping method: the cost in effect on `on` (today by default) and since when."""
    on = on or timezone.localdate()
    rows = []
    for code, name in shipping_methods():
        entry = (
            ParcelCost.objects.filter(shipping_code=code, valid_from__lte=on)
            .order_by("-valid_from")
            .first()
        )
        rows.append({"code": code, "name": name, "entry": entry})
    return rows


def parcel_cost_history(*, limit: int = 200) -> list[ParcelCost]:
    """The latest entries, newest date first, each with `method_name`."""
    names = dict(shipping_methods())
    entries = list(
        ParcelCost.objects.select_related("set_by").order_by("-valid_from", "shipping_code")[:limit]
    )
    for entry in entries:
        entry.method_name = names.get(entry.shipping_code, entry.shipping_code)
    return entries
