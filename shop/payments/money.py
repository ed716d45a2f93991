"""Stripe counts in minor units (pence); the store counts in Decimal of the currency."""

from decimal import ROUND_HALF_UP, Decimal

# Stripe's zero-decimal currencies (https://docs.stripe.com/currencies#zero-decimal).
ZERO_DECIMAL = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())


def exponent(currency: str) -> int:
    return 0 if currency.lower() in ZERO_DECIMAL else 2


def to_minor(amount: Decimal, currency: str) -> int:
    """Decimal(12.50), "GBP" -> 1250. Refuses floats and amounts with sub-minor precision."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be a Decimal, not {type(amount).__name__}")
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more precision than {currency.upper()} allows")
    return int(scaled)


def from_minor(amount_minor: int, currency: str) -> Decimal:
    """1250, "gbp" -> Decimal("12.50")."""
    places = exponent(currency)
    quantum = Decimal(1).scaleb(-places)
    return (Decimal(int(amount_minor)).scaleb(-places)).quantize(quantum, ROUND_HALF_UP)
