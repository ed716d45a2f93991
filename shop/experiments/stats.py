"""The report's statistics, pure: the difference of two conversion rates with its 95%
interval (two proportions, normal approximation) and the plain verdict staff read.

Float is used here only, for the statistic; the counts come from the database."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z_95 = 1.96
# The verdict waits until every variant has at least this many visitors and conversions.
MIN_VISITORS = 100
MIN_CONVERSIONS = 10
NOT_ENOUGH = "Not enough data yet"
NO_DIFFERENCE = "No clear difference"


@dataclass(frozen=True)
class Interval:
    difference: float  # variant rate − control rate, as a fraction
    low: float
    high: float

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def rate(conversions: int, visitors: int) -> float | None:
    return conversions / visitors if visitors else None


def difference_interval(
    *, control_visitors: int, control_conversions: int, visitors: int, conversions: int
) -> Interval | None:
    """diff ± 1.96·sqrt(p1(1−p1)/n1 + p2(1−p2)/n2), p1 the variant's rate, p2 control's;
    None while either side has no visitors."""
    if not visitors or not control_visitors:
        return None
    p1, p2 = conversions / visitors, control_conversions / control_visitors
    spread = Z_95 * math.sqrt(p1 * (1 - p1) / visitors + p2 * (1 - p2) / control_visitors)
    diff = p1 - p2
    return Interval(difference=diff, low=diff - spread, high=diff + spread)


def enough_data(rows: list[dict]) -> bool:
    return bool(rows) and all(
        row["visitors"] >= MIN_VISITORS and row["conversions"] >= MIN_CONVERSIONS for row in rows
    )


def verdict_for(*, label: str, interval: Interval | None) -> str:
    if interval is None or not interval.excludes_zero():
        return NO_DIFFERENCE
    better = "better" if interval.low > 0 else "worse"
    return f"{label} converts {better} than control"


def verdict(rows: list[dict]) -> list[str]:
    """One plain sentence per variant against control, or "Not enough data yet" while any
    variant (control included) is below the thresholds. Rows carry label, visitors,
    conversions, is_control and interval."""
    if not enough_data(rows):
        return [NOT_ENOUGH]
    return [
        verdict_for(label=row["label"], interval=row["interval"])
        for row in rows
        if not row["is_control"]
    ]
