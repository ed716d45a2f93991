"""Customer A asks for every one of customer B's URLs that carries an id, and gets 404 for
each. The URLconf is walked: a new URL with an id outside the dashboard must be added to
OWNED (with how to build B's URL) or to PUBLIC (with why anyone may open it), or this test
fails. A second test walks every dashboard URL as a signed-in customer."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from oscar.apps.communication.models import Email
from oscar.apps.customer.models import ProductAlert
from oscar.apps.wishlists.models import WishList
from oscar.core.loading import get_model

from shop.basket.models import Basket
from shop.order.models import Order
from shop.partner.strategy import UKStrategy
from shop.personalization.rules import Choices
from shop.personalization.services import basket_add_personalized
from shop.takeback.services import takeback_photos_add
from tests.takeback.helpers import (
    customer,
    delivered_order,
    image_upload,
    product,
    register_line,
    small_catalogue,
)

pytestmark = pytest.mark.django_db

UserAddress = get_model("address", "UserAddress")
Notification = get_model("communication", "Notification")
Country = get_model("address", "Country")

# (URL name, method): how to build customer B's URL from B's objects.
OWNED = {
    ("customer:order", "get"): lambda b: f"/accounts/orders/{b['order'].number}/",
    ("customer:order-line", "get"): lambda b: (
        f"/accounts/orders/{b['order'].number}/{b['order'].lines.first().pk}/"
    ),
    ("order-line-checked", "get"): lambda b: (
        f"/accounts/orders/{b['order'].number}/{b['order'].lines.first().pk}/"
    ),
    ("order-line-checked", "post"): lambda b: (
        f"/accounts/orders/{b['order'].number}/{b['order'].lines.first().pk}/"
    ),
    ("customer:anon-order", "get"): lambda b: (
        f"/accounts/order-status/{b['order'].number}/{b['order'].number}x-forged/"
    ),
    ("customer:anon-order-form", "get"): lambda b: (
        f"/accounts/order-status-form/{b['order'].number}/{b['order'].number}x-forged/"
    ),
    ("anon-order-signed", "get"): lambda b: (
        f"/accounts/order-status/{b['guest_order'].number}/{b['guest_order'].number}x-forged/"
    ),
    ("anon-order-form-signed", "get"): lambda b: (
        f"/accounts/order-status-form/{b['guest_order'].number}/{b['guest_order'].number}x/"
    ),
    ("wishlist-own", "get"): lambda b: f"/wishlists/{b['wishlist'].key}/",
    ("customer:address-detail", "get"): lambda b: f"/accounts/addresses/{b['address'].pk}/",
    ("customer:address-delete", "get"): lambda b: f"/accounts/addresses/{b['address'].pk}/delete/",
    ("customer:address-delete", "post"): lambda b: f"/accounts/addresses/{b['address'].pk}/delete/",
    ("customer:address-change-status", "post"): lambda b: (
        f"/accounts/addresses/{b['address'].pk}/default_for_shipping/"
    ),
    ("checkout:user-address-update", "get"): lambda b: (
        f"/checkout/user-address/edit/{b['address'].pk}/"
    ),
    ("checkout:user-address-delete", "get"): lambda b: (
        f"/checkout/user-address/delete/{b['address'].pk}/"
    ),
    ("customer:email-detail", "get"): lambda b: f"/accounts/emails/{b['email'].pk}/",
    ("customer:notifications-detail", "get"): lambda b: (
        f"/accounts/notifications/{b['notification'].pk}/"
    ),
    ("customer:alerts-cancel-by-pk", "post"): lambda b: f"/accounts/alerts/cancel/{b['alert'].pk}/",
    ("customer:alerts-confirm", "get"): lambda b: f"/accounts/alerts/confirm/{b['alert'].key}x/",
    ("customer:alerts-cancel-by-key", "get"): lambda b: (
        f"/accounts/alerts/cancel/key/{b['alert'].key}x/"
    ),
    ("customer:wishlists-detail", "get"): lambda b: f"/accounts/wishlists/{b['wishlist'].key}/",
    ("customer:wishlists-update", "get"): lambda b: (
        f"/accounts/wishlists/{b['wishlist'].key}/update/"
    ),
    ("wishlists-update-checked", "get"): lambda b: (
        f"/accounts/wishlists/{b['wishlist'].key}/update/"
    ),
    ("wishlists-update-checked", "post"): lambda b: (
        f"/accounts/wishlists/{b['wishlist'].key}/update/"
    ),
    ("customer:wishlists-delete", "get"): lambda b: (
        f"/accounts/wishlists/{b['wishlist'].key}/delete/"
    ),
    ("customer:wishlists-add-product", "post"): lambda b: (
        f"/accounts/wishlists/{b['wishlist'].key}/add/{b['product'].pk}/"
    ),
    ("customer:wishlists-remove-product", "post"): lambda b: (
        f"/accounts/wishlists/{b['wishlist'].key}/lines/{b['wishlist_line'].pk}/delete/"
    ),
    ("customer:wishlists-move-product-to-another", "post"): lambda b: (
        f"/accounts/wishlists/{b['wishlist'].key}/lines/{b['wishlist_line'].pk}/move-to/"
        f"{b['wishlist'].key}/"
    ),
    ("wishlists:detail", "get"): lambda b: f"/wishlists/{b['wishlist'].key}/",
    ("personalization:line-edit", "get"): lambda b: (
        f"/basket/lines/{b['basket_line'].pk}/personalize/"
    ),
    ("personalization:line-edit", "post"): lambda b: (
        f"/basket/lines/{b['basket_line'].pk}/personalize/"
    ),
    ("takeback:detail", "get"): lambda b: f"/accounts/take-back/{b['takeback'].pk}/",
    ("takeback:label", "get"): lambda b: f"/accounts/take-back/{b['takeback'].pk}/label.pdf",
    ("takeback:shipped", "post"): lambda b: f"/accounts/take-back/{b['takeback'].pk}/posted/",
    ("takeback:offer", "post"): lambda b: f"/accounts/take-back/{b['takeback'].pk}/offer/",
    ("takeback:photos", "post"): lambda b: f"/accounts/take-back/{b['takeback'].pk}/photos/",
    ("takeback:photo", "get"): lambda b: (
        f"/accounts/take-back/{b['takeback'].pk}/photos/{b['photo'].pk}/"
    ),
}

# URL names with an id that anyone may open, and why.
PUBLIC = {
    "public-media": "product pictures, served from MEDIA_ROOT's public part only",
    "storefront:page": "service pages",
    "catalogue:detail": "product pages",
    "catalogue:category": "category pages",
    "catalogue:range": "product ranges",
    "catalogue:reviews-list": "a product's published reviews",
    "catalogue:reviews-detail": "one published review",
    "catalogue:reviews-add": "writing a review of a product (signed-in customers)",
    "catalogue:reviews-vote": "voting on a published review",
    "basket:add": "adding a product to one's own basket",
    "basket:vouchers-remove": "removing a voucher from one's own basket (the id is a voucher)",
    "customer:alert-create": "asking for a stock alert on a product",
    "customer:wishlists-add-product": "adding a product to one's own new wishlist",
    "customer:wishlists-create-with-product": "a new wishlist of one's own with a product",
    "wishlists-create-with-product-checked": "the same, with deleted shared emails dropped",
    "offer:detail": "a public offer's page",
    "password-reset-confirm": "a signed, single-use token from the reset email",
    "referrals:share": "a customer's share link: anyone may follow it (a code, not an id)",
    "lifecycle:unsubscribe": "a signed token from a marketing email: it unsubscribes its own "
    "recipient only, signed in or not",
}
SKIP_PREFIXES = ("dashboard/", "^dashboard", "admin/", "^admin", "i18n/")


def _walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), namespace + (pattern.name or "")


def _id_urls() -> set[tuple[str, str]]:
    found = set()
    for route, name in _walk(get_resolver().url_patterns):
        if route.startswith(SKIP_PREFIXES) or not re.search(r"<|\(\?P", route):
            continue
        found.add((route, name))
    return found


def test_every_url_with_an_id_is_in_the_matrix():
    owned = {name for name, _method in OWNED}
    unknown = sorted(
        (name, route) for route, name in _id_urls() if name not in owned and name not in PUBLIC
    )
    assert unknown == [], "add these to OWNED or PUBLIC in this test"
    # No stale entries either.
    live = {name for _route, name in _id_urls()}
    assert owned - live == set() and set(PUBLIC) - live == set()


@pytest.fixture
def b_objects(settings, tmp_path):
    settings.TAKEBACK_PRIVATE_ROOT = str(tmp_path / "private")
    small_catalogue()
    bee = customer("bee@example.com")
    order = delivered_order(user=bee)
    country, _ = Country.objects.get_or_create(
        iso_3166_1_a2="GB", defaults={"name": "United Kingdom", "is_shipping_country": True}
    )
    address = UserAddress.objects.create(
        user=bee,
        first_name="Bee",
        last_name="B",
        line1="1 High St",
        line4="Walsall",
        postcode="WS1 1AA",
        country=country,
    )
    wishlist = WishList.objects.create(owner=bee, name="Mine")
    wishlist_line = wishlist.lines.create(product=product(), title="Wallet")
    basket = Basket.objects.create(owner=bee)
    basket.strategy = UKStrategy()
    basket_add_personalized(basket=basket, product=product(), quantity=1, choices=Choices())
    takeback = register_line(bee, order)
    takeback_photos_add(takeback=takeback, photos=[image_upload()], user=bee)
    guest_order = delivered_order(user=None)
    Order.objects.filter(pk=guest_order.pk).update(guest_email="bee@example.com")
    return {
        "guest_order": guest_order,
        "user": bee,
        "order": order,
        "address": address,
        "email": Email.objects.create(user=bee, subject="Hi", body_text="Secret"),
        "notification": Notification.objects.create(recipient=bee, subject="Yours"),
        "alert": ProductAlert.objects.create(user=bee, product=product(), key="k" * 20),
        "wishlist": wishlist,
        "wishlist_line": wishlist_line,
        "product": product(),
        "basket_line": basket.all_lines()[0],
        "takeback": takeback,
        "photo": takeback.photos.first(),
    }


def test_customer_a_gets_404_for_every_url_of_customer_b(client, b_objects):
    client.force_login(customer("ada@example.com"))
    results = {}
    for (name, method), build in sorted(OWNED.items()):
        url = build(b_objects)
        response = getattr(client, method)(url)
        results[(name, method, url)] = response.status_code
    assert {key: code for key, code in results.items() if code != 404} == {}
    # And nothing of B's changed.
    assert UserAddress.objects.filter(pk=b_objects["address"].pk).exists()
    # The real signed link still leads on (to the check of the order's email address).
    guest = b_objects["guest_order"]
    signed = f"/accounts/order-status/{guest.number}/{guest.verification_hash()}/"
    assert client.get(signed).status_code == 302
    assert b_objects["wishlist"].lines.count() == 1
    print(f"access matrix: {len(results)} requests for another customer's ids, all 404")


def test_customers_reach_nothing_in_the_dashboard(client, db):
    client.force_login(customer("ada@example.com"))
    refused = {}
    for route, name in _walk(get_resolver().url_patterns):
        if not route.startswith(("dashboard/", "^dashboard")) or name.endswith(":login"):
            continue
        path = "/" + re.sub(r"\(\?P<[^>]+>[^)]*\)|<[^>]+>", "1", route).strip("^$").replace(
            "\\", ""
        )
        path = path.replace("$", "").replace("^", "")
        for method in ("get", "post"):
            code = getattr(client, method)(path).status_code
            refused[(path, method)] = code
    allowed = {k: v for k, v in refused.items() if v not in (302, 403, 404, 405)}
    assert allowed == {}
    assert len(refused) > 100
    print(f"dashboard: {len(refused)} requests by a customer, none reached a page")
