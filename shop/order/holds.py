"""What the apps above order hold back, registered in their AppConfig.ready(): order names
none of them. Work that holds an order back from "Ready to ship" (the workshop's open jobs),
and amounts held back from an order's refunds (the take-back scheme: store credit already
paid for an item of the order).

A hold gives, for one order, how many of its items are still open, and the same count as
a queryset annotation (for the dispatch list)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from typing import Any

from django.db.models import IntegerField, Value


@dataclass(frozen=True)
class Hold:
    count: Callable[[Any], int]
    annotation: Callable[[], Any]


# Keyed by the registering app's name: registering again (a second ready()) replaces.
HOLDS: dict[str, Hold] = {}


def hold_register(name: str, hold: Hold) -> None:
    HOLDS[name] = hold


def open_work(*, order: Any) -> int:
    """How many items still hold this order back (0 when nothing does)."""
    return sum(hold.count(order) for hold in HOLDS.values())


def open_work_annotation() -> Any:
    if not HOLDS:
        return Value(0, output_field=IntegerField())
    return reduce(operator.add, (hold.annotation() for hold in HOLDS.values()))


# Each takes the order and returns (amount held back, the reason for staff).
RefundDeduction = Callable[[Any], tuple[Decimal, str]]
REFUND_DEDUCTIONS: dict[str, RefundDeduction] = {}


def refund_deduction_register(name: str, deduction: RefundDeduction) -> None:
    REFUND_DEDUCTIONS[name] = deduction


def refund_deductions(*, order: Any) -> tuple[Decimal, tuple[str, ...]]:
    """The total held back from the order's refunds and the reasons, for the refund page."""
    total, reasons = Decimal("0.00"), []
    for deduction in REFUND_DEDUCTIONS.values():
        amount, reason = deduction(order)
        if amount > 0:
            total += amount
            reasons.append(reason)
    return total, tuple(reasons)
