"""Journey: a visitor's basket, on the store `make run` starts, as a shopper uses it.

Without an account, a visitor personalises a long wallet (monogram and thread) and adds a key
fob. The basket page shows each line's personalisation and price, and its totals add up to the
lines. Browsing on (a search and a listing sorted their own way: pages no one asked for yet,
rendered past the page cache), the header counts the basket's items. Two wallets, then the fob
taken out: the basket page and the next new page follow. Registering through the form, the
basket comes along with its personalisation.

What it walks: the visitor's basket read with its lines, their personalisation and offers
(shop.basket.selectors.open_anonymous_basket), the basket page's prices and totals
(shop.basket.views), and the header's count on pages that do not load the basket
(storefront_tags.basket_item_count).
"""

import re
from decimal import Decimal

from playwright.sync_api import Page, expect

from . import steps


def _money(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d.]", "", text.split("£")[1].split()[0]))


def _header_count(page: Page, items: int) -> None:
    label = f"Basket, {items} item{'s' if items != 1 else ''}"
    expect(page.get_by_role("link", name=label)).to_be_visible()


def _basket_adds_up(page: Page, items: int) -> None:
    """On the basket page: the line prices add up to the items' total, and the total shown
    at the top is the summary's."""
    summary = page.locator(".mv-summary")
    expect(summary.get_by_role("rowheader", name=f"Items ({items})")).to_be_visible()
    lines = [_money(t) for t in page.locator(".mv-line__price").all_inner_texts()]
    items_total = _money(summary.get_by_role("row", name=re.compile(r"^Items")).inner_text())
    assert lines and sum(lines) == items_total, (lines, items_total)
    top = _money(page.locator(".mv-basket-top strong").inner_text())
    assert top == _money(summary.locator(".mv-summary__total td").inner_text())
    assert top >= items_total


def test_visitor_personalises_browses_changes_and_keeps_the_basket_on_registering(
    store, store_page: Page
):
    page = store_page

    # A personalised wallet and a plain key fob, without an account.
    steps.personalised_wallet_to_basket(page)
    steps.search_for(page, "key fob")
    page.get_by_role("link", name="Evergreen key fob").first.click()
    page.get_by_role("button", name="Add to basket").click()
    expect(page.get_by_text(re.compile(r"has been added to your basket"))).to_be_visible()

    page.get_by_role("link", name=re.compile(r"^Basket")).first.click()
    wallet = page.locator(".mv-line", has_text="Evergreen long wallet")
    expect(wallet).to_contain_text("AJ · Blind deboss")
    expect(wallet).to_contain_text("Oxblood")
    expect(wallet).to_contain_text("+£10.00")
    expect(page.locator(".mv-line", has_text="Evergreen key fob")).to_be_visible()
    _basket_adds_up(page, 2)

    # Browsing on: a search and a listing no one sorted this way yet; the header counts.
    steps.search_for(page, "oxblood thread wallet")
    page.get_by_label("Sort by").select_option(label="Price, high to low")
    expect(page).to_have_url(re.compile(r"sort_by=price-desc"))
    _header_count(page, 2)

    # Two wallets: the basket page prices them, and the next new page counts three items.
    page.get_by_role("link", name=re.compile(r"^Basket")).first.click()
    unit = _money(wallet.locator(".mv-line__price").inner_text())
    quantity = wallet.get_by_label("Quantity")
    quantity.fill("2")
    quantity.press("Enter")
    expect(wallet.get_by_label("Quantity")).to_have_value("2")
    expect(wallet.locator(".mv-line__price")).to_contain_text(f"£{unit * 2:.2f}")
    expect(wallet.locator(".mv-line__price")).to_contain_text(f"£{unit:.2f} each")
    _basket_adds_up(page, 3)
    page.get_by_role("navigation", name="Shop").get_by_role("link", name="Shop all").click()
    page.get_by_label("Sort by").select_option(label="Price, low to high")
    expect(page).to_have_url(re.compile(r"sort_by=price-asc"))
    _header_count(page, 3)

    # The fob taken out.
    page.get_by_role("link", name=re.compile(r"^Basket")).first.click()
    page.get_by_role("button", name="Remove Evergreen key fob").click()
    expect(page.locator(".mv-line", has_text="Evergreen key fob")).to_have_count(0)
    _header_count(page, 2)
    _basket_adds_up(page, 2)

    # Registering: the basket comes along, personalisation and all.
    steps.register(page, steps.new_customer("basket"))
    page.get_by_role("link", name=re.compile(r"^Basket")).first.click()
    expect(page.locator(".mv-line")).to_have_count(1)
    expect(page.locator(".mv-line")).to_contain_text("AJ · Blind deboss")
    expect(page.locator(".mv-line").get_by_label("Quantity")).to_have_value("2")
    _header_count(page, 2)
    _basket_adds_up(page, 2)
