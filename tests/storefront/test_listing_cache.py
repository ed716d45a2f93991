"""What a listing keeps between requests (issue 20) and must never show stale or misplaced:
product cards cached once per product under the catalogue version (the first row's pictures
loading at once, the rest lazily), the page chrome kept in each process's "chrome" cache (the
menu with the current item marked, the signed-out link, a category's breadcrumbs and
subcategories), and the filter selects written without the template engine."""

import re
import sys
from datetime import datetime
from html.parser import HTMLParser
from io import BytesIO

import pytest
from django import forms
from django.db import connection
from django.template import defaulttags
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from oscar.test.factories import UserFactory
from PIL import Image

from shop.catalogue import selectors
from shop.catalogue.forms import CatalogueFilterForm, QuickSelect
from shop.catalogue.models import (
    AttributeOption,
    AttributeOptionGroup,
    Category,
    Product,
    ProductImage,
)
from shop.catalogue.tasks import refresh_search_documents
from shop.storefront import page_cache
from shop.storefront.templatetags import storefront_tags
from shop.storefront.templatetags.storefront_tags import EAGER_CARDS
from tests.factories import committed

pytestmark = pytest.mark.django_db
LAZY = 'loading="lazy"'


@pytest.fixture
def refresh_queued(monkeypatch) -> list[str]:
    """The search refresh queued at commit is only recorded: what a card shows must not wait
    for it."""
    queued: list[str] = []
    monkeypatch.setattr(refresh_search_documents, "delay", lambda: queued.append("refresh"))
    return queued


@pytest.fixture
def pictures(demo_catalogue, settings, tmp_path):
    """A small picture for every browsable product, so each card has its <img>."""
    settings.MEDIA_ROOT = str(tmp_path)
    (tmp_path / "products").mkdir()
    buffer = BytesIO()
    Image.new("RGB", (16, 16), (120, 80, 40)).save(buffer, format="PNG")
    for product in Product.objects.browsable():
        name = f"products/{product.upc.lower()}.png"
        (tmp_path / name).write_bytes(buffer.getvalue())
        ProductImage.objects.create(
            product=product, original=name, caption=product.title, display_order=0
        )


@pytest.fixture
def customer(db):
    return UserFactory(email="ada@example.com")


def _page(client, path: str, params=None):
    response = client.get(path, params or {})
    assert response.status_code == 200, path
    return response


def _grid(response) -> str:
    found = re.search(r'<ul class="mv-grid">(.*?)</ul>', response.content.decode(), re.S)
    assert found, "no product grid"
    return found.group(1)


def _cards(response) -> list[str]:
    return re.findall(r"<li>(.*?)</li>", _grid(response), re.S)


def _card_titles(response) -> list[str]:
    return re.findall(r'class="mv-card__title"><a href="[^"]*">([^<]*)</a>', _grid(response))


def _titles(ids) -> list[str]:
    found = Product.objects.in_bulk(ids)
    return [found[pk].get_title() for pk in ids]


def _ids(response) -> list[int]:
    assert response.context is not None, "served from the page cache"
    return list(response.context["products"])


# --- 6. product cards ---------------------------------------------------------------------------


def test_the_first_six_cards_load_their_picture_at_once_the_rest_lazily(client, pictures):
    wallets = Category.objects.get(slug="wallets").get_absolute_url()
    pages = [
        (wallets, {"sort_by": "price-asc"}),
        (wallets, {"sort_by": "price-desc"}),  # the 7th card above is the 1st here, and back
        ("/catalogue/", {}),
        ("/catalogue/", {"sort_by": "name"}),
        ("/catalogue/", {"sort_by": "name", "page": "2"}),
        ("/catalogue/", {"page": "last"}),
        ("/search/", {"q": "leather"}),
        (wallets, {"sort_by": "price-asc", "line": "Evergreen"}),
    ]
    longer = 0
    for path, params in pages:
        response = _page(client, path, params)
        ids = _ids(response)
        pictures_shown = re.findall(r"<img\b[^>]*>", _grid(response))
        assert len(pictures_shown) == len(ids) > 0, (path, params)
        assert not any(LAZY in tag for tag in pictures_shown[:EAGER_CARDS]), (path, params)
        assert all(LAZY in tag for tag in pictures_shown[EAGER_CARDS:]), (path, params)
        assert _card_titles(response) == _titles(ids), (path, params)  # in the listing's order
        longer += len(ids) > EAGER_CARDS
    assert EAGER_CARDS == 6 and longer >= 4


def test_a_listing_card_is_the_card_of_the_product(client, pictures):
    """Listings render cards from plain rows (selectors.card_rows) with their pictures read
    together; the markup is the product card's, as home and product pages render it from a
    product: a parent's "from", the Evergreen badge, a piece without picture, one without a
    price (Oscar's purchase info) all alike."""
    from django.template import Context
    from django.template.loader import get_template

    no_picture = Product.objects.browsable().get(upc="MV-HE-COI")
    ProductImage.objects.filter(product=no_picture).delete()
    no_price = (
        Product.objects.browsable()
        .exclude(pk=no_picture.pk)
        .filter(structure=Product.STANDALONE)[0]
    )
    no_price.stockrecords.all().delete()
    template = get_template("shop/partials/product_card.html").template
    shown, without_picture = [], []
    for page in ("1", "2", "3"):
        response = client.get("/catalogue/", {"sort_by": "name", "page": page})
        if response.status_code == 404:
            break
        ids = _ids(response)
        products = {p.pk: p for p in selectors.card_products(ids)}
        for i, (pk, card) in enumerate(zip(ids, _cards(response), strict=True)):
            expected = template.render(
                Context(
                    {
                        "product": products[pk],
                        "lazy": i >= EAGER_CARDS,
                        "heading": "h2",
                        "request": response.wsgi_request,
                    }
                )
            )
            assert card == expected, products[pk].title
            shown.append(products[pk])
            without_picture += [pk] if "Photograph to follow" in card else []
    assert {no_picture.pk, no_price.pk} <= {p.pk for p in shown}
    assert any(p.is_parent for p in shown) and any(p.is_evergreen for p in shown)
    assert without_picture == [no_picture.pk]


def test_a_card_is_rendered_once_then_served_from_the_cache(client, demo_catalogue, monkeypatch):
    rendered: list[list[int]] = []
    card_rows = selectors.card_rows

    def counted(ids):
        rendered.append(list(ids))
        return card_rows(ids)

    monkeypatch.setattr(selectors, "card_rows", counted)
    wallets = Category.objects.get(slug="wallets")
    # What the two pages share besides the cards (filter options and counts) kept already.
    selectors.filter_options()
    selectors.filter_counts(category=wallets)
    with CaptureQueriesContext(connection) as first:
        by_price = _page(client, wallets.get_absolute_url(), {"sort_by": "price-asc"})
    with CaptureQueriesContext(connection) as second:
        by_name = _page(client, wallets.get_absolute_url(), {"sort_by": "name"})
    assert set(_ids(by_price)) == set(_ids(by_name)) and _ids(by_price) != _ids(by_name)
    assert rendered == [_ids(by_price)]  # the second page rendered no card
    sql = [q["sql"] for q in second]
    assert not any("catalogue_productimage" in s or "partner_stockrecord" in s for s in sql), sql
    assert len(second) < len(first), (len(first), len(second))
    assert any("catalogue_productimage" in q["sql"] for q in first)
    # The same card either way (where it sits decides only its lazy picture).
    assert sorted(c.replace(LAZY, "") for c in _cards(by_price)) == sorted(
        c.replace(LAZY, "") for c in _cards(by_name)
    )
    assert _card_titles(by_name) == _titles(_ids(by_name))

    # Another listing showing some of them: only the others are rendered.
    heritage = _page(client, "/catalogue/", {"line": "Heritage", "sort_by": "name"})
    shown = _ids(heritage)
    new = [pk for pk in shown if pk not in _ids(by_price)]
    assert new and len(new) < len(shown)
    assert rendered[1:] == [new]
    assert _card_titles(heritage) == _titles(shown)


def test_cards_read_once_are_kept_by_the_process_until_the_version_moves(
    client, demo_catalogue, monkeypatch
):
    from django.core.cache import cache

    wallets = Category.objects.get(slug="wallets").get_absolute_url()
    first = _page(client, wallets, {"sort_by": "name"})
    asked: list[list[str]] = []
    get_many = cache.get_many

    def counted(keys, *args, **kwargs):
        asked.append([k for k in keys if k.startswith("mv-card:")])
        return get_many(keys, *args, **kwargs)

    monkeypatch.setattr(cache, "get_many", counted)
    again = _page(client, wallets, {"sort_by": "price-desc"})  # the same cards, kept
    assert _card_titles(again) == _titles(_ids(again))
    assert set(_ids(again)) == set(_ids(first)) and not any(asked)
    page_cache.catalogue_version_bump()  # a change: the kept cards are of the old version
    moved = _page(client, wallets, {"sort_by": "name"})
    assert _card_titles(moved) == _card_titles(first)
    assert any(asked)


def test_a_title_change_shows_on_listings_at_once_after_commit(
    client, demo_catalogue, django_capture_on_commit_callbacks, refresh_queued
):
    purse = Product.objects.get(upc="MV-HE-COI")
    wallets = Category.objects.get(slug="wallets").get_absolute_url()
    signed_in = Client()
    signed_in.force_login(UserFactory())
    heritage = {"line": "Heritage", "sort_by": "name"}
    for visitor in (client, signed_in):
        assert "Heritage coin purse" in _card_titles(_page(visitor, wallets))
        assert "Heritage coin purse" in _card_titles(_page(visitor, "/catalogue/", heritage))
    purse.title = "Heritage coin pouch"
    committed(django_capture_on_commit_callbacks, purse.save)
    assert refresh_queued  # not run: the card does not wait for the listing facts
    for visitor in (client, signed_in):
        for titles in (
            _card_titles(_page(visitor, wallets)),
            _card_titles(_page(visitor, "/catalogue/", heritage)),
        ):
            assert "Heritage coin pouch" in titles and "Heritage coin purse" not in titles


OUTAGES = {
    # Nothing answers: the catalogue version is "unavailable", nothing is kept.
    "down": ("get", "get_many", "set", "set_many", "add", "delete"),
    # The versions were read, then the cache stops answering (Redis going away mid-request):
    # reading and storing cards, counts and corrections fail.
    "failing": ("get_many", "set", "set_many"),
}


@pytest.mark.parametrize("outage", OUTAGES)
def test_listings_render_with_their_products_when_the_cache_fails(
    client, demo_catalogue, monkeypatch, outage
):
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    for name in OUTAGES[outage]:
        monkeypatch.setattr(cache, name, down)
    wallets = Category.objects.get(slug="wallets")
    for path, params in (
        (wallets.get_absolute_url(), {}),
        (wallets.get_absolute_url(), {"line": "Heritage", "sort_by": "price-desc"}),
        ("/search/", {"q": "walet"}),
    ):
        response = _page(client, path, params)
        assert "X-Page-Cache" not in response
        ids = _ids(response)
        assert ids and _card_titles(response) == _titles(ids), (path, params)
    assert response.context["searched_for"] == "wallet"  # typo corrected without the memo


def test_the_catalogue_version_is_read_once_per_page(client, demo_catalogue, monkeypatch):
    """Cards, menu, breadcrumbs and subcategories are all kept under it: one read serves them
    all. For a page the page cache may store, that is the page cache's own read (the page
    is stored under the version its chrome and cards were drawn with); a signed-in visitor's
    page reads it once itself."""
    from django.core.cache import cache

    wallets = Category.objects.get(slug="wallets")
    wallets.add_child(name="Slim wallets", is_public=True)
    reads: list[str] = []
    get, get_many = cache.get, cache.get_many

    def counted_get(key, *args, **kwargs):
        caller = sys._getframe(1).f_code.co_filename
        if key == page_cache.VERSION_KEY and "/django/" not in caller:  # not get_many's own
            reads.append(caller)
        return get(key, *args, **kwargs)

    def counted_get_many(keys, *args, **kwargs):
        if page_cache.VERSION_KEY in keys:
            reads.append(sys._getframe(1).f_code.co_filename)
        return get_many(keys, *args, **kwargs)

    page_cache.catalogue_version()  # the version exists, as on any running store
    monkeypatch.setattr(cache, "get", counted_get)
    monkeypatch.setattr(cache, "get_many", counted_get_many)
    response = _page(client, wallets.get_absolute_url())
    assert response["X-Page-Cache"] == "miss"
    assert "Slim wallets" in response.content.decode()
    assert [name.rsplit("/", 1)[-1] for name in reads] == ["page_cache.py"]
    reads.clear()
    signed_in = Client()
    signed_in.force_login(UserFactory())
    response = _page(signed_in, wallets.get_absolute_url(), {"sort_by": "name"})
    assert "Slim wallets" in response.content.decode()
    assert [name.rsplit("/", 1)[-1] for name in reads] == ["page_cache.py"], reads


# --- 7. the page chrome -------------------------------------------------------------------------


def _nav(response) -> str:
    found = re.search(r'<ul class="mv-nav__list">(.*?)</ul>', response.content.decode(), re.S)
    assert found, "no menu"
    return found.group(1)


def _marked(response) -> set[str]:
    """The menu links marked as the current page."""
    return set(re.findall(r'<a\b[^>]*?href="([^"]*)"[^>]*aria-current="page"', _nav(response)))


def test_the_menu_marks_the_current_page_and_only_it(
    client, demo_catalogue, customer, django_capture_on_commit_callbacks, refresh_queued
):
    wallets = Category.objects.get(slug="wallets")
    bags = Category.objects.get(slug="bags").get_absolute_url()
    slim = committed(
        django_capture_on_commit_callbacks,
        lambda: wallets.add_child(name="Slim wallets", is_public=True),
    )
    wallets = wallets.get_absolute_url()
    take_back = reverse("storefront:page", args=["take-back"])
    evergreen = "/catalogue/?line=Evergreen"
    pages = [
        (wallets, {wallets}),
        ("/catalogue/", {"/catalogue/"}),
        (evergreen, {evergreen}),
        (take_back, {take_back}),
        (slim.get_absolute_url(), {wallets}),  # a subcategory marks its top-level category
        (bags + "?line=Evergreen", {bags, evergreen}),
        ("/catalogue/?line=Heritage", set()),
        ("/search/?q=wallet", set()),
        ("/", set()),
        (reverse("storefront:page", args=["care"]), set()),
    ]
    signed_in = Client()
    signed_in.force_login(customer)
    # Anonymous pages in one order (each rendered, its menu kept), then a signed-in customer's
    # (never page-cached: each menu served from the chrome cache) in the other.
    for visitor, order in ((client, pages), (signed_in, pages[::-1]), (client, pages)):
        for path, marked in order:
            assert _marked(_page(visitor, path)) == marked, path


def test_a_renamed_category_shows_in_the_menu_at_once_after_commit(
    client, demo_catalogue, customer, django_capture_on_commit_callbacks, refresh_queued
):
    belts = Category.objects.get(slug="belts")
    signed_in = Client()
    signed_in.force_login(customer)
    pages = ("/catalogue/", reverse("storefront:page", args=["care"]), "/basket/")
    for visitor in (client, signed_in):
        for path in pages:
            assert ">Belts</a>" in _nav(_page(visitor, path))
    belts.name = "Belts and braces"
    committed(django_capture_on_commit_callbacks, belts.save)
    for visitor in (client, signed_in):
        for path in pages:
            menu = _nav(_page(visitor, path))
            assert ">Belts and braces</a>" in menu and ">Belts</a>" not in menu, path


def test_pages_the_cache_does_not_serve_read_the_menus_version_once_a_second(
    client, demo_catalogue, monkeypatch
):
    """The basket (never served from the page cache) keys its header's menu on the catalogue
    version as this process read it within MENU_VERSION_READ_SECONDS: one read for many
    pages; a change made by another process (the version moved in the cache, the row changed
    without this process's signals) shows once that time is up."""
    from django.core.cache import cache

    reads = []
    real_get = cache.get

    def counted(key, *args, **kwargs):
        if key == page_cache.VERSION_KEY:
            reads.append(key)
        return real_get(key, *args, **kwargs)

    page_cache.catalogue_version()  # the version exists, as on any running store
    monkeypatch.setattr(cache, "get", counted)
    clock = [1000.0]
    monkeypatch.setattr(page_cache.MENU_VERSION, "clock", lambda: clock[0])
    page_cache.MENU_VERSION.forget()
    for _ in range(3):
        assert ">Belts</a>" in _nav(_page(client, "/basket/"))
    assert len(reads) == 1

    Category.objects.filter(slug="belts").update(name="Belts and braces")  # elsewhere
    cache.set(page_cache.VERSION_KEY, "moved by another process", timeout=None)
    clock[0] += page_cache.MENU_VERSION_READ_SECONDS / 2
    assert ">Belts</a>" in _nav(_page(client, "/basket/"))  # within the second: as read
    clock[0] += page_cache.MENU_VERSION_READ_SECONDS
    menu = _nav(_page(client, "/basket/"))
    assert ">Belts and braces</a>" in menu and ">Belts</a>" not in menu
    assert len(reads) == 2


def _crumbs(response) -> list[str]:
    found = re.search(r'<ol class="breadcrumb">(.*?)</ol>', response.content.decode(), re.S)
    return re.findall(r"<a [^>]*>([^<]*)</a>", found.group(1))


def _chips(response) -> list[str]:
    found = re.search(
        r'<ul class="mv-chips mv-subcats"[^>]*>(.*?)</ul>', response.content.decode(), re.S
    )
    return re.findall(r'class="mv-chip"[^>]*>([^<]*)</a>', found.group(1)) if found else []


def test_a_category_page_shows_its_ancestors_and_subcategories_as_they_are(
    client, demo_catalogue, customer, django_capture_on_commit_callbacks, refresh_queued
):
    capture = django_capture_on_commit_callbacks
    wallets = Category.objects.get(slug="wallets")
    slim = committed(capture, lambda: wallets.add_child(name="Slim wallets", is_public=True))
    signed_in = Client()
    signed_in.force_login(customer)
    for visitor in (client, signed_in):
        assert _chips(_page(visitor, wallets.get_absolute_url())) == ["Slim wallets"]
        assert _crumbs(_page(visitor, slim.get_absolute_url())) == ["Home", "Shop", "Wallets"]
        assert _chips(_page(visitor, slim.get_absolute_url())) == []
    committed(capture, lambda: wallets.add_child(name="Travel wallets", is_public=True))
    wallets.refresh_from_db()
    wallets.name = "Purses and wallets"
    committed(capture, wallets.save)
    for visitor in (client, signed_in):
        page = _page(visitor, wallets.get_absolute_url(), {"sort_by": "name"})
        assert _chips(page) == ["Slim wallets", "Travel wallets"]
        crumbs = _crumbs(_page(visitor, slim.get_absolute_url(), {"sort_by": "name"}))
        assert crumbs == ["Home", "Shop", "Purses and wallets"]


def _signed_in_header(html: str) -> bool:
    signed_in = 'id="logout_link"' in html and ">Account</span>" in html
    signed_out = 'id="login_link"' in html and ">Sign in</span>" in html
    assert signed_in != signed_out, "the header shows both or neither"
    return signed_in


def test_signed_in_and_signed_out_headers_each_show_their_own_links(
    client, demo_catalogue, customer
):
    signed_in = Client()
    signed_in.force_login(customer)
    pages = ["/catalogue/", "/", reverse("storefront:page", args=["take-back"]), "/basket/"]
    for path in pages + pages[::-1]:
        for visitor, expected in ((client, False), (signed_in, True), (client, False)):
            html = _page(visitor, path).content.decode()
            assert _signed_in_header(html) is expected, path


class _NextYear(datetime):
    """The clock a year on ({% now %} reads datetime.now)."""

    @classmethod
    def now(cls, tz=None):
        today = datetime.now(tz)
        return today.replace(year=today.year + 1, day=min(today.day, 28))


def _top_and_bottom(response) -> tuple[str, str]:
    html = response.content.decode()
    topbar = re.search(r'<aside class="mv-topbar".*?</aside>', html, re.S).group(0)
    footer = re.search(r'<footer class="mv-footer">.*?</footer>', html, re.S).group(0)
    return topbar, footer


def test_the_top_bar_and_footer_are_on_every_page_and_the_footer_follows_the_year(
    client, demo_catalogue, customer, monkeypatch
):
    signed_in = Client()
    signed_in.force_login(customer)
    year = datetime.now(timezone.get_current_timezone()).year
    pages = ["/catalogue/", "/", reverse("storefront:page", args=["care"]), "/basket/"]
    seen = set()
    for visitor in (client, signed_in):
        for path in pages:
            topbar, footer = _top_and_bottom(_page(visitor, path))
            assert "Made by hand in Walsall since 1962" in topbar
            assert f"1962&ndash;{year} Marlow &amp; Vale" in footer
            seen.add((topbar, footer))
    assert len(seen) == 1  # the same on every page, signed in or not

    monkeypatch.setattr(defaulttags, "datetime", _NextYear)
    monkeypatch.setattr(storefront_tags, "datetime", _NextYear)  # the footer frame's key
    for visitor in (client, signed_in):
        _, footer = _top_and_bottom(_page(visitor, "/catalogue/", {"sort_by": "name"}))
        assert f"1962&ndash;{year + 1} Marlow &amp; Vale" in footer


def test_while_the_cache_is_down_a_renamed_category_shows_in_the_menu(
    client, demo_catalogue, monkeypatch
):
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    for name in OUTAGES["down"]:
        monkeypatch.setattr(cache, name, down)
    assert ">Belts</a>" in _nav(_page(client, "/catalogue/"))
    belts = Category.objects.get(slug="belts")
    belts.name = "Belts and braces"
    belts.save()
    assert ">Belts and braces</a>" in _nav(_page(client, "/catalogue/", {"sort_by": "name"}))


# --- 8. the filter selects ----------------------------------------------------------------------


class _Tags(HTMLParser):
    """A select's markup as (tag, attributes) and text, whitespace between tags aside."""

    def __init__(self):
        super().__init__()
        self.parts: list = []

    def handle_starttag(self, tag, attrs):
        self.parts.append((tag, sorted(attrs)))

    def handle_endtag(self, tag):
        self.parts.append(("/", tag))

    def handle_data(self, data):
        if data.strip():
            self.parts.append(("text", data))


def _parts(html: str) -> list:
    parser = _Tags()
    parser.feed(str(html))
    parser.close()
    return parser.parts


TRICKY = 'Heritage <Limited> & "Co"'
TRICKY_HTML = "Heritage &lt;Limited&gt; &amp; &quot;Co&quot;"


def test_filter_selects_are_djangos_select_markup_escaped(
    client, demo_catalogue, django_capture_on_commit_callbacks
):
    line = AttributeOptionGroup.objects.get(name="Line")
    committed(
        django_capture_on_commit_callbacks,
        lambda: AttributeOption.objects.create(group=line, option=TRICKY),
    )
    form = CatalogueFilterForm({"line": TRICKY, "sort_by": "price-desc", "tanning": ""})
    assert form.is_valid(), form.errors
    form.show_counts(selectors.filter_counts(filters=form.filters()))
    for name in ("tanning", "certification", "line", "sort_by"):
        bound = form[name]
        assert isinstance(bound.field.widget, QuickSelect)
        quick = str(bound)
        django = bound.as_widget(widget=forms.Select(choices=bound.field.choices))
        assert _parts(quick) == _parts(django), name
        assert quick.count(" selected") == 1, name
    assert f'<option value="{TRICKY_HTML}" selected>{TRICKY_HTML} (0)</option>' in str(form["line"])
    assert '<option value="price-desc" selected>Price, high to low</option>' in str(form["sort_by"])
    assert '<option value="" selected>All</option>' in str(form["tanning"])  # nothing chosen
    assert '<option value="" selected>All</option>' in str(form["certification"])

    html = _page(client, "/catalogue/", {"line": TRICKY}).content.decode()
    assert f'<option value="{TRICKY_HTML}" selected>{TRICKY_HTML} (0)</option>' in html
    assert "<Limited>" not in html and TRICKY not in html
    assert '<option value="Evergreen">Evergreen (15)</option>' in html
