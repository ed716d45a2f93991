"""Pricing for a UK shop: stock record prices are what the shopper pays, VAT included."""

from decimal import Decimal

from oscar.apps.partner import prices
from oscar.apps.partner.strategy import Selector as CoreSelector  # noqa: F401
from oscar.apps.partner.strategy import (
    StockRequired,
    Structured,
    UseFirstStockRecord,
)

PENNY = Decimal("0.01")


class UKVATInclusive:
    """Stock record price is the shelf price including VAT; excl. tax is derived from it."""

    rate = Decimal("0.20")

    def _price(self, stockrecord) -> prices.FixedPrice:
        incl_tax = stockrecord.price
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


class UKStrategy(UseFirstStockRecord, StockRequired, UKVATInclusive, Structured):
    pass


class Selector:
    def strategy(self, request=None, user=None, **kwargs):
        return UKStrategy(request)
