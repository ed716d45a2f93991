"""The dispatch promise, one rule (order.selectors.promised_dispatch_date) behind the order's
promised dispatch date and every workshop job's due date."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from shop.order.selectors import promised_dispatch_date

FRIDAY_MORNING = datetime(2026, 3, 6, 10, 0, tzinfo=ZoneInfo("Europe/London"))


def test_the_longest_lead_counts_in_working_days_from_placement(settings):
    settings.STOCK_DISPATCH_DAYS = 1
    settings.DISPATCH_CUTOFF = "14:00"
    settings.WORKSHOP_CLOSED_DAYS = ["2026-03-10"]
    # Stock only (no lead, or none recorded): the next working day, Monday 9.
    assert promised_dispatch_date(placed=FRIDAY_MORNING, lead_days=[]) == date(2026, 3, 9)
    assert promised_dispatch_date(placed=FRIDAY_MORNING, lead_days=[None, 0]) == date(2026, 3, 9)
    # Monogram 3 + thread 1: the 3 counts; 1 + 3 working days after Friday, Tuesday 10 closed.
    assert promised_dispatch_date(placed=FRIDAY_MORNING, lead_days=iter([1, 3, None])) == date(
        2026, 3, 13
    )
    # After the cut-off, work starts on Monday.
    late = FRIDAY_MORNING.replace(hour=15)
    assert promised_dispatch_date(placed=late, lead_days=[0]) == date(2026, 3, 11)
