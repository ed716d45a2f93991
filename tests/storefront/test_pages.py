"""The shop front: pages render with the right products, filters work, bad input is a 4xx."""

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from shop.catalogue import selectors
from shop.catalogue.models import Category, Product

pytestmark = pytest.mark.django_db


def _browsable():
    return Product.objects.browsable()


def _products(response) -> list[Product]:
    """The page's products in its order (the context holds their ids), with their cards'
    price (from_price)."""
    return selectors.card_products(list(response.context["products"]))


def _titles(response) -> set[str]:
    return {p.title for p in _products(response)}


def test_home_leads_with_the_evergreen_line_and_take_back(client, demo_catalogue):
    response = client.get("/")
    assert response.status_code == 200
    products = list(response.context["evergreen_products"])
    assert products, "the home page shows Evergreen products"
    assert all(p.attr.line.option == "Evergreen" for p in products)
    html = response.content.decode()
    assert "Evergreen" in html
    assert reverse("storefront:page", args=["take-back"]) in html
    for product in products:
        assert product.title in html


def test_catalogue_lists_all_browsable_products_across_pages(client, demo_catalogue):
    seen: set[str] = set()
    page = 1
    while True:
        response = client.get("/catalogue/", {"page": page})
        assert response.status_code == 200
        seen |= _titles(response)
        if not response.context["page_obj"].has_next():
            break
        page += 1
    assert seen == set(_browsable().values_list("title", flat=True))
    assert len(seen) >= 24


def test_category_page_shows_only_its_products(client, demo_catalogue):
    categories = Category.objects.filter(depth=1)
    assert categories.count() >= 5
    for category in categories:
        response = client.get(category.get_absolute_url())
        assert response.status_code == 200
        in_category = set(
            _browsable()
            .filter(categories__in=category.get_descendants_and_self())
            .values_list("title", flat=True)
        )
        assert in_category, f"{category.name} has products"
        assert response.context["paginator"].count == len(in_category)
        assert _titles(response) <= in_category


def test_category_wrong_slug_redirects_to_canonical_url(client, demo_catalogue):
    category = Category.objects.filter(depth=1).first()
    response = client.get(f"/catalogue/category/wrong-slug_{category.pk}/")
    assert response.status_code == 301
    assert response["Location"] == category.get_absolute_url()


def test_product_page_shows_price_and_sustainability_facts(client, demo_catalogue):
    product = _browsable().filter(attribute_values__attribute__code="tanning_method").first()
    response = client.get(product.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert product.title in html
    for code in ("tanning_method", "certification", "tannery", "carbon_footprint"):
        value = getattr(product.attr, code)
        shown = value.option if hasattr(value, "option") else str(value)
        assert shown in html, f"{code} missing from the facts panel"


def test_parent_product_page_offers_its_colours(client, demo_catalogue):
    parent = _browsable().filter(structure=Product.PARENT).first()
    response = client.get(parent.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    for child in parent.children.filter(is_public=True):
        assert str(child.pk) in html  # the variant select offers each child


@pytest.mark.parametrize(
    "field,code", [("tanning", "tanning_method"), ("certification", "certification")]
)
def test_filters_narrow_the_listing(client, demo_catalogue, field, code):
    from shop.catalogue.selectors import filter_options

    values = filter_options()[field]
    assert len(values) >= 2, f"the demo data should offer several {field} values"
    totals = 0
    for value in values:
        response = client.get("/catalogue/", {field: value, "sort_by": "name"})
        assert response.status_code == 200
        expected = set(
            _browsable()
            .filter(
                attribute_values__attribute__code=code, attribute_values__value_option__option=value
            )
            .values_list("title", flat=True)
        )
        paginator = response.context["paginator"]
        assert paginator.count == len(expected)
        assert _titles(response) <= expected
        totals += paginator.count
    assert totals == _browsable().count()


def test_filters_combine_within_a_category(client, demo_catalogue):
    category = Category.objects.get(name="Wallets")
    response = client.get(
        category.get_absolute_url(),
        {"tanning": "Vegetable-tanned", "certification": "Leather Working Group Gold"},
    )
    assert response.status_code == 200
    for product in _products(response):
        assert product.attr.tanning_method.option == "Vegetable-tanned"
        assert product.attr.certification.option == "Leather Working Group Gold"
        assert category in product.categories.all()


def test_sort_by_price(client, demo_catalogue):
    response = client.get("/catalogue/", {"sort_by": "price-asc"})
    prices = [p.from_price for p in _products(response)]
    assert prices == sorted(prices)
    response = client.get("/catalogue/", {"sort_by": "price-desc"})
    prices = [p.from_price for p in _products(response)]
    assert prices == sorted(prices, reverse=True)


def test_search_finds_products_by_title_words(client, demo_catalogue):
    response = client.get("/search/", {"q": "wallet"})
    assert response.status_code == 200
    titles = _titles(response)
    assert titles and all(
        "wallet" in (p.title + p.description + " ".join(c.name for c in p.categories.all())).lower()
        or any("wallet" in ch.title.lower() for ch in p.children.all())
        for p in _products(response)
    )
    response = client.get("/search/", {"q": "no-such-thing-xyz"})
    assert response.status_code == 200
    assert response.context["paginator"].count == 0


@pytest.mark.parametrize(
    "url,params,status",
    [
        ("/catalogue/", {"page": "abc"}, 404),
        ("/catalogue/", {"page": "99999"}, 404),
        ("/catalogue/", {"page": "9" * 400}, 404),
        ("/catalogue/", {"sort_by": ";drop table catalogue_product"}, 400),
        ("/catalogue/", {"tanning": "<script>alert(1)</script>"}, 400),
        ("/catalogue/", {"certification": "x" * 5000}, 400),
        ("/search/", {"q": "wallet\x00"}, 400),
        ("/search/", {"q": "wallet", "page": "-1"}, 404),
        ("/no-such-page/", {}, 404),
        ("/catalogue/no-such-product_99999999/", {}, 404),
        ("/catalogue/category/nowhere_99999999/", {}, 404),
        ("/pages/not-a-page/", {}, 404),
    ],
)
def test_bad_input_gets_a_branded_4xx_never_a_500(client, demo_catalogue, url, params, status):
    response = client.get(url, params)
    assert response.status_code == status
    html = response.content.decode()
    assert "Marlow &amp; Vale" in html or "Marlow & Vale" in html
    assert "<script>alert(1)</script>" not in html


def test_content_pages_render(client):
    for slug in ("take-back", "care", "delivery", "returns", "contact", "our-workshop"):
        response = client.get(reverse("storefront:page", args=[slug]))
        assert response.status_code == 200, slug


def test_public_media_serves_product_images_only(client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    (tmp_path / "products").mkdir()
    (tmp_path / "products" / "mv-eg-bif.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "takeback").mkdir()
    (tmp_path / "takeback" / "private.jpg").write_bytes(b"secret")
    response = client.get("/media/products/mv-eg-bif.png")
    assert response.status_code == 200 and "max-age" in response["Cache-Control"]
    assert client.get("/media/takeback/private.jpg").status_code == 404
    assert client.get("/media/products/../takeback/private.jpg").status_code == 404
    assert client.get("/media/products/missing.png").status_code == 404


def test_a_signed_in_customer_can_sign_out_on_a_wide_screen_too(client, demo_catalogue):
    """The menu's Sign out is hidden from 900px up (shop.css), where the menu is a bar: the
    header's tools carry one for those screens, or desktop customers could never sign out."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("jo", "jo@example.com", "x")
    client.force_login(user)
    html = client.get("/").content.decode()
    tools = html.split('class="mv-tools"', 1)[1].split("</div>", 1)[0]
    logout = reverse("customer:logout")
    # A POST form (logout is POST-only), its button shown on wide screens only.
    assert f'method="post" action="{logout}">' in tools
    assert 'class="mv-tool mv-tool--text mv-link-button">Sign out</button>' in tools
    assert 'id="logout_link"' in html  # the phones' one, in the menu


def test_favicon_ico_leads_to_our_icon(client):
    """Browsers ask for /favicon.ico where a page names no icon (an image opened on its own)."""
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith(".svg") and "shop/img/favicon" in response["Location"]
    assert finders.find("shop/img/favicon.svg")
