"""The cached basket count (shop.basket.selectors) is forgotten when a line or the basket
changes: at once, and again after commit (a count read meanwhile from the data as it was)."""

import logging

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from shop.basket.selectors import item_count_key

logger = logging.getLogger(__name__)


def _delete(key: str) -> None:
    try:
        cache.delete(key)
    except Exception:  # Redis down must not fail adding to the basket (counts expire)
        logger.warning("basket count: could not forget %s", key, exc_info=True)


def _forget(basket_id: int | None) -> None:
    if basket_id is None:
        return
    key = item_count_key(basket_id)
    _delete(key)
    transaction.on_commit(lambda: _delete(key))


def line_changed(sender, instance, **kwargs) -> None:
    _forget(instance.basket_id)


def basket_changed(sender, instance, **kwargs) -> None:
    _forget(instance.pk)


def connect() -> None:
    from shop.basket.models import Basket, Line

    for signal in (post_save, post_delete):
        signal.connect(line_changed, sender=Line, dispatch_uid=f"basket-count-line-{id(signal)}")
        signal.connect(basket_changed, sender=Basket, dispatch_uid=f"basket-count-{id(signal)}")
