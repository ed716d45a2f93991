from django.db.models import Prefetch, prefetch_related_objects
from oscar.apps.basket.abstract_models import AbstractBasket
from oscar.core.loading import get_model


class Basket(AbstractBasket):
    def all_lines(self):
        """Oscar's cached lines, read once per request with all that pricing and the basket
        page need: product, parent and product class (stock policy), stock record, each
        line attribute with its option and the products' personalization offers (pictures:
        shop.basket.views.BasketView). Evaluated here,
        so counting, totals and pricing reuse the same rows (a 3-line basket page went from
        39 queries to 13)."""
        if self.id is None:
            return self.lines.model.objects.none()
        if self._lines is None:
            from shop.personalization.selectors import offers_for_products

            attributes = get_model("basket", "LineAttribute")
            lines = (
                self.lines.select_related(
                    "product__product_class",
                    "product__parent__product_class",
                    "stockrecord__partner",
                )
                .prefetch_related(
                    Prefetch("attributes", queryset=attributes.objects.select_related("option"))
                )
                .order_by(self._meta.pk.name)
            )
            for line in lines:
                if line.stockrecord is not None and line.stockrecord.product_id == line.product_id:
                    # The same product: placing the order reads its class through the stock
                    # record (allocation) as well as through the line.
                    line.stockrecord.product = line.product
            offers_for_products(products=[line.product for line in lines], memo=self.offers_memo)
            # Vouchers with the lines: the offer applicator reads them twice per request.
            prefetch_related_objects([self], "vouchers")
            self._lines = lines
        return self._lines

    @property
    def offers_memo(self) -> dict:
        """Personalization offers by product, for this basket object (one request): the
        lines, the add-to-basket form and the new line's price read them once."""
        return self.__dict__.setdefault("_offers_memo", {})

    def product_quantity(self, product):
        """Items of `product` in the basket, from the lines already read (Oscar sums them in
        another query)."""
        if self.id is None:
            return 0
        return sum(line.quantity for line in self.all_lines() if line.product_id == product.id)

    def get_stock_info(self, product, options):
        """Price a new line with its personalization, so the price the line records on adding
        is the price it shows (Oscar would otherwise warn of a "price change")."""
        from shop.partner.strategy import with_surcharge
        from shop.personalization.selectors import offers_for_products, options_surcharge

        offers_for_products(products=[product], memo=self.offers_memo)
        info = super().get_stock_info(product, options)
        return with_surcharge(info, options_surcharge(product=product, options=options))


from oscar.apps.basket.models import *  # noqa: E402,F403
