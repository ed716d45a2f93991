"""Listings filter, sort and count on the product row's listing facts (issue 20): the lowest
price, the filter attributes' options and the categories with their ancestors, written by the
refresh that writes the search document (services.search_refresh) and marked dirty by
shop.catalogue.receivers. What is derived from them (a page of ids with its count, the counts
beside the filters, the filter options, typo corrections) must match the catalogue as it is,
checked here against the products counted by hand from their own rows."""

import itertools
import json
import math
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from shop.catalogue import selectors
from shop.catalogue.models import (
    AttributeOption,
    AttributeOptionGroup,
    Category,
    ListingEntry,
    Product,
    ProductAttribute,
    ProductClass,
)
from shop.catalogue.selectors import FILTER_ATTRIBUTES, SORTS
from shop.catalogue.services import search_refresh
from shop.catalogue.tasks import refresh_search_documents
from shop.partner.models import Partner, StockRecord
from tests.factories import committed

pytestmark = pytest.mark.django_db

PER_PAGE = 12  # settings.OSCAR_PRODUCTS_PER_PAGE


@pytest.fixture
def refresh_at_commit(monkeypatch):
    """The refresh task queued at commit runs at once, in this process."""
    monkeypatch.setattr(refresh_search_documents, "delay", lambda: refresh_search_documents())


@pytest.fixture
def refresh_queued(monkeypatch) -> list[str]:
    """The refresh task queued at commit is only recorded (no worker): the facts stay as they
    were until the test runs search_refresh itself."""
    queued: list[str] = []
    monkeypatch.setattr(refresh_search_documents, "delay", lambda: queued.append("refresh"))
    return queued


# --- the catalogue counted by hand, from the products' own rows ------------------------------


def _facts_by_hand() -> dict[int, dict]:
    """Each browsable product's price (lowest of its own stock records, else of its
    variants'), filter options (by filter key) and categories with their ancestors, read from
    stock records, attribute values and categories, not from the listing facts."""
    facts = {}
    products = Product.objects.browsable().prefetch_related(
        "stockrecords",
        "children__stockrecords",
        "attribute_values__attribute",
        "attribute_values__value_option",
        "categories",
    )
    codes = {code: key for key, code in FILTER_ATTRIBUTES.items()}
    for product in products:
        own = [s.price for s in product.stockrecords.all() if s.price is not None]
        variants = [
            s.price
            for child in product.children.all()
            for s in child.stockrecords.all()
            if s.price is not None
        ]
        options = {
            codes[v.attribute.code]: v.value_option.option
            for v in product.attribute_values.all()
            if v.attribute.code in codes and v.value_option is not None
        }
        categories = {a.pk for c in product.categories.all() for a in c.get_ancestors_and_self()}
        facts[product.pk] = {
            "product": product,
            "price": min(own) if own else min(variants) if variants else None,
            "options": options,
            "categories": categories,
        }
    return facts


def _listing_by_hand(facts, *, category=None, filters=None, sort="featured") -> list[int]:
    chosen = {k: v for k, v in (filters or {}).items() if v}
    rows = [
        f
        for f in facts.values()
        if (category is None or category.pk in f["categories"])
        and all(f["options"].get(k) == v for k, v in chosen.items())
    ]
    assert all(f["price"] is not None for f in rows)  # no product without a price here
    # Stable sorts, last key first (SORTS in selectors).
    rows.sort(key=lambda f: f["product"].pk)
    if sort == "featured":
        rows.sort(key=lambda f: f["product"].date_created, reverse=True)
        rows.sort(key=lambda f: f["options"].get("line") == "Evergreen", reverse=True)
    elif sort == "newest":
        rows.sort(key=lambda f: f["product"].date_created, reverse=True)
    elif sort == "price-asc":
        rows.sort(key=lambda f: f["price"])
    elif sort == "price-desc":
        rows.sort(key=lambda f: f["price"], reverse=True)
    elif sort == "name":
        rows.sort(key=lambda f: f["product"].title)
    return [f["product"].pk for f in rows]


def _counts_by_hand(facts, *, ids=None, chosen=None) -> dict[str, dict[str, int]]:
    """For each filter, each value's products among ``ids`` (all when None) that meet the
    chosen filters other than that one."""
    chosen = {k: v for k, v in (chosen or {}).items() if v}
    counts: dict[str, dict[str, int]] = {key: {} for key in FILTER_ATTRIBUTES}
    for pk, f in facts.items():
        if ids is not None and pk not in ids:
            continue
        for key in FILTER_ATTRIBUTES:
            others = {k: v for k, v in chosen.items() if k != key}
            if key in f["options"] and all(f["options"].get(k) == v for k, v in others.items()):
                value = f["options"][key]
                counts[key][value] = counts[key].get(value, 0) + 1
    return counts


def _in_category(facts, category) -> set[int]:
    return {pk for pk, f in facts.items() if category.pk in f["categories"]}


def _ids(response) -> list[int]:
    """The page's products (ids, in order) as the view chose them (a page rendered, not one
    the page cache served)."""
    assert response.status_code == 200
    assert response.context is not None, "served from the page cache"
    return list(response.context["products"])


def _cheapest() -> int:
    return selectors.listing_page(offset=0, limit=1, sort="price-asc")[0][0]


def _dirty() -> set[str]:
    return set(Product.objects.filter(search_dirty=True).values_list("upc", flat=True))


def _record(upc: str) -> StockRecord:
    return StockRecord.objects.get(product__upc=upc)


# --- 1. what the refresh writes ----------------------------------------------------------------


def test_listing_price_is_the_lowest_own_stock_price_else_the_lowest_variants(
    demo_catalogue, django_capture_on_commit_callbacks, refresh_at_commit
):
    capture = django_capture_on_commit_callbacks
    partner = Partner.objects.get()
    bifold = Product.objects.get(upc="MV-EG-BIF")  # a parent: its variants hold the stock
    variants = list(bifold.children.order_by("pk"))

    def reprice():
        for child, price in zip(variants, ("99.00", "72.50", "88.00"), strict=True):
            record = child.stockrecords.get()
            record.price = Decimal(price)
            record.save()

    committed(capture, reprice)
    bifold.refresh_from_db()
    assert bifold.listing_price == Decimal("72.50")
    for child, price in zip(variants, ("99.00", "72.50", "88.00"), strict=True):
        child.refresh_from_db()
        assert child.listing_price == Decimal(price)  # a variant's own stock

    # A product's own stock comes first, even dearer than its variants'.
    committed(
        capture,
        lambda: StockRecord.objects.create(
            product=bifold, partner=partner, partner_sku="BIF-OWN", price=Decimal("120.00")
        ),
    )
    bifold.refresh_from_db()
    assert bifold.listing_price == Decimal("120.00")

    # The lowest of several own records.
    passport = Product.objects.get(upc="MV-EG-PAS")  # £65
    committed(
        capture,
        lambda: StockRecord.objects.create(
            product=passport, partner=partner, partner_sku="PAS-2", price=Decimal("59.00")
        ),
    )
    passport.refresh_from_db()
    assert passport.listing_price == Decimal("59.00")

    # No stock at all: no price.
    bare = committed(
        capture,
        lambda: Product.objects.create(
            product_class=passport.product_class, title="Evergreen pen roll", upc="MV-EG-PEN"
        ),
    )
    bare.refresh_from_db()
    assert bare.listing_price is None and not bare.search_dirty
    for pk, f in _facts_by_hand().items():
        assert Product.objects.get(pk=pk).listing_price == f["price"], f["product"].upc


def test_listing_facets_hold_only_the_three_filter_attributes(
    demo_catalogue, django_capture_on_commit_callbacks, refresh_at_commit
):
    # Another option attribute of the same class, set on a product: not a filter.
    product_class = ProductClass.objects.get()
    finish = AttributeOptionGroup.objects.create(name="Finish")
    waxed = AttributeOption.objects.create(group=finish, option="Waxed")
    ProductAttribute.objects.create(
        product_class=product_class,
        name="Finish",
        code="finish",
        type="option",
        option_group=finish,
    )
    tote = Product.objects.get(upc="MV-HE-TOT")
    tote.attr.finish = waxed
    committed(django_capture_on_commit_callbacks, tote.save)
    tote = Product.objects.get(upc="MV-HE-TOT")
    assert tote.attr.finish == waxed  # the value was written
    assert tote.listing_facets == {
        "line": "Heritage",
        "certification": "None",
        "tanning_method": "Chrome-tanned",
    }
    for pk, f in _facts_by_hand().items():
        product = Product.objects.get(pk=pk)
        assert product.listing_facets == {
            FILTER_ATTRIBUTES[k]: v for k, v in f["options"].items()
        }, product.upc
        # Colour, tannery, origin... (text and numbers) never: only the three options.
        assert set(product.listing_facets) <= set(FILTER_ATTRIBUTES.values())
    variant = Product.objects.get(upc="MV-EG-BIF-01")  # its attributes are colour and such
    assert variant.attribute_values.exists() and variant.listing_facets == {}


def test_categories_include_their_ancestors_and_a_variant_has_its_parents(
    client, demo_catalogue, django_capture_on_commit_callbacks, refresh_at_commit
):
    capture = django_capture_on_commit_callbacks
    wallets = Category.objects.get(slug="wallets")
    bags = Category.objects.get(slug="bags")
    slim = committed(capture, lambda: wallets.add_child(name="Slim wallets", is_public=True))
    pocket = committed(capture, lambda: slim.add_child(name="Pocket slims", is_public=True))
    long_wallet = Product.objects.get(upc="MV-EG-LNG")
    committed(capture, lambda: long_wallet.categories.set([pocket]))  # out of Wallets itself
    long_wallet.refresh_from_db()
    assert sorted(long_wallet.listing_categories) == sorted([wallets.pk, slim.pk, pocket.pk])
    # Listed on its own category's page and on each ancestor's, not elsewhere.
    listed = {c: _ids(client.get(c.get_absolute_url())) for c in (pocket, slim, wallets, bags)}
    assert listed[pocket] == [long_wallet.pk]
    assert long_wallet.pk in listed[slim] and long_wallet.pk in listed[wallets]
    assert long_wallet.pk not in listed[bags]

    bifold = Product.objects.get(upc="MV-EG-BIF")
    committed(capture, lambda: bifold.categories.add(slim))
    bifold.refresh_from_db()
    assert sorted(bifold.listing_categories) == sorted([wallets.pk, slim.pk])
    # A variant has no categories of its own: the refresh gives it its parent's. (A parent's
    # change does not mark its variants: no listing shows a variant, so they are refreshed
    # here by id.)
    children = list(bifold.children.all())
    assert children and not any(child.categories.exists() for child in children)
    search_refresh(product_ids=[child.pk for child in children])
    for child in children:
        child.refresh_from_db()
        assert sorted(child.listing_categories) == sorted(bifold.listing_categories)
    assert bifold.pk in _ids(client.get(slim.get_absolute_url()))
    for pk, f in _facts_by_hand().items():
        assert set(Product.objects.get(pk=pk).listing_categories) == f["categories"]


# --- 2. what marks a product dirty --------------------------------------------------------------


def test_a_price_change_a_new_and_a_deleted_record_mark_the_product_for_the_refresh(
    client, demo_catalogue, django_capture_on_commit_callbacks, refresh_queued
):
    capture = django_capture_on_commit_callbacks
    assert not _dirty()
    holdall = Product.objects.get(upc="MV-HE-HOL")  # £495: among the dearest
    record = _record("MV-HE-HOL")
    record.price = Decimal("9.00")
    committed(capture, record.save)
    assert _dirty() == {"MV-HE-HOL"} and refresh_queued
    assert _cheapest() != holdall.pk  # the listing sorts on the facts: not refreshed yet
    assert search_refresh() == 1 and not _dirty()
    assert _cheapest() == holdall.pk
    assert _ids(client.get("/catalogue/", {"sort_by": "price-asc"}))[0] == holdall.pk

    # A variant's price: its parent is listed, and goes dirty with it.
    tote = Product.objects.get(upc="MV-EG-TOT")
    record = tote.children.order_by("pk").first().stockrecords.get()
    record.price = Decimal("5.00")
    committed(capture, record.save)
    assert _dirty() == {"MV-EG-TOT", record.product.upc}
    search_refresh()
    assert _cheapest() == tote.pk

    # A new record, cheaper than anything.
    long_wallet = Product.objects.get(upc="MV-EG-LNG")
    new = committed(
        capture,
        lambda: StockRecord.objects.create(
            product=long_wallet,
            partner=Partner.objects.get(),
            partner_sku="LNG-2",
            price=Decimal("3.00"),
            num_in_stock=1,
        ),
    )
    assert _dirty() == {"MV-EG-LNG"}
    search_refresh()
    assert _cheapest() == long_wallet.pk

    # The record deleted: back to its other record's £125.
    committed(capture, new.delete)
    assert _dirty() == {"MV-EG-LNG"}
    search_refresh()
    assert _cheapest() == tote.pk
    assert Product.objects.get(pk=long_wallet.pk).listing_price == Decimal("125.00")

    # A record moved to another product: both go dirty.
    record = _record("MV-EG-PAS")
    record.product = Product.objects.get(upc="MV-HE-PAS")
    committed(capture, record.save)
    assert _dirty() == {"MV-EG-PAS", "MV-HE-PAS"}
    search_refresh()
    assert Product.objects.get(upc="MV-EG-PAS").listing_price is None


def test_allocating_stock_or_changing_its_level_marks_nothing(
    demo_catalogue, django_capture_on_commit_callbacks, refresh_queued
):
    record = _record("MV-EG-PAS")
    allocated = record.num_allocated or 0

    def sell():
        record.allocate(2)  # an order placed
        record.num_in_stock += 5  # a delivery booked in
        record.save()

    committed(django_capture_on_commit_callbacks, sell)
    assert StockRecord.objects.get(pk=record.pk).num_allocated == allocated + 2
    assert not _dirty() and not refresh_queued


# --- 3. a page of ids with its count ------------------------------------------------------------

FILTER_COMBOS = [
    {},
    {"line": "Evergreen"},
    {"tanning": "Chrome-tanned", "certification": "None"},
    {
        "line": "Heritage",
        "tanning": "Chrome-tanned",
        "certification": "Leather Working Group Silver",
    },
    {"line": "Evergreen", "tanning": "Chrome-free (wet-white)"},
]


def test_listing_page_is_product_lists_order_for_every_sort_filter_and_search(demo_catalogue):
    facts = _facts_by_hand()
    categories = [None, *Category.objects.filter(slug__in=["wallets", "bags"]).order_by("pk")]
    for category in categories:
        for filters in FILTER_COMBOS:
            for sort in SORTS:
                where = (getattr(category, "slug", None), filters, sort)
                expected = _listing_by_hand(facts, category=category, filters=filters, sort=sort)
                listed = list(
                    selectors.product_list(
                        category=category, filters=filters, sort=sort
                    ).values_list("pk", flat=True)
                )
                assert listed == expected, where
                ids, count = selectors.listing_page(
                    offset=0, limit=1000, category=category, filters=filters, sort=sort
                )
                assert ids == expected, where
                assert count == len(expected), where
                assert selectors.listing_count(category=category, filters=filters) == len(expected)
                for offset in range(0, len(expected), PER_PAGE):  # page by page
                    page = selectors.listing_page(
                        offset=offset, limit=PER_PAGE, category=category, filters=filters, sort=sort
                    )
                    assert page == (expected[offset : offset + PER_PAGE], len(expected)), where
    # A search: the same order as product_list (relevance, then the sort), the same count;
    # in a category too, and with a group of synonyms ("billfold" is also "wallet").
    wallets = Category.objects.get(slug="wallets")
    for query in ("wallet", "walet heritage", "leather", "billfold"):
        plan = selectors.search_plan(query)
        for category, filters, sort in itertools.product((None, wallets), FILTER_COMBOS[:3], SORTS):
            listed = list(
                selectors.product_list(
                    category=category, plan=plan, filters=filters, sort=sort
                ).values_list("pk", flat=True)
            )
            ids, count = selectors.listing_page(
                offset=0, limit=1000, category=category, plan=plan, filters=filters, sort=sort
            )
            assert ids == listed and count == len(listed), (query, category, filters, sort)
            assert selectors.listing_count(category=category, plan=plan, filters=filters) == len(
                listed
            )
            if len(listed) > 2:  # a page inside the listing
                page, _ = selectors.listing_page(
                    offset=1, limit=2, category=category, plan=plan, filters=filters, sort=sort
                )
                assert page == listed[1:3], (query, category, filters, sort)
        assert selectors.listing_count(plan=plan) > 0, query
    assert len(selectors.search_plan("billfold").groups[0]) > 1


def test_a_page_statement_is_compiled_once_per_shape(demo_catalogue):
    """A page's SQL is compiled once per shape and run with each request's values: other
    categories, filter values and words reuse it and still get their own products."""
    selectors._page_statements.clear()
    categories = list(Category.objects.browsable().filter(depth=1))
    for category in categories:
        for line in ("Evergreen", "Heritage"):
            ids, _ = selectors.listing_page(
                offset=0, limit=1000, category=category, filters={"line": line}, sort="name"
            )
            expected = selectors.product_list(
                category=category, filters={"line": line}, sort="name"
            ).values_list("pk", flat=True)
            assert ids == list(expected), (category.slug, line)
    assert len(selectors._page_statements) == 1
    selectors._search_statements.clear()
    for query in ("wallet", "belt", "bag"):
        plan = selectors.search_plan(query)
        expected = list(selectors.product_list(plan=plan).values_list("pk", flat=True))
        # First its counts and page together (counts not kept yet), then the page alone.
        for _ in range(2):
            ids, _ = selectors.listing_page(offset=0, limit=1000, plan=plan, sort="featured")
            assert ids == expected and ids, query
    assert len(selectors._page_statements) == 2
    assert len(selectors._search_statements) == 1


def test_a_page_past_the_end_is_empty_with_the_listings_count(demo_catalogue):
    total = Product.objects.browsable().count()
    assert selectors.listing_page(offset=total, limit=PER_PAGE) == ([], total)
    assert selectors.listing_page(offset=total - 1, limit=PER_PAGE)[1] == total
    assert selectors.listing_page(offset=0, limit=PER_PAGE, filters={"line": "Nope"}) == ([], 0)


def _listings(client) -> dict[str, tuple[str, dict, list[int]]]:
    """Three listings (all products filtered, a category, a search), each with its products
    in the order shown."""
    facts = _facts_by_hand()
    wallets = Category.objects.get(slug="wallets")
    plan = selectors.search_plan("leather")
    return {
        "catalogue": (
            "/catalogue/",
            {"line": "Evergreen", "sort_by": "price-desc"},
            _listing_by_hand(facts, filters={"line": "Evergreen"}, sort="price-desc"),
        ),
        "category": (
            wallets.get_absolute_url(),
            {"sort_by": "name"},
            _listing_by_hand(facts, category=wallets, sort="name"),
        ),
        "search": (
            "/search/",
            {"q": "leather"},
            list(selectors.product_list(plan=plan).values_list("pk", flat=True)),
        ),
    }


@pytest.mark.parametrize("listing", ["catalogue", "category", "search"])
def test_page_last_shows_the_last_page_and_past_it_is_a_404(client, demo_catalogue, listing):
    path, params, expected = _listings(client)[listing]
    last = math.ceil(len(expected) / PER_PAGE)
    assert len(expected) > PER_PAGE or listing == "category"
    for number in range(1, last + 1):
        response = client.get(path, {**params, "page": number})
        assert _ids(response) == expected[(number - 1) * PER_PAGE : number * PER_PAGE]
        assert response.context["paginator"].count == len(expected)
    response = client.get(path, {**params, "page": "last"})
    assert _ids(response) == expected[(last - 1) * PER_PAGE :]
    assert response.context["page_obj"].number == last
    assert response.context["paginator"].count == len(expected)
    assert client.get(path, {**params, "page": last + 1}).status_code == 404


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5"])
@pytest.mark.parametrize("listing", ["catalogue", "category", "search"])
def test_page_numbers_that_are_no_page_are_a_404(client, demo_catalogue, listing, page):
    # tests/storefront/test_pages.py has /catalogue/ with "abc" and 99999, /search/ with -1.
    path, params, _ = _listings(client)[listing]
    assert client.get(path, {**params, "page": page}).status_code == 404


def test_page_last_of_an_empty_listing_is_its_only_page(client, demo_catalogue):
    response = client.get("/search/", {"q": "xqzt", "page": "last"})
    assert response.status_code == 200
    assert response.context["paginator"].count == 0 and _ids(response) == []


# --- 4. the counts beside the filters and the filter options -----------------------------------


def test_filter_counts_are_the_products_counted_by_hand(demo_catalogue):
    facts = _facts_by_hand()
    bags = Category.objects.get(slug="bags")
    wallets = Category.objects.get(slug="wallets")
    for category in (None, bags, wallets):
        ids = None if category is None else _in_category(facts, category)
        for chosen in FILTER_COMBOS:
            counted = selectors.filter_counts(category=category, filters=chosen)
            assert counted == _counts_by_hand(facts, ids=ids, chosen=chosen), (category, chosen)
    # Bags with one line chosen: that filter's own values are counted under the others only
    # (choosing Heritage instead would leave 4), the other filters' under the line chosen.
    counted = selectors.filter_counts(category=bags, filters={"line": "Evergreen"})
    assert counted["line"] == {"Evergreen": 4, "Heritage": 4}
    assert counted["certification"] == {"Leather Working Group Gold": 4}
    assert counted["tanning"] == {"Vegetable-tanned": 3, "Chrome-free (wet-white)": 1}
    # Within a search.
    plan = selectors.search_plan("wallet")
    ids = set(selectors.product_list(plan=plan).values_list("pk", flat=True))
    assert ids
    for chosen in FILTER_COMBOS[:3]:
        assert selectors.filter_counts(plan=plan, filters=chosen) == _counts_by_hand(
            facts, ids=ids, chosen=chosen
        )


def test_filter_counts_follow_a_changed_attribute_after_the_refresh(
    demo_catalogue, django_capture_on_commit_callbacks, refresh_at_commit
):
    bags = Category.objects.get(slug="bags")
    chosen = {"tanning": "Chrome-tanned"}
    before = selectors.filter_counts(category=bags, filters=chosen)
    assert before["line"] == {"Heritage": 4}
    with CaptureQueriesContext(connection) as queries:  # kept under the listing version
        assert selectors.filter_counts(category=bags, filters=chosen) == before
    assert len(queries) == 0

    tote = Product.objects.get(upc="MV-HE-TOT")
    tote.attr.line = AttributeOption.objects.get(group__name="Line", option="Evergreen")
    committed(django_capture_on_commit_callbacks, tote.save)
    after = selectors.filter_counts(category=bags, filters=chosen)
    assert after["line"] == {"Heritage": 3, "Evergreen": 1}
    assert after == _counts_by_hand(
        _facts_by_hand(), ids=_in_category(_facts_by_hand(), bags), chosen=chosen
    )


def test_a_new_option_is_offered_at_once_and_after_commit(
    demo_catalogue, django_capture_on_commit_callbacks
):
    line = AttributeOptionGroup.objects.get(name="Line")
    assert selectors.filter_options()["line"] == ["Evergreen", "Heritage"]
    with django_capture_on_commit_callbacks(execute=True):
        AttributeOption.objects.create(group=line, option="Workshop seconds")
        # At once, for this transaction's own reads.
        assert selectors.filter_options()["line"] == ["Evergreen", "Heritage", "Workshop seconds"]
    connection.run_on_commit.clear()

    def read_elsewhere(seen: list) -> None:
        """Another request, on its own connection, reads the options while this transaction
        is open: it sees them as committed (not this test's) and keeps them under the listing
        version of the moment."""
        try:
            seen.append(selectors.filter_options())
        finally:
            connections.close_all()

    seen: list = []
    with django_capture_on_commit_callbacks(execute=True):
        AttributeOption.objects.create(group=line, option="Samples")
        reader = threading.Thread(target=read_elsewhere, args=(seen,))
        reader.start()
        reader.join(timeout=30)
        assert seen and "Samples" not in seen[0]["line"]
    connection.run_on_commit.clear()
    # After the commit, what the other request kept meanwhile is not served.
    assert selectors.filter_options()["line"] == [
        "Evergreen",
        "Heritage",
        "Workshop seconds",
        "Samples",
    ]


# --- 5. typo corrections ------------------------------------------------------------------------


def test_typo_corrections_are_kept_until_the_vocabulary_changes(
    demo_catalogue, django_capture_on_commit_callbacks, refresh_at_commit
):
    plan = selectors.search_plan("walet")
    assert plan.was_corrected and plan.corrected_text == "wallet"
    assert not selectors.search_plan("satchle").was_corrected  # no word near it yet
    with CaptureQueriesContext(connection) as queries:  # both answers kept
        assert selectors.search_plan("walet").corrected_text == "wallet"
        assert not selectors.search_plan("satchle").was_corrected
    assert len(queries) == 0

    committed(
        django_capture_on_commit_callbacks,
        lambda: Product.objects.create(
            product_class=ProductClass.objects.get(), title="Evergreen satchel", upc="MV-EG-SAT"
        ),
    )
    plan = selectors.search_plan("satchle")
    assert plan.was_corrected and plan.corrected_text == "satchel"
    assert selectors.search_plan("walet").corrected_text == "wallet"
    satchel = Product.objects.get(upc="MV-EG-SAT")
    assert list(selectors.product_list(plan=plan).values_list("pk", flat=True)) == [satchel.pk]


def test_did_you_mean_is_kept_until_the_vocabulary_changes(
    demo_catalogue, django_capture_on_commit_callbacks, refresh_at_commit
):
    """A search that finds nothing asks for a suggestion; shoppers' misses repeat, so it is
    kept under the listing version like the typo corrections, and follows a new product."""
    wallets = Category.objects.get(slug="wallets")
    plan = selectors.search_plan("brdle satchil")  # two words no product has both of
    assert selectors.listing_count(plan=plan) == 0
    first = selectors.did_you_mean(plan)
    with CaptureQueriesContext(connection) as queries:
        assert selectors.did_you_mean(plan) == first
    assert len(queries) == 0
    in_wallets = selectors.did_you_mean(plan, category=wallets, filters={"line": "Heritage"})
    assert "satchel" not in first and "satchel" not in in_wallets

    committed(
        django_capture_on_commit_callbacks,
        lambda: Product.objects.create(
            product_class=ProductClass.objects.get(), title="Bridle satchel", upc="MV-HE-SAT"
        ),
    )
    assert selectors.did_you_mean(plan) == "bridle satchel"  # the new product's words


def test_typo_corrections_read_once_are_kept_by_the_process(demo_catalogue, monkeypatch):
    from django.core.cache import cache

    assert selectors.search_plan("walet bilfold").corrected_text == "wallet billfold"
    assert selectors.search_plan("walet bilfold").corrected_text == "wallet billfold"
    asked = []
    monkeypatch.setattr(cache, "get_many", lambda keys, *a, **k: asked.append(keys) or {})
    with CaptureQueriesContext(connection) as queries:
        assert selectors.search_plan("bilfold walet").corrected_text == "billfold wallet"
    assert not asked and len(queries) == 0
    selectors.listing_version_seen(None)  # the process forgets what it kept
    with CaptureQueriesContext(connection) as queries:
        assert selectors.search_plan("walet").corrected_text == "wallet"
    assert asked and len(queries) == 1  # nothing kept, the cache answered nothing: one lookup


def test_in_a_request_what_is_looked_up_is_kept_before_the_cache_has_it(demo_catalogue):
    """During a request the cache gets the corrections only at its end (shop.common.cache_writes):
    the process keeps them meanwhile, so the same request never looks them up twice."""
    from django.core.cache import cache

    from shop.common import cache_writes

    with cache_writes.batched():
        with CaptureQueriesContext(connection) as queries:
            assert selectors.search_plan("walet").corrected_text == "wallet"
            assert selectors.search_plan("walet").corrected_text == "wallet"
        assert len(queries) == 1
        assert cache_writes.pending_count() == 1
        selectors.listing_version_seen(selectors.listing_version())  # kept, version unchanged
        key = f"mv-listing:{selectors.listing_version()}:word:{selectors._digest('walet')}"
        assert cache.get(key) is None
    assert cache.get(key) == "wallet"


# --- the category pages' listing entries ---------------------------------------------------------


def _entries() -> set[tuple]:
    rows = ListingEntry.objects.values_list(
        "category_id", "product_id", "is_evergreen", "date_created", "price", "title", "facets"
    )
    return {(*row[:-1], json.dumps(row[-1], sort_keys=True)) for row in rows}


def _entries_by_hand() -> set[tuple]:
    """One per category of each product that is not a variant, from its listing facts."""
    categories = set(Category.objects.values_list("pk", flat=True))
    return {
        (c, p.pk, p.listing_facets.get("line") == "Evergreen", p.date_created)
        + (p.listing_price, p.title, json.dumps(p.listing_facets, sort_keys=True))
        for p in Product.objects.filter(parent=None)
        for c in p.listing_categories
        if c in categories
    }


def test_listing_entries_follow_the_listing_facts(
    demo_catalogue, django_capture_on_commit_callbacks, refresh_at_commit
):
    """Written with the listing facts by the same refresh: as the facts say after loading,
    after a rename and a move, and after a category is deleted; a product hidden leaves the
    category's pages at once (the product row says so), before any refresh."""
    capture = django_capture_on_commit_callbacks
    assert _entries() == _entries_by_hand()
    assert len(_entries()) >= Product.objects.filter(parent=None).count() > 20
    wallets = Category.objects.get(slug="wallets")

    def page(sort="name") -> list[int]:
        return selectors.listing_page(offset=0, limit=1000, category=wallets, sort=sort)[0]

    def orm(sort="name") -> list[int]:
        return list(
            selectors.product_list(category=wallets, sort=sort).values_list("pk", flat=True)
        )

    bifold = Product.objects.get(upc="MV-EG-BIF")
    bifold.title = "Aardvark bifold"
    committed(capture, bifold.save)
    assert page()[0] == bifold.pk and page() == orm()
    slim = committed(capture, lambda: wallets.add_child(name="Slim wallets", is_public=True))
    committed(capture, lambda: bifold.categories.set([slim]))
    assert (slim.pk, bifold.pk) in {e[:2] for e in _entries()}
    assert _entries() == _entries_by_hand()
    committed(capture, slim.delete)
    assert _entries() == _entries_by_hand()
    assert bifold.pk not in page() and page() == orm()

    hidden = page()[0]
    Product.objects.filter(pk=hidden).update(is_public=False)  # no refresh
    for sort in SORTS:
        assert hidden not in page(sort) and page(sort) == orm(sort), sort


def test_the_facts_statement_is_compiled_once_per_shape(demo_catalogue):
    """The counts' base statement is compiled once per shape (in a category or not, the
    phrases of each search group) and run with each listing's own values: other categories
    and words still get their own counts, a category with a search and a group of synonyms
    included."""
    selectors._facts_bases.clear()
    facts = _facts_by_hand()
    categories = list(Category.objects.browsable().filter(depth=1))
    for category in categories:
        for chosen in FILTER_COMBOS[:3]:
            counted = selectors._count_facts(category, _codes(chosen), None)
            ids = _in_category(facts, category)
            assert counted[0] == _counts_by_hand(facts, ids=ids, chosen=chosen), category
    assert len(selectors._facts_bases) == 1
    wallets = Category.objects.get(slug="wallets")
    for query in ("wallet", "belt", "billfold heritage", "walet"):
        plan = selectors.search_plan(query)
        for category in (None, wallets):
            listed = selectors.product_list(category=category, plan=plan)
            ids = set(listed.values_list("pk", flat=True))
            for chosen in FILTER_COMBOS[:3]:
                counted, total = selectors._count_facts(category, _codes(chosen), plan)
                assert counted == _counts_by_hand(facts, ids=ids, chosen=chosen), (query, chosen)
                assert total == listed.filter(**_orm_filters(chosen)).count(), (query, chosen)
    shapes = {
        (c, tuple(len(g) for g in selectors.search_plan(q).groups))
        for c in (True, False)
        for q in ("wallet", "belt", "billfold heritage", "walet")
    }
    assert len(selectors._facts_bases) == 1 + len(shapes)


def _codes(chosen: dict[str, str]) -> dict[str, str]:
    return {FILTER_ATTRIBUTES[key]: value for key, value in chosen.items() if value}


def _orm_filters(chosen: dict[str, str]) -> dict:
    codes = _codes(chosen)
    return {"listing_facets__contains": codes} if codes else {}


def test_a_searchs_counts_and_page_read_together_are_what_each_reads_alone(demo_catalogue):
    """A search whose counts are not kept yet reads them with its page in one statement
    (selectors._search_facts_and_page): the page is product_list's order for every sort,
    filter and page, in a category too and with a group of synonyms; the counts are those of
    the counts' own statement."""
    wallets = Category.objects.get(slug="wallets")
    for query in ("wallet", "walet heritage", "leather", "billfold", "tan belt"):
        plan = selectors.search_plan(query)
        groups = plan.groups if plan.terms else ()
        for category, filters, sort in itertools.product((None, wallets), FILTER_COMBOS, SORTS):
            where = (query, getattr(category, "slug", None), filters, sort)
            chosen = _codes(filters)
            listed = list(
                selectors.product_list(
                    category=category, plan=plan, filters=filters, sort=sort
                ).values_list("pk", flat=True)
            )
            alone = selectors._count_facts(category, chosen, plan)
            for offset, limit in ((0, 1000), (1, 2), (len(listed), 12)):
                counts, total, ids = selectors._search_facts_and_page(
                    category, chosen, groups, sort, limit=limit, offset=offset
                )
                assert ids == listed[offset : offset + limit], (where, offset)
                assert (counts, total) == alone and total == len(listed), where
