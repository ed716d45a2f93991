"""Pricing for a UK shop: stock record prices are what the shopper pays, VAT included."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from oscar.apps.partner import availability, prices
from oscar.apps.partner.strategy import (
    PurchaseInfo,
    StockRequired,
    Structured,
    UseFirstStockRecord,
)

PENNY = Decimal("0.01")


class UKVATInclusive:
    """Stock record price is the shelf price including VAT; excl. tax is derived from it."""

    rate = Decimal("0.20")

    def _price(self, stockrecord, extra: Decimal = Decimal("0.00")) -> prices.FixedPrice:
        incl_tax = stockrecord.price + extra
        excl_tax = (incl_tax / (1 + self.rate)).quantize(PENNY)
        return prices.FixedPrice(
            currency=stockrecord.price_currency, excl_tax=excl_tax, tax=incl_tax - excl_tax
        )

    def pricing_policy(self, product, stockrecord):
        if not stockrecord or stockrecord.price is None:
            return prices.Unavailable()
        return self._price(stockrecord)

    def parent_pricing_policy(self, product, children_stock):
        stockrecords = [sr for _, sr in children_stock if sr is not None and sr.price is not None]
        if not stockrecords:
            return prices.Unavailable()
        return self._price(min(stockrecords, key=lambda sr: sr.price))


class LineUnavailable(Exception):
    """A basket line's extras can no longer be bought as chosen (staff switched one off)."""


# What a basket line's extras add to its unit price (VAT included), by who adds it:
# personalization registers its surcharges in its AppConfig.ready() (partner imports none).
LINE_SURCHARGES: dict[str, Callable[[Any], Decimal]] = {}


class PersonalizationPricing:
    """A basket line's unit price is the product's price plus its personalization surcharges,
    priced from the current offers (the order line keeps what they were at placement)."""

    def fetch_for_line(self, line, stockrecord=None):
        """Once per line object: the basket page asks for it from the line, the formset and
        the template. The line's own stock record (loaded with it) prices it; Oscar would
        look the product's stock records up again for each ask."""
        cached = line.__dict__.get("_mv_purchase_info")
        if cached is not None:
            return cached
        info = self._fetch_for_line(line, stockrecord or line.stockrecord)
        line._mv_purchase_info = info
        return info

    def _fetch_for_line(self, line, stockrecord):
        info = self.fetch_for_product(line.product, stockrecord)
        try:
            surcharge = sum((extra(line) for extra in LINE_SURCHARGES.values()), PENNY * 0)
        except LineUnavailable:
            # A choice staff have since switched off: the line cannot be bought as it is, and
            # the basket asks the shopper to change it (its price stays the product's own).
            return PurchaseInfo(
                price=info.price,
                availability=availability.Unavailable(),
                stockrecord=info.stockrecord,
            )
        return with_surcharge(info, surcharge)


class UKStrategy(
    PersonalizationPricing, UseFirstStockRecord, StockRequired, UKVATInclusive, Structured
):
    pass


class Selector:
    def strategy(self, request=None, user=None, **kwargs):
        return UKStrategy(request)


def with_surcharge(info: PurchaseInfo, surcharge: Decimal) -> PurchaseInfo:
    """The same purchase info with a personalization surcharge (VAT included) on the price."""
    if not surcharge or info.stockrecord is None or not info.price.exists:
        return info
    return PurchaseInfo(
        price=UKVATInclusive()._price(info.stockrecord, extra=surcharge),
        availability=info.availability,
        stockrecord=info.stockrecord,
    )
