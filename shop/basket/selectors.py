"""Basket reads that must stay cheap: the header's item count on cached pages."""

from django.conf import settings
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


def open_basket_item_count(*, basket_id: int | None) -> int:
    """Items (sum of line quantities) in an open, anonymous basket: one query, no offers
    applied, no lines loaded. 0 for a basket that is gone, submitted or owned by a user."""
    if basket_id is None:
        return 0
    total = Line.objects.filter(
        basket_id=basket_id, basket__status=Basket.OPEN, basket__owner__isnull=True
    ).aggregate(n=Sum("quantity"))["n"]
    return total or 0
