"""Anonymous pages come from the cache, and never show a price, stock level or title that has
since changed (shop.storefront.page_cache)."""

import threading
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shop.basket.models import Basket
from shop.basket.selectors import item_count_key
from shop.catalogue.models import Category, Product
from shop.partner.models import StockRecord
from shop.storefront import page_cache

pytestmark = pytest.mark.django_db


def _standalone() -> Product:
    return (
        Product.objects.browsable()
        .filter(structure=Product.STANDALONE, stockrecords__num_in_stock__gt=2)
        .order_by("pk")
        .first()
    )


def _get(client, path, **extra):
    response = client.get(path, **extra)
    assert response.status_code == 200, path
    return response


def _price_text(amount: Decimal) -> str:
    return f"£{amount:,.2f}"


@pytest.mark.parametrize("page", ["home", "catalogue", "category", "search", "product"])
def test_second_anonymous_visit_is_served_from_the_cache_without_sql(client, demo_catalogue, page):
    product = _standalone()
    path = {
        "home": "/",
        "catalogue": "/catalogue/",
        "category": product.get_categories().first().get_absolute_url(),
        "search": "/search/?q=wallet",
        "product": product.get_absolute_url(),
    }[page]
    first = _get(client, path)
    assert first["X-Page-Cache"] == "miss"
    with CaptureQueriesContext(connection) as queries:
        second = _get(Client(), path)
    assert second["X-Page-Cache"] == "hit"
    assert len(queries) == 0, [q["sql"] for q in queries]
    assert second["Cache-Control"] == "private, no-cache"
    strip = page_cache._CSRF_INPUT
    assert strip.sub("", second.content.decode()) == strip.sub("", first.content.decode())


def test_a_price_change_shows_at_once_on_product_listing_and_search_pages(
    client, demo_catalogue, django_capture_on_commit_callbacks
):
    product = _standalone()
    record = StockRecord.objects.get(product=product)
    pages = [
        product.get_absolute_url(),
        product.get_categories().first().get_absolute_url() + "?sort_by=price-desc",
        f"/search/?q={product.upc}",
    ]
    for path in pages:
        _get(client, path)
        assert _price_text(record.price) in _get(client, path).content.decode()

    new_price = Decimal("1234.56")  # dearer than anything: first when sorted by price
    with django_capture_on_commit_callbacks(execute=True):
        record.price = new_price
        record.save()
    for path in pages:
        html = _get(Client(), path).content.decode()
        assert _price_text(new_price) in html, path
        assert _price_text(StockRecord.objects.get(pk=record.pk).price) in html


def test_a_change_inside_a_transaction_is_seen_before_and_after_commit(client, demo_catalogue):
    product = _standalone()
    path = product.get_absolute_url()
    _get(client, path)
    before = page_cache.catalogue_version()
    product.title = "The Renamed Wallet"
    product.save()  # the test's transaction is still open
    during = page_cache.catalogue_version()
    assert during != before
    assert "The Renamed Wallet" in _get(client, path).content.decode()
    # Many rows change in one transaction: one bump waits for the commit.
    product.save()
    StockRecord.objects.get(product=product).save()
    pending = [
        entry[1]
        for entry in connection.run_on_commit
        if entry[1] is page_cache.catalogue_version_bump
    ]
    assert len(pending) == 1
    pending[0]()  # the commit
    assert page_cache.catalogue_version() not in (before, during)


def test_selling_out_shows_on_the_cached_product_page(client, demo_catalogue):
    product = _standalone()
    path = product.get_absolute_url()
    assert "Add to basket" in _get(client, path).content.decode()
    record = StockRecord.objects.get(product=product)
    record.num_allocated = record.num_in_stock
    record.save(update_fields=["num_allocated"])  # as Oscar's allocation does
    assert "Add to basket" not in _get(client, path).content.decode()


def test_a_new_category_name_shows_in_every_menu(client, demo_catalogue):
    _get(client, "/")
    category = Category.objects.filter(depth=1).order_by("path").first()
    category.name = "Satchels and Such"
    category.save()
    assert "Satchels and Such" in _get(client, "/").content.decode()


def test_the_cached_page_form_works_for_another_visitor(demo_catalogue):
    product = _standalone()
    path = product.get_absolute_url()
    _get(Client(), path)
    visitor = Client(enforce_csrf_checks=True)
    page = _get(visitor, path)
    assert page["X-Page-Cache"] == "hit"
    token = page_cache._CSRF_INPUT.search(page.content.decode())
    assert token and page_cache.CSRF_PLACEHOLDER not in page.content.decode()
    form_token = page.content.decode()[token.end(1) : token.start(2)]
    response = visitor.post(
        f"/basket/add/{product.pk}/", {"quantity": 1, "csrfmiddlewaretoken": form_token}
    )
    assert response.status_code == 302


def test_a_visitor_with_a_basket_sees_their_count_for_one_query(client, demo_catalogue):
    product = _standalone()
    _get(Client(), "/")  # cached by someone else
    client.post(f"/basket/add/{product.pk}/", {"quantity": 2})
    first = _get(client, "/")  # shows the "added to your basket" message: not from the cache
    assert "X-Page-Cache" not in first and "Basket, 2 items" in first.content.decode()
    with CaptureQueriesContext(connection) as queries:
        page = _get(client, "/")
    assert page["X-Page-Cache"] == "hit"
    assert len(queries) == 0  # the count the page above read (one query) is cached
    assert "Basket, 2 items" in page.content.decode()
    cache.delete(item_count_key(Basket.objects.get().pk))  # expired, or forgotten
    with CaptureQueriesContext(connection) as queries:
        page = _get(client, "/")
    assert len(queries) == 1 and "Basket, 2 items" in page.content.decode()
    assert "Basket, 0 items" in _get(Client(), "/").content.decode()


def test_signed_in_customers_are_never_served_nor_fill_the_cache(client, demo_catalogue):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("ann", "ann@example.com", "pw-ann-123")
    client.force_login(user)
    for _ in range(2):
        response = _get(client, "/")
        assert "X-Page-Cache" not in response
        assert "Sign out" in response.content.decode()
    assert "Sign out" not in _get(Client(), "/").content.decode()


def test_unchanged_page_is_revalidated_with_its_etag(client, demo_catalogue):
    _get(client, "/")
    page = _get(client, "/")
    response = client.get("/", HTTP_IF_NONE_MATCH=page["ETag"])
    assert response.status_code == 304
    Product.objects.browsable().first().save()
    assert client.get("/", HTTP_IF_NONE_MATCH=page["ETag"]).status_code == 200


def test_no_cache_when_disabled(client, demo_catalogue, settings):
    settings.PAGE_CACHE_SECONDS = 0
    _get(client, "/")
    assert "X-Page-Cache" not in _get(client, "/")


def test_without_a_cache_pages_render_and_products_save(client, demo_catalogue, monkeypatch):
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    for name in ("get", "get_many", "set", "add", "delete"):
        monkeypatch.setattr(cache, name, down)
    product = _standalone()
    product.title = "Saved While Redis Was Down"
    product.save()
    for path in ("/", product.get_absolute_url()):
        response = _get(client, path)
        assert "X-Page-Cache" not in response
    assert "Saved While Redis Was Down" in response.content.decode()


def _cached(path: str) -> str:
    """Fill the cache with the page (if it was not there) and tell how it is served now."""
    _get(Client(), path)
    return _get(Client(), path)["X-Page-Cache"]


def test_an_order_allocating_stock_stales_only_that_products_page(demo_catalogue):
    product = _standalone()
    other = (
        Product.objects.browsable()
        .filter(structure=Product.STANDALONE, stockrecords__num_in_stock__gt=0)
        .exclude(pk=product.pk)
        .first()
    )
    record = StockRecord.objects.get(product=product)
    available = record.net_stock_level
    listing = [
        "/",
        "/catalogue/",
        product.get_categories().first().get_absolute_url(),
        f"/search/?q={product.upc}",
        other.get_absolute_url(),
    ]
    path = product.get_absolute_url()
    for page in [*listing, path]:
        assert _cached(page) == "hit", page
    assert f"In stock ({available} available)" in _get(Client(), path).content.decode()

    record.allocate(2)  # Oscar's allocation at order placement: a queryset update + signals

    page = _get(Client(), path)
    assert page["X-Page-Cache"] == "miss"
    assert f"In stock ({available - 2} available)" in page.content.decode()
    for other_page in listing:  # prices and titles did not change: still served from the cache
        assert _get(Client(), other_page)["X-Page-Cache"] == "hit", other_page


def test_a_variant_selling_out_stales_its_parents_page(demo_catalogue):
    parent = Product.objects.browsable().filter(structure=Product.PARENT).first()
    child = parent.children.filter(stockrecords__num_in_stock__gt=0).first()
    path = parent.get_absolute_url()
    assert _cached(path) == "hit"
    record = StockRecord.objects.get(product=child)
    record.allocate(record.net_stock_level)
    assert _get(Client(), path)["X-Page-Cache"] == "miss"


def test_a_stock_change_stales_the_product_page_again_at_commit(
    demo_catalogue, django_capture_on_commit_callbacks
):
    product = _standalone()
    path = product.get_absolute_url()
    assert _cached(path) == "hit"
    record = StockRecord.objects.get(product=product)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        record.num_in_stock += 5
        record.save()
        # Rendered inside the transaction: a request on another connection would have seen
        # the stock as it was, and stored that page under the clock read now.
        assert _get(Client(), path)["X-Page-Cache"] == "miss"
        assert _get(Client(), path)["X-Page-Cache"] == "hit"
    assert page_cache.catalogue_version_bump not in [c for c in callbacks]
    for callback in callbacks:
        callback()  # the commit
    assert _get(Client(), path)["X-Page-Cache"] == "miss"


def _stocked(n: int) -> list[StockRecord]:
    return list(
        StockRecord.objects.filter(
            product__structure=Product.STANDALONE, num_in_stock__gt=2
        ).order_by("pk")[:n]
    )


def test_an_orders_stock_changes_are_staled_in_one_bump_at_commit(demo_catalogue):
    """Each line's allocation bumps its page at once; the commit bumps them all together, and
    a savepoint rolled back takes its own products' commit bump with it."""
    first, rolled_back, last = _stocked(3)

    def pending():
        return [
            c for _s, c, _r in connection.run_on_commit if isinstance(c, page_cache._ProductsBump)
        ]

    first.allocate(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        rolled_back.allocate(1)
        assert len(pending()) == 2  # its own callback, under its savepoint
        raise RuntimeError
    last.allocate(1)
    (bump,) = pending()
    assert bump == {first.product_id, last.product_id}
    paths = [first.product.get_absolute_url(), last.product.get_absolute_url()]
    for path in paths:
        assert _cached(path) == "hit"
    bump()  # the commit
    for path in paths:
        assert _get(Client(), path)["X-Page-Cache"] == "miss"


def test_a_price_or_a_new_stock_record_still_stales_every_page(demo_catalogue):
    product = _standalone()
    record = StockRecord.objects.get(product=product)
    for change in ("price", "new record"):
        before = page_cache.catalogue_version()
        if change == "price":
            record.price += Decimal("1.00")
            record.num_allocated = (record.num_allocated or 0) + 1
            record.save()
        else:
            StockRecord.objects.create(
                product=product, partner=record.partner, partner_sku="SECOND-1", price=1
            )
        assert page_cache.catalogue_version() != before, change


def test_product_pages_stale_with_a_real_redis_cache(redis_cache, demo_catalogue):
    """Production's cache (django-redis): the page clock's increments and the product keys."""
    from django.core.cache import cache

    redis_cache()
    product = _standalone()
    path = product.get_absolute_url()
    assert _cached(path) == "hit" and _cached("/") == "hit"
    StockRecord.objects.get(product=product).allocate(1)
    assert _get(Client(), path)["X-Page-Cache"] == "miss"
    assert _get(Client(), "/")["X-Page-Cache"] == "hit"
    # One bump: the clock ticked and the product's key holds the tick, for longer than
    # any page stored before it lives.
    product_key = page_cache.PRODUCT_KEY.format(product.pk)
    assert cache.get(product_key) == page_cache.page_clock()
    assert (
        page_cache.page_cache_seconds()
        < cache.ttl(product_key)
        <= (page_cache.page_cache_seconds() + 60)
    )
    page_cache.product_pages_bump(frozenset({product.pk}))
    assert cache.get(product_key) == page_cache.page_clock()
    cache.delete(page_cache.CLOCK_KEY)  # evicted: starts again above every product key
    assert _cached(path) == "hit"
    StockRecord.objects.get(product=product).allocate(1)
    assert _get(Client(), path)["X-Page-Cache"] == "miss"


def _render_lock(path: str) -> str:
    from django.test import RequestFactory

    return page_cache.render_lock_key(page_cache.page_key(RequestFactory().get(path)))


def test_a_page_another_request_is_rendering_is_waited_for_not_rendered_again(
    demo_catalogue, monkeypatch
):
    from django.core.cache import cache

    product = _standalone()
    path = product.get_absolute_url()
    _get(Client(), path)
    key = page_cache.page_key(Client().get(path).wsgi_request)
    rendered = cache.get(key)
    StockRecord.objects.get(product=product).allocate(1)  # the stored page is stale now
    assert cache.add(_render_lock(path), 1)  # another request is rendering it

    def other_request_stores_its_page(seconds):  # what that request does while we wait
        cache.set(key, {**rendered, "clock": page_cache.page_clock()})
        cache.delete(_render_lock(path))

    monkeypatch.setattr(page_cache, "_sleep", other_request_stores_its_page)
    with CaptureQueriesContext(connection) as queries:
        page = _get(Client(), path)
    assert page["X-Page-Cache"] == "wait"
    assert len(queries) == 0


def test_a_render_that_never_comes_is_not_waited_for_long(demo_catalogue, settings):
    from django.core.cache import cache

    settings.PAGE_CACHE_WAIT_SECONDS = 0.05
    product = _standalone()
    path = product.get_absolute_url()
    assert cache.add(_render_lock(path), 1)  # a renderer that died
    page = _get(Client(), path)
    assert page["X-Page-Cache"] == "miss"  # rendered here, and stored
    assert _get(Client(), path)["X-Page-Cache"] == "hit"


def test_the_renderer_frees_the_page_once_stored(demo_catalogue):
    from django.core.cache import cache

    path = _standalone().get_absolute_url()
    assert _get(Client(), path)["X-Page-Cache"] == "miss"
    assert cache.get(_render_lock(path)) is None
    assert Client().get("/catalogue/?page=999").status_code == 404  # not stored
    assert cache.get(_render_lock("/catalogue/?page=999")) is None


def test_waiting_never_serves_a_page_older_than_the_request(demo_catalogue, monkeypatch):
    """The page another request stores while we wait was rendered before a price change we
    already saw: we render our own."""
    from django.core.cache import cache

    product = _standalone()
    path = product.get_absolute_url()
    _get(Client(), path)
    key = page_cache.page_key(Client().get(path).wsgi_request)
    old_page = cache.get(key)
    record = StockRecord.objects.get(product=product)
    record.price = Decimal("999.00")
    record.save()
    assert cache.add(_render_lock(path), 1)

    def other_request_stores_an_old_render(seconds):
        cache.set(key, old_page)  # rendered under the version before the change
        cache.delete(_render_lock(path))

    monkeypatch.setattr(page_cache, "_sleep", other_request_stores_an_old_render)
    page = _get(Client(), path)
    assert page["X-Page-Cache"] == "miss"
    assert _price_text(Decimal("999.00")) in page.content.decode()


def test_on_redis_a_missing_page_is_read_and_locked_in_one_round_trip(redis_cache, demo_catalogue):
    from django.core.cache import cache

    redis_cache()
    cache.set(page_cache.VERSION_KEY, "v1")
    keys = [page_cache.VERSION_KEY, "page-a"]
    found, locked = page_cache.read_and_lock(keys, "page-a")
    assert (found, locked) == ({page_cache.VERSION_KEY: "v1"}, True)
    lock = page_cache.render_lock_key("page-a")
    assert cache.get(lock) == 1
    assert 0 < cache.ttl(lock) <= page_cache.RENDER_LOCK_SECONDS
    assert page_cache.read_and_lock(keys, "page-a")[1] is False  # another request's now
    cache.set("page-b", {"content": "<p>", "version": "v0"})
    found, locked = page_cache.read_and_lock([page_cache.VERSION_KEY, "page-b"], "page-b")
    assert found["page-b"] == {"content": "<p>", "version": "v0"}
    assert locked is None  # there, maybe stale: only the middleware can tell
    assert cache.get(page_cache.render_lock_key("page-b")) is None


def test_on_redis_a_rendered_listing_writes_once_when_it_is_ready(
    redis_cache, demo_catalogue, monkeypatch
):
    """Its counts, cards and the page go in one pipeline at the end, with the freeing of its
    render lock: nothing is written on the way (one write round trip instead of four)."""
    import redis
    from django.core.cache import cache

    redis_cache()
    path = f"{_standalone().get_categories().first().get_absolute_url()}?sort_by=price-asc"
    assert _get(Client(), path)["X-Page-Cache"] == "miss"  # thumbnails made and kept
    page_cache.catalogue_version_bump()  # its cards and counts are stale now
    from shop.catalogue.services import listing_version_bump

    listing_version_bump()
    commands, pipelines = [], []
    real_command, real_execute = redis.Redis.execute_command, redis.client.Pipeline.execute
    # The request's own: the funnel events' buffer pushes from its own thread, at any time.
    request_thread = threading.get_ident()

    def command(client, *args, **options):
        if not isinstance(client, redis.client.Pipeline) and (
            threading.get_ident() == request_thread
        ):
            commands.append(args[0])
        return real_command(client, *args, **options)

    def execute(pipeline, *args, **kwargs):
        if threading.get_ident() == request_thread:
            pipelines.append([c[0][0] for c in pipeline.command_stack])
        return real_execute(pipeline, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "execute_command", command)
    monkeypatch.setattr(redis.client.Pipeline, "execute", execute)
    response = _get(Client(), f"{path}&page=1")  # not stored yet: read and locked at once
    monkeypatch.undo()
    assert response["X-Page-Cache"] == "miss"
    assert not {"SET", "DEL", "SETEX", "MSET"} & set(commands), commands
    assert commands[0] == "EVALSHA"  # the page, its version and its lock at once
    assert len(pipelines) == 1
    written = pipelines[0]
    assert written[-2:] == ["SET", "DEL"]  # the page, then its lock freed
    assert written.count("SET") > 2  # the counts and the cards before it
    assert _get(Client(), f"{path}&page=1")["X-Page-Cache"] == "hit"
    lock = page_cache.render_lock_key(page_cache.page_key(response.wsgi_request))
    assert cache.get(lock) is None
