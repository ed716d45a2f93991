"""Security headers: the storefront's strict Content-Security-Policy (a nonce, no
'unsafe-inline' for scripts, every <script> with a src or the nonce, no inline event handlers),
the dashboard's own relaxed policy, Permissions-Policy, and SameSite on Oscar's basket cookie."""

import re
from html.parser import HTMLParser

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory
from oscar.test.factories import UserFactory

from shop.catalogue.models import Product
from shop.storefront import page_cache
from tests.factories import checkout_to_shipping_method

pytestmark = pytest.mark.django_db

NONCE = re.compile(r"'nonce-([A-Za-z0-9+/=]+)'")


def _directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    out = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


class _Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts: list[dict] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts.append(attrs)
        for name, value in attrs.items():
            if name.startswith("on"):
                self.handlers.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "action", "src") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.handlers.append(f"<{tag} {name}={value!r}>")


def assert_runs_under_the_strict_policy(response) -> str:
    """The storefront policy, and a page that needs nothing more: returns the nonce."""
    assert response.status_code == 200
    directives = _directives(response)
    script_src = directives["script-src"]
    assert "'unsafe-inline'" not in script_src
    nonces = [m for v in script_src for m in NONCE.findall(v)]
    assert len(nonces) == 1, script_src
    assert directives["object-src"] == ["'none'"] and directives["base-uri"] == ["'self'"]
    parser = _Scripts()
    parser.feed(response.content.decode())
    for attrs in parser.scripts:
        assert attrs.get("src") or attrs.get("nonce") == nonces[0], attrs
    assert parser.handlers == []
    return nonces[0]


def _product() -> Product:
    return (
        Product.objects.browsable()
        .filter(structure=Product.STANDALONE, stockrecords__num_in_stock__gt=2)
        .order_by("pk")
        .first()
    )


def test_home_and_product_pages_have_a_nonce_and_no_inline_script_without_it(
    client, demo_catalogue
):
    home = client.get("/")
    first = assert_runs_under_the_strict_policy(home)
    again = assert_runs_under_the_strict_policy(Client().get("/"))
    assert again != first, "a fresh nonce for each response, cached pages included"
    assert_runs_under_the_strict_policy(client.get(_product().get_absolute_url()))
    assert_runs_under_the_strict_policy(client.get("/catalogue/"))


def test_basket_and_checkout_pages_run_under_the_strict_policy(client, demo_catalogue, localstripe):
    shipping_method = checkout_to_shipping_method(client, "MV-HE-KEY")
    assert_runs_under_the_strict_policy(shipping_method)
    assert_runs_under_the_strict_policy(client.get("/basket/"))
    assert_runs_under_the_strict_policy(client.get("/checkout/shipping-address/"))
    client.post("/checkout/shipping-method/", {"method_code": "royal-mail-tracked-48"})
    payment = client.get("/checkout/payment-details/")
    nonce = assert_runs_under_the_strict_policy(payment)
    html = payment.content.decode()
    assert 'id="card-element"' in html
    # Oscar's start-up code (oscar.init()) is inline, and carries the nonce.
    assert f'<script nonce="{nonce}">' in html and "oscar.init()" in html
    directives = _directives(payment)
    assert "https://js.stripe.com" in directives["script-src"]
    assert localstripe.base_url in directives["script-src"]
    assert localstripe.base_url in directives["connect-src"]


def test_account_pages_have_no_inline_handlers(client, demo_catalogue):
    user = UserFactory(email="ada@example.com")
    client.force_login(user)
    for path in (
        "/accounts/",
        "/accounts/profile/",
        "/accounts/profile/edit/",
        "/accounts/change-password/",
        "/accounts/addresses/add/",
        "/accounts/wishlists/create/",
        "/accounts/orders/",
    ):
        assert_runs_under_the_strict_policy(client.get(path, follow=True))
    # Oscar's "cancel" links (onclick="history.go(-1)") are ours, with data-mv-back.
    for path in ("/accounts/addresses/add/", "/accounts/wishlists/create/"):
        assert "data-mv-back" in client.get(path).content.decode()


def test_the_dashboard_keeps_its_own_policy(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    directives = _directives(response)
    assert directives["script-src"] == ["'self'", "'unsafe-inline'"]  # no nonce: see settings
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    storefront = _directives(Client().get("/accounts/login/"))
    assert "'unsafe-inline'" not in storefront["script-src"]


def test_permissions_policy_switches_off_camera_microphone_and_geolocation(client):
    header = client.get("/accounts/login/")["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in header
    assert 'payment=(self "https://js.stripe.com")' in header


def test_the_basket_cookie_is_samesite_lax(client, demo_catalogue):
    response = client.post(f"/basket/add/{_product().pk}/", {"quantity": 1})
    assert response.status_code == 302
    cookie = response.cookies["oscar_open_basket"]
    assert cookie["samesite"] == "Lax"
    assert cookie["httponly"] is True


def test_a_cached_page_gets_the_nonce_of_the_response_that_serves_it():
    page = '<script nonce="first-nonce">go()</script><form></form>'
    entry = page_cache.page_entry(HttpResponse(page), nonce="first-nonce")
    assert "first-nonce" not in entry["content"]
    later = RequestFactory().get("/")
    later.csp_nonce = "second-nonce"
    served = page_cache.page_response(later, entry, basket_count=0).content.decode()
    assert '<script nonce="second-nonce">go()</script>' in served
