"""Search documents and listing facts go dirty when what they hold changes: a product, its
categories (or a category's name or place), its attribute values, an option's text or a
stock record's price. The products changed in one transaction are marked at its commit, in
one statement, and one refresh task is queued."""

import logging

from django.db.models.signals import m2m_changed, post_delete, post_save

from shop.catalogue.models import (
    AttributeOption,
    AttributeOptionGroup,
    Category,
    Product,
    ProductAttribute,
    ProductAttributeValue,
    ProductCategory,
)
from shop.catalogue.services import listing_version_bump, search_mark_dirty
from shop.common.commit import commit_batch_add
from shop.partner.models import StockRecord

logger = logging.getLogger(__name__)


class _SearchDirty(set):
    """The products one commit marks (shop.common.commit: one callback per savepoint set)."""

    merge = set.update

    def __call__(self) -> None:
        from shop.catalogue.tasks import refresh_search_documents

        # A new product is dirty from the start: queued whether or not this marked any.
        search_mark_dirty(product_ids=self)
        try:
            refresh_search_documents.delay()
        except Exception:  # the broker is down: beat's refresh catches up
            logger.warning("Could not enqueue the search refresh", exc_info=True)


def products_changed(product_ids) -> None:
    ids = {pk for pk in product_ids if pk is not None}
    if ids:
        commit_batch_add(_SearchDirty, ids)


def _product_saved(sender, instance, raw=False, **kwargs) -> None:
    if not raw:
        products_changed({instance.pk, instance.parent_id})


def _value_changed(sender, instance, raw=False, **kwargs) -> None:
    if not raw:
        products_changed({instance.product_id})


def _product_category_changed(sender, instance, raw=False, **kwargs) -> None:
    if not raw:
        products_changed({instance.product_id})


# A stock record's fields the listing facts hold (its price, and whose price it is).
LISTED_STOCK_FIELDS = frozenset({"price", "product_id"})


def _stock_saved(sender, instance, created=False, raw=False, **kwargs) -> None:
    """A new record, or a price changed (an order allocating stock is not: listings do not
    change with it)."""
    if raw:
        return
    changed = None if created else instance.changed_fields()
    if changed is None or changed & LISTED_STOCK_FIELDS:
        ids = {instance.product_id}
        if changed and "product_id" in changed:
            ids.add(instance.loaded_value("product_id"))
        products_changed(ids)


def _stock_deleted(sender, instance, **kwargs) -> None:
    products_changed({instance.product_id})


def _categories_set(sender, instance, action, pk_set=None, reverse=False, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        products_changed({instance.pk})
    elif pk_set:
        products_changed(pk_set)
    else:
        products_changed(
            ProductCategory.objects.filter(category=instance).values_list("product_id", flat=True)
        )


def _category_saved(sender, instance, created=False, raw=False, **kwargs) -> None:
    if raw or created:
        return
    products_changed(
        ProductCategory.objects.filter(
            category__in=instance.get_descendants_and_self()
        ).values_list("product_id", flat=True)
    )


def _option_saved(sender, instance, created=False, raw=False, **kwargs) -> None:
    if raw or created:
        return
    products_changed(
        ProductAttributeValue.objects.filter(value_option=instance).values_list(
            "product_id", flat=True
        )
    )


def _filter_options_changed(sender, raw=False, **kwargs) -> None:
    """An option added, renamed or removed: the filters offer other values."""
    if not raw:
        listing_version_bump()


def connect() -> None:
    uid = "catalogue:search"
    post_save.connect(_product_saved, sender=Product, dispatch_uid=f"{uid}:product")
    for signal in (post_save, post_delete):
        name = signal is post_save and "save" or "delete"
        signal.connect(
            _value_changed, sender=ProductAttributeValue, dispatch_uid=f"{uid}:value:{name}"
        )
        signal.connect(
            _product_category_changed, sender=ProductCategory, dispatch_uid=f"{uid}:pc:{name}"
        )
    m2m_changed.connect(
        _categories_set, sender=Product.categories.through, dispatch_uid=f"{uid}:m2m"
    )
    post_save.connect(_category_saved, sender=Category, dispatch_uid=f"{uid}:category")
    post_save.connect(_option_saved, sender=AttributeOption, dispatch_uid=f"{uid}:option")
    for model in (AttributeOption, AttributeOptionGroup, ProductAttribute):
        for signal in (post_save, post_delete):
            signal.connect(
                _filter_options_changed,
                sender=model,
                dispatch_uid=f"{uid}:options:{model.__name__}:{signal is post_save}",
            )
    post_save.connect(_stock_saved, sender=StockRecord, dispatch_uid=f"{uid}:stock:save")
    post_delete.connect(_stock_deleted, sender=StockRecord, dispatch_uid=f"{uid}:stock:delete")
