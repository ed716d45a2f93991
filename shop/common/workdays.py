"""Working days for dispatch promises: Monday to Friday, less the workshop's closed days."""

from datetime import date, datetime, time, timedelta
from functools import lru_cache

from django.conf import settings
from django.utils import timezone


@lru_cache(maxsize=8)
def _parsed(days: tuple[str, ...]) -> frozenset[date]:
    return frozenset(date.fromisoformat(d) for d in days)


def closed_days() -> frozenset[date]:
    # Parsed once per distinct setting, not on every day the date loops below step over.
    return _parsed(tuple(getattr(settings, "WORKSHOP_CLOSED_DAYS", ())))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in closed_days()


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (start itself never counts)."""
    day, left = start, days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def dispatch_date(*, extra_days: int = 0, now: datetime | None = None) -> date:
    """When an order placed `now` leaves the workshop: orders in by the cut-off on a working
    day start that day, others the next working day; then stock lead time plus extra days."""
    local = timezone.localtime(now or timezone.now())
    start = local.date()
    cutoff = time.fromisoformat(settings.DISPATCH_CUTOFF)
    if not is_working_day(start) or local.time() >= cutoff:
        start = add_working_days(start, 1)
    total = settings.STOCK_DISPATCH_DAYS + extra_days
    # A stock item in by the cut-off ships the same day when STOCK_DISPATCH_DAYS is 0.
    return add_working_days(start, total) if total else start
