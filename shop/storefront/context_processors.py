from django.conf import settings
from django.http import HttpRequest

from shop.common.urls import reverse_once


def storefront(request: HttpRequest) -> dict:
    """The shop's name and tagline, and the home page's address (Oscar's metadata processor,
    before this one, gives settings.OSCAR_HOMEPAGE: a lazy reverse, worked out again each
    time a page shows it)."""
    return {
        "shop_name": settings.OSCAR_SHOP_NAME,
        "shop_tagline": settings.OSCAR_SHOP_TAGLINE,
        "homepage_url": reverse_once(settings.STOREFRONT_HOME_VIEW),
    }
