"""Cold listings cost a fixed handful of queries, whatever the size of the catalogue: a
category, a filtered and sorted category page, a search with a typo and a filter, rendered
from scratch (the page cache staled) at the demo size and with more products."""

import json
from pathlib import Path

from django.db import connection

from shop.catalogue.models import Category
from shop.catalogue.services import catalogue_load
from shop.storefront.page_cache import catalogue_version_bump
from tests.perf.catalogue_generator import generate_catalogue

ROOT = Path(__file__).resolve().parents[2]
PAGES = (
    "{wallets}",
    "{wallets}?line=Evergreen&tanning=Vegetable-tanned&sort_by=price-asc",
    "/search/?q=walet&line=Evergreen&sort_by=price-desc",
    "/search/?q=leather&page=2",
)
# SQL statements of one page rendered (transaction control not counted), the page cache's
# lookups included.
LISTING_BUDGET = 12


def _rendered_statements(client, path: str) -> list[str]:
    statements = []

    def record(execute, sql, params, many, context):
        if not sql.lstrip().upper().startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")):
            statements.append(sql)
        return execute(sql, params, many, context)

    catalogue_version_bump()
    with connection.execute_wrapper(record):
        assert client.get(path).status_code == 200, path
    return statements


def test_cold_listings_cost_the_same_handful_of_queries_at_two_sizes(client, demo_catalogue):
    wallets = Category.objects.get(slug="wallets").get_absolute_url()
    pages = [page.format(wallets=wallets) for page in PAGES]
    small = {path: _rendered_statements(client, path) for path in pages}
    base = json.loads((ROOT / "fixtures" / "catalogue.json").read_text())
    catalogue_load(data=generate_catalogue(base, products=60))
    large = {path: _rendered_statements(client, path) for path in pages}
    for path in pages:
        assert len(small[path]) <= LISTING_BUDGET, (path, small[path])
        assert len(large[path]) == len(small[path]), path


def test_listings_read_outside_a_request_transaction(transactional_db, client, monkeypatch):
    """A listing only reads: it runs without ATOMIC_REQUESTS' transaction (a BEGIN and a
    COMMIT, two round trips of a cold page's few). Pages that write keep theirs."""
    from shop.catalogue import selectors
    from tests.conftest import _load_demo_catalogue

    _load_demo_catalogue()
    seen = []
    listing_page = selectors.listing_page

    def recording(**kwargs):
        seen.append(connection.in_atomic_block)
        return listing_page(**kwargs)

    monkeypatch.setattr(selectors, "listing_page", recording)
    wallets = Category.objects.get(slug="wallets").get_absolute_url()
    for path in ("/catalogue/", wallets, "/search/?q=wallet"):
        catalogue_version_bump()
        assert client.get(path).status_code == 200, path
    assert seen == [False, False, False]
    assert connection.settings_dict["ATOMIC_REQUESTS"]  # still on for everything else


def test_a_category_page_finds_its_category_by_id_and_only_a_shown_one(
    client, admin_client, demo_catalogue
):
    """The category is read by a precompiled statement (views.CATEGORY_BY_ID): the same row
    as the ORM's, a 404 for an id that names none or that no integer column holds (never a
    database error), a hidden category for staff only, and the canonical address."""
    from shop.catalogue.views import CATEGORY_BY_ID

    wallets = Category.objects.get(slug="wallets")
    (found,) = CATEGORY_BY_ID.run(wallets.pk)
    assert found == wallets and found.__dict__.keys() >= {"path", "name", "is_public", "slug"}
    assert (found.name, found.path, found.slug) == (wallets.name, wallets.path, wallets.slug)
    url = wallets.get_absolute_url()
    assert client.get(url).status_code == 200
    for pk in (999999, 2**31 - 1, 2**31, 10**30):
        assert client.get(f"/catalogue/category/wallets_{pk}/").status_code == 404, pk
    # Another slug before the id: sent to the category's own address.
    moved = client.get(f"/catalogue/category/purses_{wallets.pk}/?sort_by=name")
    assert moved.status_code == 301 and moved["Location"] == url
    Category.objects.filter(pk=wallets.pk).update(is_public=False)
    catalogue_version_bump()
    assert client.get(url, {"sort_by": "newest"}).status_code == 404
    assert admin_client.get(url, {"sort_by": "newest"}).status_code == 200


def test_card_rows_are_what_the_orm_reads_for_any_number_of_ids(demo_catalogue):
    """card_rows runs its statement compiled once (the ids in one array parameter): the same
    rows as its queryset through the ORM, in the order of the ids asked for, leaving out ids
    of products that are not browsable or do not exist; one statement for any count."""
    from django.test.utils import CaptureQueriesContext

    from shop.catalogue import selectors
    from shop.catalogue.models import Product

    browsable = list(Product.objects.browsable().order_by("-pk").values_list("pk", flat=True))
    child = Product.objects.filter(parent__isnull=False).values_list("pk", flat=True)[0]
    assert len(browsable) > 20
    for ids in (browsable[:1], browsable[3:15][::-1], [child, *browsable[:20], 999_999]):
        orm = {row[0]: row for row in selectors._card_rows_query(ids)}
        with CaptureQueriesContext(connection) as queries:
            cards = selectors.card_rows(ids)
        assert len(queries) == 1
        assert [card.pk for card in cards] == [pk for pk in ids if pk in orm]
        for card in cards:
            pk, title, slug, structure, price, evergreen, picture = orm[card.pk]
            assert (card.title, card.slug, card.structure) == (title, slug, structure)
            assert (card.from_price, card.is_evergreen, card.picture) == (
                price,
                evergreen,
                picture or "",
            )
    assert len({q["sql"] for q in queries}) == 1
    assert selectors.card_rows([]) == []
