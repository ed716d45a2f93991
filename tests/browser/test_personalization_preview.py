"""The product page's personalisation in a real browser: the live monogram preview, the total
and the dispatch date follow the choices without a round trip; the choices reach the basket;
initials we cannot stamp come back with the field's message and leave the basket alone.

Screenshots of the product page at phone and desktop widths are written to
var/screenshots/ (BROWSER_SCREENSHOTS overrides the folder) for a person to look at (the test
catalogue has no product pictures, so the preview lies over the placeholder)."""

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from shop.basket.models import Basket
from shop.catalogue.models import Product
from shop.personalization.selectors import line_choices

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS", ROOT / "var" / "screenshots"))
TIMEOUT_MS = 10_000


@pytest.fixture
def holdall(transactional_db, demo_personalization) -> Product:
    """A standalone holdall offering monogram positions, thread colours and hardware."""
    return Product.objects.get(upc="MV-EG-HOL")


@pytest.fixture
def shop_page(page: Page, live_server) -> Page:
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    return page


def _money(text: str) -> list[Decimal]:
    return [Decimal(m.replace(",", "")) for m in re.findall(r"£([\d,]+\.\d{2})", text)]


def _basket_lines() -> list:
    basket = Basket.objects.filter(status=Basket.OPEN).order_by("-pk").first()
    return list(basket.all_lines()) if basket else []


def test_preview_total_and_dispatch_follow_the_choices_into_the_basket(
    shop_page: Page, live_server, holdall
):
    page = shop_page
    price = holdall.stockrecords.get().price
    page.goto(live_server.url + holdall.get_absolute_url())

    # shop.js has run: the preview is shown and describes the piece in words.
    say = page.locator("[data-mv-preview-text]")
    expect(say).to_be_visible()
    expect(say).to_have_text(re.compile(r"^Preview: no monogram"))
    dispatch = page.locator("[data-mv-dispatch]")
    first_dispatch = dispatch.inner_text()

    page.get_by_label("Monogram initials").fill("jb")
    initials = page.locator("[data-mv-pv-initials]")
    expect(initials.first).to_have_text("JB")  # upper-cased as they type
    page.get_by_label("Monogram style").select_option("foil")
    page.get_by_label("Position").select_option("front")
    page.get_by_label("Thread colour").select_option("forest")
    page.get_by_label("Hardware finish").select_option("nickel")

    for i in range(initials.count()):  # every copy of the preview (over the picture, in the form)
        expect(initials.nth(i)).to_have_text("JB")
        expect(initials.nth(i)).to_have_attribute("fill", re.compile(r"url\(#mvpv-\w+-gold\)"))
    expect(page.locator("[data-mv-pv-label]").first).to_have_text("FRONT CORNER")
    expect(page.locator("[data-mv-pv-stitch]").first).to_have_attribute("stroke", "#2F4A3A")
    expect(page.locator("[data-mv-pv-hw]").first).to_have_attribute("display", "inline")
    expect(say).to_have_text(
        "Preview: JB in gold foil, front corner, forest thread, nickel hardware."
    )

    # Foil £15 and hardware £12 on top of the price; the made-to-order rule shows by the button.
    total = page.locator("[data-mv-personalise-total]")
    expect(total).to_contain_text("Personalisation £27.00")
    assert _money(total.inner_text())[1] == price + Decimal("27.00")
    expect(page.locator("input[name='quoted_surcharge']")).to_have_value("27.00")
    expect(page.locator("[data-mv-mto]")).to_be_visible()
    expect(dispatch).not_to_have_text(first_dispatch)

    page.get_by_role("button", name="Add to basket").click()
    page.wait_for_load_state()
    page.goto(live_server.url + "/basket/")
    line = page.locator(".mv-line").filter(has_text=holdall.get_title())
    expect(line).to_have_count(1)
    for text in ("JB · Gold foil · Front corner", "+£15.00", "Forest", "Nickel", "+£12.00"):
        expect(line).to_contain_text(text)
    expect(line.get_by_role("link", name=re.compile("^Change"))).to_have_attribute(
        "href", re.compile(r"^/basket/lines/\d+/personalize/$")
    )
    [added] = _basket_lines()
    assert line_choices(added).initials == "JB"

    # Initials we cannot stamp: back on the product page with the field's message, nothing added.
    page.goto(live_server.url + holdall.get_absolute_url())
    page.get_by_label("Monogram initials").fill("A1")
    page.get_by_label("Monogram style").select_option("deboss")
    page.get_by_label("Position").select_option("inside")
    expect(say).to_contain_text("Only the letters A to Z can be stamped.")
    page.get_by_role("button", name="Add to basket").click()
    page.wait_for_load_state()
    assert page.url.split("?")[0] == live_server.url + holdall.get_absolute_url()
    field = page.locator(".mv-field--initials")
    expect(field.locator(".mv-field__error")).to_contain_text("letters A to Z")
    expect(page.get_by_label("Monogram initials")).to_have_value("A1")
    assert [(line.pk, line.quantity) for line in _basket_lines()] == [(added.pk, 1)]
    assert line_choices(_basket_lines()[0]).initials == "JB"


@pytest.mark.parametrize("width", [390, 1280])
def test_product_page_with_choices_screenshot(shop_page: Page, live_server, holdall, width):
    """Not a pixel comparison: the page renders at phone and desktop widths with the preview
    where it belongs and no sideways scrolling; the pictures are kept for a person to check."""
    page = shop_page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server.url + holdall.get_absolute_url())
    page.get_by_label("Monogram initials").fill("emw")
    page.get_by_label("Monogram style").select_option("deboss")
    page.get_by_label("Position").select_option("inside")
    page.get_by_label("Thread colour").select_option("oxblood")
    page.get_by_label("Hardware finish").select_option("brass")

    shown = ".mv-preview--over" if width >= 900 else ".mv-preview--inline"
    hidden = ".mv-preview--inline" if width >= 900 else ".mv-preview--over"
    expect(page.locator(shown)).to_be_visible()
    expect(page.locator(hidden)).to_be_hidden()
    expect(page.locator(f"{shown} [data-mv-pv-initials]")).to_have_text("EMW")
    expect(page.locator(f"{shown} [data-mv-pv-inside]")).to_have_attribute("display", "inline")
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"product-personalised-{width}.png"), full_page=True)
