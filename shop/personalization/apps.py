from django.apps import AppConfig


class PersonalizationConfig(AppConfig):
    name = "shop.personalization"
    label = "personalization"
    verbose_name = "Personalization"

    def ready(self) -> None:
        """Personalization adds itself to what it extends (neither imports it): the product
        page's offers, and the surcharge that prices a personalised basket line."""
        from shop.catalogue.extensions import PRODUCT_PAGE_CONTEXT
        from shop.partner.strategy import LINE_SURCHARGES, LineUnavailable
        from shop.personalization.rules import PersonalizationError
        from shop.personalization.selectors import line_quote, product_personalization_context

        def offers(product):
            context = product_personalization_context(product=product)
            return context if context["offers"] else None

        def surcharge(line):
            try:
                return line_quote(line).surcharge
            except PersonalizationError as exc:
                raise LineUnavailable(str(exc)) from exc

        PRODUCT_PAGE_CONTEXT["personalization"] = offers
        LINE_SURCHARGES["personalization"] = surcharge
