"""Cached pages go stale when what they show changes (shop.storefront.page_cache)."""

from django.apps import apps
from django.db.models.signals import m2m_changed, post_delete, post_save

from shop.storefront.page_cache import catalogue_changed, product_pages_changed

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
    "partner.Partner",
    "personalization.PersonalizationOffer",
    "personalization.PersonalizationValue",
)


# Stock record fields whose change shows on the product's own page only: availability and the
# dispatch promise. Listings and search show prices, never stock.
STOCK_LEVEL_FIELDS = frozenset(
    {"num_in_stock", "num_allocated", "low_stock_threshold", "date_updated"}
)


def _changed(sender, **kwargs) -> None:
    catalogue_changed()


def _stock_saved(sender, instance, created: bool = False, **kwargs) -> None:
    """An order allocating stock stales that product's page (and its parent's), not every
    page; a new record, a price or anything else stales them all."""
    changed = None if created else instance.changed_fields()
    if changed is not None and changed <= STOCK_LEVEL_FIELDS:
        product_pages_changed({instance.product_id, instance.product.parent_id})
    else:
        catalogue_changed()


def connect() -> None:
    for label in SHOWN_MODELS:
        model = apps.get_model(label)
        uid = f"page-cache:{label}"
        post_save.connect(_changed, sender=model, dispatch_uid=f"{uid}:save", weak=False)
        post_delete.connect(_changed, sender=model, dispatch_uid=f"{uid}:delete", weak=False)
    stock_record = apps.get_model("partner.StockRecord")
    post_save.connect(_stock_saved, sender=stock_record, dispatch_uid="page-cache:stock:save")
    post_delete.connect(_changed, sender=stock_record, dispatch_uid="page-cache:stock:delete")
    for through in (
        apps.get_model("catalogue.Product").categories.through,
        apps.get_model("catalogue.Product").product_options.through,
        apps.get_model("catalogue.ProductClass").options.through,
    ):
        m2m_changed.connect(_changed, sender=through, dispatch_uid=f"page-cache:{through}")
