"""Oscar's BasketMiddleware, with SameSite on the anonymous basket cookie, and the offers it
applies kept on the basket.

Oscar 4.2 sets `oscar_open_basket` with `secure` and `httponly` only; browsers that default a
missing SameSite to None would send it on cross-site POSTs (adding to or emptying someone's
basket from another site). settings.OSCAR_BASKET_COOKIE_SAMESITE ("Lax") is added here."""

from __future__ import annotations

from django.conf import settings
from django.core.signing import BadSignature, Signer
from django.db import transaction
from django.utils import timezone
from oscar.apps.basket.middleware import BasketMiddleware as OscarBasketMiddleware
from oscar.core.loading import get_class

from shop.basket.models import NOW, site_offers_query
from shop.basket.selectors import open_anonymous_basket
from shop.common.precompiled import Precompiled

Applicator = get_class("offer.applicator", "Applicator")

# Read on every request that touches the basket, so compiled once (shop.common.precompiled).
SITE_OFFERS = Precompiled(site_offers_query, NOW)


class BasketApplicator(Applicator):
    """Oscar's, reading the site's offers with a precompiled query, and not at all when the
    basket's lines were read with none active (shop.basket.models.Basket.all_lines)."""

    basket = None

    def get_offers(self, basket, user=None, request=None):
        self.basket = basket
        return super().get_offers(basket, user, request)

    def get_site_offers(self):
        if getattr(self.basket, "site_offers_active", None) is False:
            return []
        return SITE_OFFERS.run(timezone.now())


class BasketMiddleware(OscarBasketMiddleware):
    def merge_baskets(self, master, slave):
        """Oscar's (a signed-in visitor's cookie basket moved into their own), all or nothing:
        the read-only listings run outside a request transaction, and a merge can start on
        any page."""
        with transaction.atomic():
            super().merge_baskets(master, slave)

    def get_cookie_basket(self, cookie_key, request, manager):
        """Oscar's: the open anonymous basket the signed cookie names (a cookie naming none
        is deleted), read with its lines (open_anonymous_basket)."""
        value = request.COOKIES.get(cookie_key)
        if value is None:
            return None
        try:
            found = open_anonymous_basket(basket_id=int(Signer().unsign(value)))
        except (BadSignature, ValueError, OverflowError):
            found = None
        if found is None:
            request.cookies_to_delete.append(cookie_key)
        return found

    def apply_offers_to_basket(self, request, basket):
        """Oscar's (the offers for this basket, user and request, applied), with the site's
        offers read by a precompiled query, and the offers kept on the basket for this
        request: the basket page's upsell messages weigh the same offers (Oscar reads them
        again, one more query)."""
        if not basket.is_empty:
            applicator = BasketApplicator()
            offers = applicator.get_offers(basket, request.user, request)
            applicator.apply_offers(basket, offers)
            basket.offers_applied_for = (request, offers)

    def process_response(self, request, response):
        response = super().process_response(request, response)
        samesite = getattr(settings, "OSCAR_BASKET_COOKIE_SAMESITE", "Lax")
        cookie = response.cookies.get(self.get_cookie_key(request))
        if cookie is not None and samesite:
            cookie["samesite"] = samesite
        return response
