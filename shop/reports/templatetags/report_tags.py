"""Cheap formatting for big report tables (Oscar's `currency` filter goes through Babel, which
costs a second on a 365-row table)."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def money(value) -> str:
    """£1,234.50; −£3.20 for negatives; "—" for nothing."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value)
    text = f"£{abs(amount):,.2f}"
    return f"−{text}" if amount < 0 else text
