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


def _as_django_csp_builds_it(request, response) -> str:
    """The header django-csp's own middleware writes for this request and response."""
    from csp.constants import HEADER
    from csp.middleware import CSPMiddleware

    from shop.storefront.csp import StoreCSPMiddleware

    class Reference(StoreCSPMiddleware):  # our policy parts, django-csp's process_response
        process_response = CSPMiddleware.process_response

    Reference(lambda r: response).process_response(request, response)
    return response[HEADER]


@pytest.mark.parametrize("path", ["/catalogue/", "/basket/", "/dashboard/orders/"])
def test_the_kept_policy_is_the_one_django_csp_builds_with_this_requests_nonce(path, settings):
    from csp.constants import HEADER

    from shop.storefront.csp import StoreCSPMiddleware

    settings.STRIPE_API_BASE = "http://127.0.0.1:8420"
    middleware = StoreCSPMiddleware(lambda r: HttpResponse("x"))
    headers = []
    for _ in range(2):
        request = RequestFactory().get(path)
        middleware.process_request(request)
        response = middleware.process_response(request, HttpResponse("x"))
        headers.append(response[HEADER])
        assert headers[-1] == _as_django_csp_builds_it(request, HttpResponse("x"))
        assert "__MV_" not in headers[-1] and "http://127.0.0.1:8420" in headers[-1]
    if path.startswith("/dashboard/"):
        assert headers[0] == headers[1] and "'nonce-" not in headers[0]
    else:
        assert headers[0] != headers[1]  # a nonce of its own each time
        assert re.sub(r"'nonce-[^']+'", "", headers[0]) == re.sub(r"'nonce-[^']+'", "", headers[1])
    settings.STRIPE_API_BASE = "http://127.0.0.1:8421"  # a changed setting: built again
    request = RequestFactory().get(path)
    middleware.process_request(request)
    assert "8421" in middleware.process_response(request, HttpResponse("x"))[HEADER]


def test_a_view_with_its_own_policy_keeps_it():
    from csp.constants import HEADER

    from shop.storefront.csp import StoreCSPMiddleware

    middleware = StoreCSPMiddleware(lambda r: HttpResponse("x"))
    request = RequestFactory().get("/catalogue/")
    middleware.process_request(request)
    response = HttpResponse("x")
    response._csp_update = {"img-src": ["https://images.example.com"]}
    policy = middleware.process_response(request, response)[HEADER]
    assert "https://images.example.com" in policy
    plain = middleware.process_response(request, HttpResponse("x"))[HEADER]
    assert "https://images.example.com" not in plain
