"""Basket reads that must stay cheap: the header's item count on cached pages."""

from django.conf import settings
from django.core.cache import cache
from django.core.signing import BadSignature, Signer
from django.db.models import Sum
from django.http import HttpRequest

from shop.basket.models import Basket, Line


def cookie_basket_id(request: HttpRequest) -> int | None:
    """The id of the anonymous basket named by the visitor's signed basket cookie (Oscar's
    BasketMiddleware writes it), or None."""
    value = request.COOKIES.get(settings.OSCAR_BASKET_COOKIE_OPEN)
    if not value:
        return None
    try:
        return int(Signer().unsign(value))
    except (BadSignature, ValueError):
        return None


COUNT_SECONDS = 3600


def item_count_key(basket_id: int) -> str:
    return f"mv:basket-count:{basket_id}"


def open_basket_item_count(*, basket_id: int | None) -> int:
    """Items (sum of line quantities) in an open, anonymous basket: from the cache, else one
    query (no offers applied, no lines loaded). 0 for a basket that is gone, submitted or
    owned by a user. shop.basket.receivers forget it when a line or the basket changes."""
    if basket_id is None:
        return 0
    key = item_count_key(basket_id)
    total = cache.get(key)
    if total is None:
        total = (
            Line.objects.filter(
                basket_id=basket_id, basket__status=Basket.OPEN, basket__owner__isnull=True
            ).aggregate(n=Sum("quantity"))["n"]
            or 0
        )
        cache.set(key, total, timeout=COUNT_SECONDS)
    return total
