"""Setting the store up (site, staff login, demo catalogue: every step idempotent), and
a customer registering an account."""

import logging
import secrets
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model, login
from django.contrib.sites.models import Site
from django.core.management import call_command
from django.db import connection, transaction
from django.http import HttpRequest

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
    """Load the demo catalogue and draw its product images, and start the demo's A/B test
    (the take-back promise on product pages; all idempotent)."""
    from shop.experiments.services import experiment_demo_ensure

    call_command("load_catalogue", str(DEMO_CATALOGUE))
    call_command("load_personalization")
    call_command("generate_product_images")
    experiment_demo_ensure()


class AccountRegistrationRefused(Exception):
    """The account was not created (nothing was kept): `field` (None for the whole form)
    and `message` say why, for the form to show."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _account_email_lock(email: str) -> None:
    """Serialise registrations of one address (case-insensitively) until the transaction
    ends, so two quick submissions cannot both create an account for it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"account-email:{email.strip().lower()}"],
        )


def account_register(*, request: HttpRequest, form: Any, sender: Any = None) -> Any | None:
    """Create the customer of a valid registration form, authenticate them WITH the request
    (so django-axes checks the lockout and records the login), sign them in, send Oscar's
    `user_registered`, and send the welcome email once the account is committed.

    If the address already has an account, nothing is created and nobody is signed in: its
    owner is emailed instead ("someone tried to register with your address"), after commit,
    and None is returned, so the page can answer as for a new address (the form does not
    say whether an address has an account, as password reset does not).

    The form's marketing consent answer (`marketing_opt_in`, if the form has it) is recorded
    for the new account, in the same transaction.

    All or nothing: if the login is refused (the account is locked out), nothing is kept and
    AccountRegistrationRefused is raised.
    """
    from oscar.apps.customer.signals import user_registered

    from shop.lifecycle.services import consent_at_registration

    User = get_user_model()
    email = form.cleaned_data["email"]
    with transaction.atomic():
        _account_email_lock(email)
        existing = User._default_manager.filter(email__iexact=email).order_by("pk").first()
        if existing is not None:
            transaction.on_commit(
                partial(_existing_account_email_send, user=existing, request=request),
                robust=True,
            )
            return None
        user = form.save()
        authenticated = authenticate(
            request, username=user.email, password=form.cleaned_data["password1"]
        )
        if authenticated is None or authenticated.pk != user.pk:
            # Axes refused (request.axes_locked_out is then set and its middleware answers
            # with the lockout page); roll the new account back with everything else.
            raise AccountRegistrationRefused(
                "We could not sign you in just now. Please try again later."
            )
        # Marketing consent as the form answered it (ticked or not), for this new account
        # only: an address that already had an account returned above, changing nothing.
        consent_at_registration(
            user=authenticated, opted_in=bool(form.cleaned_data.get("marketing_opt_in"))
        )
        user_registered.send_robust(sender=sender, request=request, user=authenticated)
        if getattr(settings, "OSCAR_SEND_REGISTRATION_EMAIL", True):
            transaction.on_commit(
                partial(_welcome_email_send, user=authenticated, request=request), robust=True
            )
        login(request, authenticated)
    return authenticated


def _existing_account_email_send(*, user: Any, request: HttpRequest) -> None:
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.urls import reverse

    context = {
        "user": user,
        "login_url": request.build_absolute_uri(reverse("customer:login")),
        "reset_url": request.build_absolute_uri(reverse("password-reset-limited")),
        "shop_name": settings.OSCAR_SHOP_NAME,
    }
    send_mail(
        subject=f"Someone tried to register at {settings.OSCAR_SHOP_NAME} with your address",
        message=render_to_string("shop/emails/register_existing_account.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


def _welcome_email_send(*, user: Any, request: HttpRequest) -> None:
    from oscar.core.loading import get_class

    dispatcher = get_class("customer.utils", "CustomerDispatcher")(logger=logger)
    dispatcher.send_registration_email_for_user(user, {"user": user, "request": request})
