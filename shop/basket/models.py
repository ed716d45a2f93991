from oscar.apps.basket.abstract_models import AbstractBasket


class Basket(AbstractBasket):
    def all_lines(self):
        """Oscar's cached lines, with each line attribute's option (personalization reads it)."""
        if self.id is None:
            return self.lines.model.objects.none()
        if self._lines is None:
            self._lines = (
                self.lines.select_related("product", "stockrecord")
                .prefetch_related("attributes__option", "product__images")
                .order_by(self._meta.pk.name)
            )
        return self._lines

    def get_stock_info(self, product, options):
        """Price a new line with its personalization, so the price the line records on adding
        is the price it shows (Oscar would otherwise warn of a "price change")."""
        from shop.partner.strategy import with_surcharge
        from shop.personalization.selectors import options_surcharge

        info = super().get_stock_info(product, options)
        return with_surcharge(info, options_surcharge(product=product, options=options))


from oscar.apps.basket.models import *  # noqa: E402,F403
