"""Work that holds an order back from "Ready to ship" (the workshop's open jobs), registered
by the apps that do that work in their AppConfig.ready(): order names none of them.

A hold gives, for one order, how many of its items are still open, and the same count as
a queryset annotation (for the dispatch list)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from typing import Any

from django.db.models import IntegerField, Value


@dataclass(frozen=True)
class Hold:
    count: Callable[[Any], int]
    annotation: Callable[[], Any]


HOLDS: list[Hold] = []


def hold_register(hold: Hold) -> None:
    if hold not in HOLDS:
        HOLDS.append(hold)


def open_work(*, order: Any) -> int:
    """How many items still hold this order back (0 when nothing does)."""
    return sum(hold.count(order) for hold in HOLDS)


def open_work_annotation() -> Any:
    if not HOLDS:
        return Value(0, output_field=IntegerField())
    return reduce(operator.add, (hold.annotation() for hold in HOLDS))
