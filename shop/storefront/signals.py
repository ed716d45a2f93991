"""Cached pages go stale when what they show changes (shop.storefront.page_cache)."""

from django.apps import apps
from django.db.models.signals import m2m_changed, post_delete, post_save

from shop.storefront.page_cache import catalogue_changed

# Everything a cached page shows: titles, descriptions, prices, stock, pictures, facts,
# categories and the menu, colour choices, recommendations and personalization offers.
SHOWN_MODELS = (
    "catalogue.Product",
    "catalogue.ProductClass",
    "catalogue.ProductCategory",
    "catalogue.Category",
    "catalogue.ProductImage",
    "catalogue.ProductAttribute",
    "catalogue.ProductAttributeValue",
    "catalogue.AttributeOption",
    "catalogue.AttributeOptionGroup",
    "catalogue.Option",
    "catalogue.ProductRecommendation",
    "partner.StockRecord",
    "partner.Partner",
    "personalization.PersonalizationOffer",
    "personalization.PersonalizationValue",
)


def _changed(sender, **kwargs) -> None:
    catalogue_changed()


def connect() -> None:
    for label in SHOWN_MODELS:
        model = apps.get_model(label)
        uid = f"page-cache:{label}"
        post_save.connect(_changed, sender=model, dispatch_uid=f"{uid}:save", weak=False)
        post_delete.connect(_changed, sender=model, dispatch_uid=f"{uid}:delete", weak=False)
    for through in (
        apps.get_model("catalogue.Product").categories.through,
        apps.get_model("catalogue.Product").product_options.through,
        apps.get_model("catalogue.ProductClass").options.through,
    ):
        m2m_changed.connect(_changed, sender=through, dispatch_uid=f"page-cache:{through}")
