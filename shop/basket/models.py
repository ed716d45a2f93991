from oscar.apps.basket.abstract_models import AbstractBasket


class Basket(AbstractBasket):
    def get_stock_info(self, product, options):
        """Price a new line with its personalization, so the price the line records on adding
        is the price it shows (Oscar would otherwise warn of a "price change")."""
        from shop.partner.strategy import with_surcharge
        from shop.personalization.selectors import options_surcharge

        info = super().get_stock_info(product, options)
        return with_surcharge(info, options_surcharge(product=product, options=options))


from oscar.apps.basket.models import *  # noqa: E402,F403
