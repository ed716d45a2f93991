"""Setting the store up: site, staff login, demo catalogue. Every step is idempotent."""

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.core.management import call_command
from django.db import transaction

logger = logging.getLogger(__name__)

STAFF_USERNAME = "staff"
STAFF_EMAIL = "staff@marlowandvale.example"
DEMO_CATALOGUE = Path(settings.BASE_DIR) / "fixtures" / "catalogue.json"


@dataclass(frozen=True)
class StaffLogin:
    email: str
    password: str | None  # only when the account was created just now


def site_configure(*, domain: str, name: str | None = None) -> Site:
    site, _ = Site.objects.update_or_create(
        pk=settings.SITE_ID, defaults={"domain": domain, "name": name or settings.OSCAR_SHOP_NAME}
    )
    return site


def staff_login_ensure() -> StaffLogin:
    """Create the demo staff account once, with a fresh random password.

    The password exists only in the return value of the call that created the account
    (the console prints it once); it is never stored in the code or on disk.
    """
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.filter(username=STAFF_USERNAME).first()
        if user is not None:
            return StaffLogin(email=user.email, password=None)
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=STAFF_USERNAME, email=STAFF_EMAIL, password=password)
    return StaffLogin(email=STAFF_EMAIL, password=password)


SHIPPING_COUNTRIES = (("GB", "GBR", "826", "United Kingdom", "United Kingdom"),)


def shipping_countries_ensure() -> None:
    """The countries we deliver to (the UK, for now), so the address form offers them."""
    from oscar.apps.address.models import Country

    for a2, a3, numeric, name, printable in SHIPPING_COUNTRIES:
        Country.objects.update_or_create(
            iso_3166_1_a2=a2,
            defaults={
                "iso_3166_1_a3": a3,
                "iso_3166_1_numeric": numeric,
                "name": name,
                "printable_name": printable,
                "is_shipping_country": True,
                "display_order": 1,
            },
        )


def demo_data_load() -> None:
    """Load the demo catalogue and draw its product images (both idempotent)."""
    call_command("load_catalogue", str(DEMO_CATALOGUE))
    call_command("load_personalization")
    call_command("generate_product_images")
