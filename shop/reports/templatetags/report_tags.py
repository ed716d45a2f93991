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


@register.filter
def figure(value, suffix: str = "") -> str:
    """A number as it is (0 too), with `suffix` (" %", " days"); "—" only when there is no
    figure (None or empty), never for a real zero (Django's `default` treats 0 as nothing)."""
    if value is None or value == "":
        return "—"
    return f"{value}{suffix}"


@register.filter
def signed(value, suffix: str = "") -> str:
    """+3.2 % / −15.0 % / 0.0 %; "—" when there is no figure."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value)
    sign = "+" if amount > 0 else ("−" if amount < 0 else "")
    return f"{sign}{abs(amount)}{suffix}"
