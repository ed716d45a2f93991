from django.conf import settings
from django.http import HttpRequest


def storefront(request: HttpRequest) -> dict:
    return {"shop_name": settings.OSCAR_SHOP_NAME, "shop_tagline": settings.OSCAR_SHOP_TAGLINE}
