"""Whole-page cache for anonymous shoppers: home, listings, search, product and content pages.

A page is rendered once per catalogue version and then served from the cache (Redis in
production) to every anonymous visitor, without touching the database. What differs per visitor
is filled in on the way out: the CSRF token of the page's forms, the Content-Security-Policy
nonce of its inline scripts (each response has its own), and the header's basket count
for a visitor with a basket (one query, see shop.basket.selectors). Every stored page holds the
analytics consent banner; shop.growth.middleware, just outside this one, cuts it out for
visitors who have chosen (the ETag tells the two apart), and counts the page as a funnel step.
Signed-in visitors and requests with flash messages waiting are never served from the cache,
and never fill it.

Invalidation: any save or delete of what a page shows (product, stock record, image, category,
attribute value, option, recommendation, personalization offer; see shop.storefront.signals)
changes the catalogue version, at once and again when the transaction commits. A stored page
carries the version read before it was rendered and is served only while that is still the
version, so a page rendered from data that was about to change is never served.
A change of stock level alone (an order allocating stock, a shipment consuming it) shows only on
that product's own page (listings and search show prices, not stock): it stales that page and
its parent's, not the whole cache. A counter (the page clock) ticks on each such change and the
product's key takes the new value; a product page stored with the clock read before it was
rendered is served only while its product's key is not newer. Same two bumps, same guarantee.
One request renders a missing or stale page; others asking for it meanwhile wait for that page
(up to PAGE_CACHE_WAIT_SECONDS, polling) instead of all rendering it at once after every change,
and render it themselves only if it does not come. They are served only a page that is fresh
for what they read when they arrived, so waiting never serves a stale page.
Pages also expire after PAGE_CACHE_SECONDS, and the key carries today's dispatch date (product
pages promise one).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.middleware.csrf import get_token
from django.template.loader import render_to_string

from shop.common import cache_writes
from shop.common.commit import commit_batch_add
from shop.common.kept import Recent
from shop.common.workdays import dispatch_date
from shop.growth.visitor import analytics_consent

# Views (resolver view names) whose anonymous GET responses are cached.
CACHED_VIEWS = frozenset(
    {
        "storefront:home",
        "storefront:page",
        "catalogue:index",
        "catalogue:category",
        "catalogue:detail",
        "search:search",
    }
)
DEFAULT_SECONDS = 600
DEFAULT_WAIT_SECONDS = 0.5  # how long a request waits for another's render of the same page
RENDER_LOCK_SECONDS = 10  # a renderer that died frees its page after this
POLL_SECONDS = 0.01
_sleep = time.sleep
VERSION_KEY = "mv:page:version"
CLOCK_KEY = "mv:page:clock"
PRODUCT_KEY = "mv:page:product:{}"
CSRF_PLACEHOLDER = "__MV_CSRF_TOKEN__"
NONCE_PLACEHOLDER = "__MV_CSP_NONCE__"
_CSRF_INPUT = re.compile(r'(name="csrfmiddlewaretoken" value=")[A-Za-z0-9]{32,64}(")')
_BASKET_REGION = re.compile(r"<!--mv:basket-->.*?<!--/mv:basket-->", re.S)
logger = logging.getLogger(__name__)
MESSAGES_COOKIE = "messages"  # django.contrib.messages' CookieStorage
SESSION_MESSAGES_KEY = "_messages"  # and its SessionStorage


def page_cache_seconds() -> int:
    return getattr(settings, "PAGE_CACHE_SECONDS", DEFAULT_SECONDS)


def page_wait_seconds() -> float:
    return getattr(settings, "PAGE_CACHE_WAIT_SECONDS", DEFAULT_WAIT_SECONDS)


# --- the catalogue version -----------------------------------------------------------------


def catalogue_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, str(time.time_ns()), timeout=None)
        version = cache.get(VERSION_KEY)
    MENU_VERSION.seen(str(version))
    return str(version)


# Pages the cache does not serve (the basket, checkout, a signed-in visitor's pages) key their
# header's menu on the version too: for them, what this process read within the last
# MENU_VERSION_READ_SECONDS does (another process's change shows in their menu that much
# later, this process's own at once), as listings read the listing version. Every read of
# the version refreshes it; whatever else is keyed on the version (cards, a category's
# links) reads it on every request.
MENU_VERSION_READ_SECONDS = 1.0
MENU_VERSION = Recent(MENU_VERSION_READ_SECONDS)


def catalogue_version_bump() -> None:
    """Every cached page is stale from now on. A cache that does not answer is logged, not
    raised: saving a product must not fail because Redis is down (pages expire anyway)."""
    MENU_VERSION.forget()  # this process's menus follow at once
    try:
        cache.set(VERSION_KEY, str(time.time_ns()), timeout=None)
    except Exception:  # the cache backend's own errors (redis.ConnectionError...)
        logger.warning("page cache: could not bump the catalogue version", exc_info=True)


def catalogue_changed() -> None:
    """Something a cached page shows has changed: bump the version now (this transaction's own
    later reads) and once more after commit (pages other requests rendered meanwhile from the
    data as it was). One commit callback per transaction, however many rows change."""
    catalogue_version_bump()
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        entry[1] is catalogue_version_bump for entry in connection.run_on_commit
    ):
        return
    transaction.on_commit(catalogue_version_bump)


# --- one product's page ----------------------------------------------------------------------


def page_clock() -> int:
    """The counter product changes tick. It starts from the time in microseconds, so a cache
    that lost it starts again above every value a product key can still hold."""
    clock = cache.get(CLOCK_KEY)
    if clock is None:
        cache.add(CLOCK_KEY, time.time_ns() // 1000, timeout=None)
        clock = cache.get(CLOCK_KEY)
    return int(clock)


# On Redis, a bump is one round trip: start the clock if it is missing, tick it and give the
# products' keys the new tick (integers, as django-redis stores them), atomically.
_BUMP_SCRIPT = """
redis.call('SET', KEYS[1], ARGV[1], 'NX')
local tick = redis.call('INCR', KEYS[1])
for i = 2, #KEYS do redis.call('SET', KEYS[i], tick, 'EX', ARGV[2]) end
return tick
"""


def product_pages_bump(product_ids: frozenset[int] | set[int]) -> None:
    """These products' own pages are stale from now on (other pages are not). The keys outlive
    every page stored before the bump; a cache that does not answer is logged, not raised."""
    ttl = page_cache_seconds() + 60
    try:
        redis = cache_writes.redis_client()
        if redis is not None:
            keys = [cache.make_key(CLOCK_KEY)]
            keys += [cache.make_key(PRODUCT_KEY.format(pk)) for pk in product_ids]
            redis.eval(_BUMP_SCRIPT, len(keys), *keys, time.time_ns() // 1000, ttl)
            return
        page_clock()
        tick = cache.incr(CLOCK_KEY)
        cache.set_many({PRODUCT_KEY.format(pk): tick for pk in product_ids}, timeout=ttl)
    except Exception:
        logger.warning("page cache: could not stale products %s", product_ids, exc_info=True)
        catalogue_version_bump()


class _ProductsBump(set):
    """The products one commit callback stales (shop.common.commit: those changed under the
    same savepoints)."""

    merge = set.update

    def __call__(self) -> None:
        product_pages_bump(frozenset(self))


def product_pages_changed(product_ids: set[int]) -> None:
    """Only these products' own pages show the change (a stock level): bump them now and after
    commit, like catalogue_changed (one bump at commit for all the transaction's products)."""
    ids = frozenset(pk for pk in product_ids if pk is not None)
    if not ids:
        return
    product_pages_bump(ids)
    commit_batch_add(_ProductsBump, ids)


# --- who may be served a cached page -------------------------------------------------------


def visitor_is_cacheable(request: HttpRequest) -> bool:
    """An anonymous GET with no flash message waiting (a cached page would not show it)."""
    if request.method != "GET" or request.COOKIES.get(MESSAGES_COOKIE):
        return False
    if request.user.is_authenticated:
        return False
    if request.COOKIES.get(settings.SESSION_COOKIE_NAME):
        return not request.session.get(SESSION_MESSAGES_KEY)
    return True


def page_key(request: HttpRequest) -> str:
    """The page's cache key: its address, today's dispatch date and the visitor's experiment
    variants other than control (shop.experiments: no database query for a visitor who is not
    counted or an audience of all; "" for everyone who sees control, who share one page)."""
    from shop.experiments.selectors import page_key_part

    variants = page_key_part(request)
    where = f"{request.get_host()}{request.get_full_path()}"
    if variants:
        where = f"{where}\n{variants}"
    digest = hashlib.blake2b(where.encode(), digest_size=16).hexdigest()
    return f"mv:page:{dispatch_date().isoformat()}:{digest}"


# --- storing and serving -------------------------------------------------------------------


@functools.lru_cache(maxsize=128)
def mini_basket_html(num: int) -> str:
    """The header's basket link for `num` items, between its markers (the same for everyone
    with that many: drawn once per process; every stored page holds the one for 0)."""
    html = render_to_string("shop/partials/mini_basket.html", {"num": num})
    return f"<!--mv:basket-->{html}<!--/mv:basket-->"


def page_entry(response: HttpResponse, *, nonce: str | None = None) -> dict | None:
    """What is stored of a rendered page: its HTML with the visitor's CSRF token, the
    response's CSP nonce and basket count taken out. None for a response that must not be
    cached."""
    if response.status_code != 200 or response.streaming:
        return None
    content_type = response.get("Content-Type", "")
    if not content_type.startswith("text/html") or response.has_header("Cache-Control"):
        return None
    content = response.content.decode(response.charset or "utf-8")
    content = _CSRF_INPUT.sub(rf"\g<1>{CSRF_PLACEHOLDER}\g<2>", content)
    if nonce:
        content = content.replace(f'nonce="{nonce}"', f'nonce="{NONCE_PLACEHOLDER}"')
    content = _BASKET_REGION.sub(lambda _: mini_basket_html(0), content, count=1)
    digest = hashlib.blake2b(content.encode(), digest_size=8).hexdigest()
    return {"content": content, "content_type": content_type, "digest": digest}


def page_etag(request: HttpRequest, entry: dict, basket_count: int) -> str:
    # The CSRF cookie is part of it: a page kept by the browser carries a token for that cookie.
    # So is whether the visitor has made their analytics choice: the consent banner is cut out
    # of the page once they have (shop.growth.middleware), and a page the browser kept with
    # the banner must not be confirmed afterwards.
    csrf = request.COOKIES.get(settings.CSRF_COOKIE_NAME, "")
    chosen = "c" if analytics_consent(request) is not None else ""
    salt = hashlib.blake2b(f"{csrf}{chosen}".encode(), digest_size=4).hexdigest()
    return f'"{entry["digest"]}-{basket_count}-{salt}"'


def page_response(request: HttpRequest, entry: dict, *, basket_count: int) -> HttpResponse:
    etag = page_etag(request, entry, basket_count)
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        content = entry["content"]
        if basket_count:
            content = _BASKET_REGION.sub(lambda _: mini_basket_html(basket_count), content, 1)
        if CSRF_PLACEHOLDER in content:
            content = content.replace(CSRF_PLACEHOLDER, get_token(request))
        if NONCE_PLACEHOLDER in content:
            content = content.replace(NONCE_PLACEHOLDER, str(request.csp_nonce))
        response = HttpResponse(content, content_type=entry["content_type"])
    response["ETag"] = etag
    # Private: the basket count and CSRF token are the visitor's; revalidate with the ETag.
    response["Cache-Control"] = "private, no-cache"
    return response


def entry_is_fresh(entry: dict | None, *, version: str, product_tick: int | None) -> bool:
    """A stored page may be served: rendered under today's catalogue version, and after the
    last change of its product's stock (the product's tick is not newer than its clock)."""
    if entry is None or entry.get("version") != version:
        return False
    return product_tick is None or int(product_tick) <= entry.get("clock", -1)


def render_lock_key(key: str) -> str:
    return f"{key}:rendering"


# On Redis, the page's first round trip also takes its render lock when the page is missing
# (a page the cache holds may still be stale: whether it is, only Python can tell, and the lock
# is then taken in a round trip of its own). Answers the values of KEYS but the last (the
# lock) and 1 if the lock was taken, 0 if another request holds it, -1 if it was not tried.
_READ_SCRIPT = """
local found = redis.call('MGET', unpack(KEYS, 1, #KEYS - 1))
if found[tonumber(ARGV[1])] then return {found, -1} end
if redis.call('SET', KEYS[#KEYS], '1', 'NX', 'PX', ARGV[2]) then return {found, 1} end
return {found, 0}
"""
_read_script = None


def read_and_lock(keys: list[str], page: str) -> tuple[dict, bool | None]:
    """The values of ``keys`` (``page`` among them) and, when the page is missing, whether its
    render lock was taken for this request (True) or another holds it (False), in one round
    trip on Redis. None: the lock was not tried (the page is there, or the cache is not
    Redis)."""
    global _read_script
    redis = cache_writes.redis_client()
    if redis is None:
        return cache.get_many(keys), None
    if _read_script is None:
        _read_script = redis.register_script(_READ_SCRIPT)
    lock = render_lock_key(page)
    raw, flag = _read_script(
        keys=[cache.make_key(k) for k in (*keys, lock)],
        args=[keys.index(page) + 1, RENDER_LOCK_SECONDS * 1000],
        client=redis,
    )
    decode = cache.client.decode
    found = {k: decode(v) for k, v in zip(keys, raw, strict=True) if v is not None}
    return found, (None if flag < 0 else flag == 1)


def page_awaited(key: str, *, version: str, product_key: str | None) -> dict | None:
    """Another request is rendering this page: wait for the page it stores, if that page is
    fresh for the version read on arrival. None when it does not come in time, or when the
    renderer gave up (its page could not be stored): render it then."""
    lock = render_lock_key(key)
    deadline = time.monotonic() + page_wait_seconds()
    while time.monotonic() < deadline:
        _sleep(POLL_SECONDS)
        found = cache.get_many([k for k in (key, product_key, lock) if k])
        entry = found.get(key)
        if entry_is_fresh(entry, version=version, product_tick=found.get(product_key)):
            return entry
        if lock not in found:
            return None
    return None


class PageCacheMiddleware:
    """Serves and fills the page cache. Sits after the session, auth, CSRF and basket
    middleware (it reads their request attributes; their responses go out through them)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # What the page wrote to the cache (memos, cards, the page) and the freeing of its render
        # lock go in one round trip, once it is rendered (shop.common.cache_writes).
        with cache_writes.batched():
            try:
                response = self.get_response(request)
                self.store(request, response)
            finally:
                if lock := getattr(request, "_page_cache_lock", None):
                    cache_writes.delete(lock)  # after the store: whoever waits finds the page
        return response

    def store(self, request: HttpRequest, response: HttpResponse) -> None:
        key = getattr(request, "_page_cache_key", None)
        if key is not None:
            nonce = getattr(request, "csp_nonce", None)  # django-csp's, set on every request
            entry = page_entry(response, nonce=str(nonce) if nonce else None)
            if entry is not None:
                entry["version"] = request._page_cache_version  # as read before rendering
                entry["clock"] = request._page_cache_clock
                cache_writes.set_many({key: entry}, timeout=page_cache_seconds())
                if not request._page_cache_basket:  # the page as served is the stored one
                    response["ETag"] = page_etag(request, entry, basket_count=0)
                response["Cache-Control"] = "private, no-cache"
                response["X-Page-Cache"] = "miss"

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if page_cache_seconds() <= 0:
            return None
        match = request.resolver_match
        if match is None or match.view_name not in CACHED_VIEWS:
            return None
        if not visitor_is_cacheable(request):
            return None
        from shop.basket.selectors import (
            cookie_basket_id,
            item_count_key,
            open_basket_item_count,
        )

        # One round trip: the catalogue version, the page clock, the page, the visitor's basket
        # count and, for a product page, its product's key.
        key = page_key(request)
        basket_id = cookie_basket_id(request)
        count_key = item_count_key(basket_id) if basket_id is not None else None
        product_key = None
        if match.view_name == "catalogue:detail" and "pk" in view_kwargs:
            product_key = PRODUCT_KEY.format(view_kwargs["pk"])
        try:
            keys = [k for k in (VERSION_KEY, CLOCK_KEY, key, count_key, product_key) if k]
            found, locked = read_and_lock(keys, key)
            if VERSION_KEY in found:
                version = str(found[VERSION_KEY])
                MENU_VERSION.seen(version)
            else:
                version = catalogue_version()
            clock = int(found[CLOCK_KEY]) if CLOCK_KEY in found else page_clock()
        except Exception:  # no cache: the page is rendered as if there were none
            logger.warning("page cache: cache unavailable", exc_info=True)
            return None
        request._mv_catalogue_version = version  # what the page's chrome and cards key on
        entry = found.get(key)
        served = "hit"
        if not entry_is_fresh(entry, version=version, product_tick=found.get(product_key)):
            entry, served = None, "wait"
            try:
                if locked is None:
                    locked = cache.add(render_lock_key(key), 1, timeout=RENDER_LOCK_SECONDS)
                if locked:
                    request._page_cache_lock = render_lock_key(key)
                else:
                    entry = page_awaited(key, version=version, product_key=product_key)
            except Exception:
                logger.warning("page cache: render lock unavailable", exc_info=True)
        if entry is None:
            # Rendered as usual, then stored (see __call__) under the version and clock read
            # now: if the catalogue changes meanwhile, the page stored is already stale.
            request._page_cache_key = key
            request._page_cache_version = version
            request._page_cache_clock = clock
            request._page_cache_basket = basket_id is not None
            return None
        basket_count = found.get(count_key) if count_key else 0
        if basket_count is None:
            basket_count = open_basket_item_count(basket_id=basket_id)
        response = page_response(request, entry, basket_count=basket_count)
        response["X-Page-Cache"] = served
        return response
