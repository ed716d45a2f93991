"""Journey 3, "the door works": every page a visitor can reach answers, whole.

The store is served as `make run` serves it (the `store` fixture). Three visitors walk it in
Chromium: an anonymous shopper from the home page; a customer who registers through the form,
buys a card holder by card (so order pages exist) and signs in again through the login form,
from the home page and the account pages; and staff, signed in through the login form, from
the home page and the dashboard. Each crawl is breadth first, so the navigation, footer,
account and dashboard menus (the links of the start pages) are all walked before anything
deeper, and the test checks that they were.

Bounds: same-origin links only, GET only (links are followed, forms are never submitted),
each URL once, logout links and Django's admin skipped, at most MAX_PAGES pages per visitor.
Pages of a shape not seen yet come first (see `shape`: one product or order page stands for
the rest, one page of a list for its pages and filters, each column a list sorts by for its
directions), then lists filtered, paged or exported, then lists sorted, then, while the cap
allows, other pages of shapes already seen (the other products, orders). A download (CSV
export, PDF) is fetched and only its status checked. On the demo data this is every page for
the anonymous shopper (about 100) and the customer (about 115), and for staff every dashboard
page shape and the menus' lists sorted (150, the cap, leaves other products' and orders'
pages): 80-150 s of crawling on two shared CPUs, plus the store's start (about a minute).

A page fails the crawl when it answers 4xx or 5xx, when one of its images, stylesheets,
scripts or fonts answers 4xx/5xx or does not load, when an image has no pixels
(`naturalWidth == 0`), when it references anything off this machine, or when its JavaScript
throws an uncaught error (the dashboard included). The customer's registration and purchase
are watched the same way. The last test runs the crawl on a small made-up site with one fault
of each kind, so a checker that silently stopped seeing one fails there.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urldefrag, urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from tests.browser.journeys import steps

MAX_PAGES = 150
PER_SHAPE = 1
SKIP_PATHS = re.compile(r"logout|^/admin/")
SUBRESOURCES = {"image", "stylesheet", "script", "font"}
LOOPBACK = re.compile(r"^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$")
PASSWORD = "Crawl-" + uuid.uuid4().hex[:10]

# Every <img> gets its pixels, lazy ones included; then the ones without any are listed.
IMAGES_WITHOUT_PIXELS = """async () => {
    const images = [...document.images].filter(img => img.getAttribute("src"));
    images.forEach(img => { img.loading = "eager"; });
    await Promise.all(images.map(img => img.complete ? null : new Promise(done => {
        img.addEventListener("load", done, {once: true});
        img.addEventListener("error", done, {once: true});
        setTimeout(done, 5000);
    })));
    return images.filter(img => img.naturalWidth === 0).map(img => img.currentSrc || img.src);
}"""
REFERENCES = """() => [
    ...[...document.querySelectorAll("img[src], script[src], iframe[src], source[src]")]
        .map(e => e.src),
    ...[...document.querySelectorAll("link[href]")].map(e => e.href),
]"""
LINKS = "() => [...document.querySelectorAll('a[href]')].map(a => a.href)"


def shape(url: str) -> str:
    """The path with every segment that holds a digit wildcarded, the query's keys, and the
    column it sorts by: `/dashboard/orders/100001/?page=2` is `/dashboard/orders/*/?page`."""
    parts = urlsplit(url)
    path = "/".join("*" if re.search(r"\d", seg) else seg for seg in parts.path.split("/"))
    query = sorted(
        f"{key}={value.lstrip('-')}" if key == "sort" else key
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    return path + "?" + "&".join(query)


@dataclass
class Crawl:
    visitor: str
    base_url: str
    problems: list[str] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)
    left_over: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.visitor}: {len(self.visited)} pages in {self.seconds:.0f}s "
            f"({self.left_over} more same-origin links left unvisited by the cap)"
        )


def watch(page: Page, problem: Callable[[str], None]) -> None:
    """Report a 5xx answer, a subresource that answers 4xx or does not load, an uncaught error."""

    def on_response(response) -> None:
        kind = response.request.resource_type
        if response.status >= 500 or (kind in SUBRESOURCES and response.status >= 400):
            problem(f"{kind} {response.url} answered {response.status}")

    def on_failed(request) -> None:
        # A page left before its late requests finished aborts them: not the page's fault.
        if request.resource_type in SUBRESOURCES and request.failure != "net::ERR_ABORTED":
            problem(f"{request.resource_type} {request.url} failed: {request.failure}")

    page.on("response", on_response)
    page.on("requestfailed", on_failed)
    page.on("pageerror", lambda error: problem(f"uncaught JavaScript error: {error}"))


def crawl(page: Page, *, visitor: str, base_url: str, start: list[str]) -> Crawl:
    result = Crawl(visitor, base_url)
    origin = urlsplit(base_url).netloc
    current = {"url": ""}

    def problem(text: str) -> None:
        result.problems.append(f"{current['url']}: {text}")

    watch(page, problem)

    started = time.monotonic()
    queue = [base_url + path for path in start]
    seen = set(queue)
    shapes: dict[str, int] = {}
    menu_links: set[str] = set()  # what the start pages link to: the menus, header and footer
    # After the pages of new shapes: lists filtered, paged or exported; then lists sorted; then,
    # while the cap allows, more pages of shapes already seen (other products, other orders).
    variants: list[str] = []
    sorts: list[str] = []
    repeats: list[str] = []
    while (queue or variants or sorts or repeats) and len(result.visited) < MAX_PAGES:
        url = (queue or variants or sorts or repeats).pop(0)
        current["url"] = url
        result.visited.append(url)
        try:
            response = page.goto(url, wait_until="load")
        except PlaywrightError as error:
            if "Download is starting" not in str(error):
                problem(f"did not load: {error.message.splitlines()[0]}")
                continue
            response = page.context.request.get(url)  # a CSV export: its status is enough
            if response.status >= 400:
                problem(f"download answered {response.status}")
            continue
        if response is None:
            problem("no response")
            continue
        if response.status >= 400:
            problem(f"answered {response.status}")
        if "text/html" not in (response.headers.get("content-type") or ""):
            continue  # an image or a PDF: answering was all it had to do
        for src in page.evaluate(IMAGES_WITHOUT_PIXELS):
            problem(f"image without pixels: {src}")
        for ref in page.evaluate(REFERENCES):
            ref_origin = urlsplit(ref)
            if ref_origin.scheme in ("http", "https") and not LOOPBACK.match(ref_origin.netloc):
                problem(f"references something off this machine: {ref}")
        for link in page.evaluate(LINKS):
            link = urldefrag(link)[0]
            parts = urlsplit(link)
            if parts.scheme not in ("http", "https") or parts.netloc != origin:
                continue
            if SKIP_PATHS.search(parts.path):
                continue
            if len(result.visited) <= len(start):
                menu_links.add(link)
            if link in seen:
                continue
            seen.add(link)
            key = shape(link)
            shapes[key] = shapes.get(key, 0) + 1
            if link in menu_links or (shapes[key] <= PER_SHAPE and not parts.query):
                queue.append(link)
            elif shapes[key] <= PER_SHAPE:
                (sorts if "sort=" in parts.query else variants).append(link)
            elif not parts.query:
                repeats.append(link)
    result.left_over = len(queue) + len(variants) + len(sorts) + len(repeats)
    result.seconds = time.monotonic() - started
    unvisited_menu_links = sorted(menu_links - set(result.visited))
    if unvisited_menu_links:
        result.problems.append(
            f"the cap of {MAX_PAGES} pages left menu links unvisited: {unvisited_menu_links}"
        )
    return result


def assert_whole(result: Crawl) -> None:
    print("\n" + result.summary())
    assert result.problems == [], result.summary() + ":\n  " + "\n  ".join(result.problems)


@pytest.fixture(scope="module")
def customer(browser, store) -> tuple[str, str]:
    """A customer registered through the register form, who bought a card holder by card
    through the checkout pages (so there are order pages for them and for staff)."""
    email = f"crawl-{uuid.uuid4().hex[:8]}@example.com"
    context = browser.new_context(base_url=store.base_url)
    context.set_default_timeout(20_000)
    page = context.new_page()
    problems: list[str] = []
    watch(page, lambda text: problems.append(f"{page.url}: {text}"))
    try:
        page.goto("/accounts/register/")
        page.locator("#id_email").fill(email)
        page.locator("#id_password1").fill(PASSWORD)
        page.locator("#id_password2").fill(PASSWORD)
        page.locator("form:has(#id_password2)").locator("[type=submit]").first.click()
        expect(page).not_to_have_url(re.compile(r"/accounts/register/"))

        page.goto("/search/?q=folding+card+holder")
        page.get_by_role("link", name="Evergreen folding card holder").first.click()
        page.get_by_role("button", name="Add to basket").click()
        page.wait_for_load_state()
        page.goto("/basket/")
        page.get_by_role("link", name=re.compile("checkout", re.I)).first.click()
        steps.delivery_to_payment(page, steps.Customer(email=email, last_name="Crawl"))
        steps.pay_by_card(page)
        expect(page).to_have_url(re.compile(r"/checkout/thank-you/$"), timeout=30_000)
    finally:
        context.close()
    assert problems == [], "registering and buying:\n  " + "\n  ".join(problems)
    return email, PASSWORD


def test_anonymous_visitor_finds_every_page_whole(new_store_page, store):
    page = new_store_page()
    assert_whole(crawl(page, visitor="anonymous", base_url=store.base_url, start=["/"]))


def test_customer_finds_every_page_whole(new_store_page, store, customer):
    page = new_store_page()
    steps.sign_in(page, *customer, start="/accounts/login/")
    result = crawl(page, visitor="customer", base_url=store.base_url, start=["/", "/accounts/"])
    assert any(re.search(r"/accounts/orders/\w+/$", url) for url in result.visited)
    assert_whole(result)


def test_staff_finds_every_page_whole(new_store_page, store, customer):
    page = new_store_page()
    steps.sign_in(page, store.staff_email, store.staff_password, start="/accounts/login/")
    result = crawl(page, visitor="staff", base_url=store.base_url, start=["/", "/dashboard/"])
    assert any(re.search(r"/dashboard/orders/\w+/$", url) for url in result.visited)
    assert_whole(result)


def test_the_crawl_sees_what_it_must(page: Page):
    """The checker itself, on a small made-up site served by Playwright's routing (nothing
    reaches the network): each kind of fault is reported, and a logout link is never taken."""
    base = "http://127.0.0.1:1"  # nothing listens there: every request is answered by route
    html = {
        "/": '<link rel="stylesheet" href="/s.css"><a href="/a/">a</a> <a href="/boom/">b</a>'
        ' <a href="/missing/">m</a> <a href="/logout/">out</a>'
        ' <a href="https://elsewhere.example/">elsewhere</a>',
        "/a/": '<img src="/blank.png"><script src="https://cdn.example.com/lib.js"></script>'
        "<script>undefinedFunction()</script>",
        "/missing/": '<img src="/nope.png">',
    }
    asked: list[str] = []

    def answer(route):
        path = urlsplit(route.request.url).path
        asked.append(route.request.url)
        if not route.request.url.startswith(base):
            route.abort()
        elif path in html:
            route.fulfill(status=200, content_type="text/html", body=html[path])
        elif path == "/s.css":
            route.fulfill(status=200, content_type="text/css", body="body{}")
        elif path == "/blank.png":
            route.fulfill(status=200, content_type="image/png", body=b"not a png")
        elif path == "/boom/":
            route.fulfill(status=500, content_type="text/html", body="boom")
        else:
            route.fulfill(status=404, content_type="text/html", body="no")

    page.route("**/*", answer)
    result = crawl(page, visitor="test", base_url=base, start=["/"])
    found = "\n".join(result.problems)

    assert sorted(result.visited) == [f"{base}{p}" for p in ("/", "/a/", "/boom/", "/missing/")]
    assert f"{base}/boom/: document {base}/boom/ answered 500" in found
    assert f"{base}/boom/: answered 500" in found
    assert f"{base}/missing/: image {base}/nope.png answered 404" in found
    assert f"{base}/a/: image without pixels: {base}/blank.png" in found
    assert (
        f"{base}/a/: references something off this machine: https://cdn.example.com/lib.js" in found
    )
    assert f"{base}/a/: uncaught JavaScript error:" in found and "undefinedFunction" in found
    assert not [url for url in asked if "logout" in url or "elsewhere" in url]
