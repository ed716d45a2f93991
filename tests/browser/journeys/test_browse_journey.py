"""Journey: a shopper browses a category the way people do, on the store `make run` starts.

Opens Wallets from the menu (marked as the current page), narrows it by line (each value
with its count, the count matching the pieces listed; everything the shop makes shows its own
counts), sorts by price, declines analytics on
that page (the banner's form brings them back to the same filtered address, banner gone),
takes the filter away by its chip, pages through everything the shop makes by price and
back, follows a "did you mean" from a search that found nothing, puts a key fob in the
basket and makes it two there, and goes back to Wallets from the basket's menu and home by
the breadcrumb. Every page is rendered past the page cache (the filter, sort and page make
new addresses).
"""

import re

from playwright.sync_api import Page, expect

from . import steps


def _prices(page: Page) -> list[float]:
    texts = page.locator(".mv-card__price").all_inner_texts()
    return [float(re.sub(r"[^\d.]", "", t.split("£")[-1])) for t in texts]


def test_shopper_filters_sorts_pages_and_changes_the_basket(store, store_page: Page):
    page = store_page
    page.goto("/")
    menu = page.get_by_role("navigation", name="Shop")
    menu.get_by_role("link", name="Wallets").click()
    expect(page.get_by_role("heading", level=1, name="Wallets")).to_be_visible()
    expect(menu.get_by_role("link", name="Wallets")).to_have_attribute("aria-current", "page")

    # The line filter offers each value with its count; choosing one lists exactly that many.
    line = page.get_by_label("Line")
    option = line.locator("option", has_text="Evergreen")
    count = int(re.search(r"\((\d+)\)", option.inner_text()).group(1))
    assert count > 0
    line.select_option(label=option.inner_text())
    expect(page).to_have_url(re.compile(r"line=Evergreen"))
    expect(page.locator(".mv-count")).to_have_text(f"{count} piece{'s' if count != 1 else ''}")
    expect(page.get_by_role("link", name=re.compile("Remove filter"))).to_be_visible()

    page.get_by_label("Sort by").select_option(label="Price, low to high")
    expect(page).to_have_url(re.compile(r"sort_by=price-asc"))
    prices = _prices(page)
    assert prices == sorted(prices) and prices
    first_card_img = page.locator(".mv-card img").first
    assert first_card_img.get_attribute("loading") is None  # the first row loads at once

    # The analytics banner, declined here: back on this very address, without the banner.
    filtered = page.url
    banner = page.locator(".mv-consent")
    expect(banner).to_be_visible()
    banner.get_by_role("button", name="Decline").click()
    expect(page).to_have_url(filtered)
    expect(page.locator(".mv-consent")).to_have_count(0)

    # The filter's chip takes it away again: the sort stays, every line is listed.
    page.get_by_role("link", name=re.compile("Remove filter")).click()
    expect(page).not_to_have_url(re.compile(r"line="))
    expect(page).to_have_url(re.compile(r"sort_by=price-asc"))
    everything = int(re.search(r"\d+", page.locator(".mv-count").inner_text()).group())
    assert everything > count
    prices = _prices(page)
    assert prices == sorted(prices) and prices

    # Everything the shop makes, dearest first, over more than one page: on and back. Its
    # filter shows its own counts, one beside each value, not those of Wallets just seen (each
    # request's form counts on its own copy of the fields).
    menu.get_by_role("link", name="Shop all").click()
    everywhere = page.get_by_label("Line").locator("option", has_text="Evergreen").inner_text()
    assert re.fullmatch(r"Evergreen \(\d+\)", everywhere.strip()), everywhere
    assert int(re.search(r"\((\d+)\)", everywhere).group(1)) > count
    page.get_by_label("Sort by").select_option(label="Price, high to low")
    expect(page).to_have_url(re.compile(r"sort_by=price-desc"))
    first = _prices(page)
    assert first == sorted(first, reverse=True) and first
    pages = page.get_by_role("navigation", name="Pages")
    expect(pages.locator("[aria-current=page]")).to_have_text(re.compile(r"1$"))
    pages.get_by_role("link", name="Next").click()
    expect(page).to_have_url(re.compile(r"sort_by=price-desc&page=2"))
    more = _prices(page)
    assert more == sorted(more, reverse=True) and more[0] <= first[-1]
    expect(pages.locator("[aria-current=page]")).to_have_text(re.compile(r"2$"))
    pages.get_by_role("link", name="Previous").click()
    expect(page).not_to_have_url(re.compile(r"page="))
    assert _prices(page) == first

    # A search that finds nothing offers the words it knows; following it finds pieces.
    page.locator("#mv-q-bar").fill("brdle satchil")
    page.locator("#mv-q-bar").press("Enter")
    expect(page.get_by_role("heading", name=re.compile("Nothing found"))).to_be_visible()
    page.locator(".mv-did-you-mean a").click()
    expect(page.get_by_role("heading", level=1, name=re.compile("Results for"))).to_be_visible()
    assert page.locator(".mv-card").count() > 0

    # A key fob into the basket, then two of it in the basket.
    steps.search_for(page, "key fob")
    page.get_by_role("link", name="Evergreen key fob").first.click()
    page.get_by_role("button", name="Add to basket").click()
    expect(page.get_by_text(re.compile(r"has been added to your basket"))).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^Basket")).first.click()
    expect(page.locator("main")).to_contain_text("Evergreen key fob")
    field = page.locator("main input[name$='-quantity']").first
    field.fill("2")
    field.press("Enter")
    expect(page.locator("main input[name$='-quantity']").first).to_have_value("2")
    expect(page.get_by_role("link", name=re.compile(r"Basket, 2 items"))).to_be_visible()

    # The basket (never a cached page) has the same menu and links: back to Wallets from it.
    menu.get_by_role("link", name="Wallets").click()
    expect(page.get_by_role("heading", level=1, name="Wallets")).to_be_visible()
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Home").click()
    expect(page).to_have_url(re.compile(r"/$"))
