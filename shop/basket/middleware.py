"""Oscar's BasketMiddleware, with SameSite on the anonymous basket cookie.

Oscar 4.2 sets `oscar_open_basket` with `secure` and `httponly` only; browsers that default a
missing SameSite to None would send it on cross-site POSTs (adding to or emptying someone's
basket from another site). settings.OSCAR_BASKET_COOKIE_SAMESITE ("Lax") is added here."""

from __future__ import annotations

from django.conf import settings
from oscar.apps.basket.middleware import BasketMiddleware as OscarBasketMiddleware


class BasketMiddleware(OscarBasketMiddleware):
    def process_response(self, request, response):
        response = super().process_response(request, response)
        samesite = getattr(settings, "OSCAR_BASKET_COOKIE_SAMESITE", "Lax")
        cookie = response.cookies.get(self.get_cookie_key(request))
        if cookie is not None and samesite:
            cookie["samesite"] = samesite
        return response
