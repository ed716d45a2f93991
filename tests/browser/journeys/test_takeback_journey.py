"""Journey 2: a customer's wallet comes back through the take-back scheme, its credit buys
the next one, and the wallet itself is sold again as a pre-loved piece.

The customer registers and buys a personalised wallet by card; staff, signed in through the
dashboard login, finish its workshop job, ship it and mark it delivered (the take-back rules
would take a paid order back already; a customer sends back what they have received); the
customer registers it for take-back, adds a photo
and gets the prepaid label (a PDF); staff receive the parcel by its tracking number, grade
it and approve the credit; the customer finds the credit in the account (two decimals) and
spends it at checkout, the card paying what is left. Staff publish the graded-A wallet as a
pre-loved piece with the customer's photo; a second customer finds it under Pre-loved in the
navigation and buys it by card; it is gone from the shop, and the take-back report counts it.
"""

import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect

from . import steps


def _photo(tmp_path: Path) -> Path:
    path = tmp_path / "worn-wallet.jpg"
    image = Image.new("RGB", (320, 240), (92, 58, 38))
    for x in range(40, 280):  # a lighter band: something to see, not a blank frame
        for y in range(100, 140):
            image.putpixel((x, y), (170, 130, 90))
    image.save(path, "JPEG", quality=85)
    return path


def test_wallet_taken_back_for_credit_that_pays_for_the_next(store, new_store_page, tmp_path: Path):
    customer = new_store_page()
    staff = new_store_page()
    jo = steps.new_customer("jo")

    # The customer registers and buys a personalised wallet by card.
    steps.register(customer, jo)
    steps.personalised_wallet_to_basket(customer)
    steps.checkout_to_payment(customer, jo)
    steps.pay_by_card(customer)
    number = steps.order_number_on_thank_you(customer)

    # Staff sign in through the dashboard login, finish the workshop job, ship the order
    # and mark it delivered: the customer has the wallet in hand before sending it back.
    steps.staff_sign_in(staff, store.staff_email, store.staff_password)
    steps.dashboard_menu(staff, "Fulfilment", "Workshop jobs")
    steps.reload_until(staff, ("body", number))  # the worker opens the job
    staff.get_by_role("row").filter(has_text=number).get_by_role("button", name="Mark done").click()
    expect(staff.get_by_text(re.compile(rf"Order {number}, job \d+: Done"))).to_be_visible()
    steps.dashboard_menu(staff, "Fulfilment", "Orders to dispatch")
    row = staff.get_by_role("row").filter(has_text=number)
    expect(row).to_contain_text("Ready to ship")
    staff.get_by_label(f"Tracking number for order {number}").fill("RM123456785GB")
    row.get_by_role("button", name="Ship").click()
    staff.get_by_label("Show").select_option(label="Shipped, not yet delivered")
    staff.get_by_role("button", name="Filter").click()
    staff.get_by_label(f"Select order {number}").check()
    staff.get_by_label("With selected:").select_option(label="Move to delivered")
    staff.get_by_role("button", name="Apply").click()
    expect(staff.get_by_text(f"moved to delivered: {number}")).to_be_visible()
    customer.goto(f"/accounts/orders/{number}/")
    expect(customer.locator("[data-order-timeline]")).to_contain_text("RM123456785GB")
    expect(customer.locator("[data-order-timeline]")).to_contain_text("Delivered")
    store.wait_for_email(to=jo.email, subject="is on its way")

    # The customer registers the wallet for take-back.
    customer.goto("/")
    customer.get_by_role("link", name="Account").click()
    customer.get_by_role("link", name="Take back").click()
    customer.get_by_role("link", name="Send something back").click()
    item = customer.locator("fieldset[data-line]").filter(has_text=f"Order {number}")
    expect(item).to_contain_text("Evergreen long wallet")
    item.get_by_role("checkbox").check()
    item.get_by_label("Condition").select_option(label="Good: worn in, light marks")
    item.get_by_label("Anything we should know").fill("Corners a little worn")
    customer.get_by_label("I accept the take-back terms").check()
    customer.get_by_role("button", name="Register and get my label").click()
    expect(customer).to_have_url(re.compile(r"/accounts/take-back/\d+/$"))
    takeback_url = customer.url
    expect(customer.locator("main")).to_contain_text("£6.00 to £20.00")
    reference = re.search(r"TB-\w+", customer.locator("main").inner_text()).group(0)

    # A photo of it, a real JPEG through the upload field.
    customer.get_by_label("Add photos").set_input_files(_photo(tmp_path))
    customer.get_by_role("button", name="Upload").click()
    expect(customer.get_by_role("img", name="Your photo 1")).to_be_visible()
    assert (
        customer.evaluate(
            "() => { const i = document.querySelector('img[alt=\"Your photo 1\"]');"
            " return i.complete && i.naturalWidth }"
        )
        == 320
    )

    # The label is issued by the worker: the page shows it once it is there.
    steps.reload_until(customer, ("main", "Tracking number"))
    tracking = re.search(r"MV\d+GB", customer.locator("main").inner_text()).group(0)
    label_href = customer.get_by_role("link", name="Download the label (PDF)").get_attribute("href")
    label = customer.context.request.get(label_href)
    assert label.status == 200
    assert label.headers["content-type"] == "application/pdf"
    assert label.body().startswith(b"%PDF-")
    if shutil.which("pdftotext"):
        pdf = tmp_path / "label.pdf"
        pdf.write_bytes(label.body())
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert tracking in text and reference in text and "Evergreen long wallet" in text
    store.wait_for_email(to=jo.email, subject="label")

    # Staff receive the parcel by its tracking number, grade it and approve the credit.
    steps.dashboard_menu(staff, "Take-back", "Receive parcels")
    box = staff.get_by_label("Scan or type the tracking number")
    box.fill(tracking.lower())
    box.press("Enter")
    expect(staff.get_by_text(f"{reference} received")).to_be_visible()
    staff.get_by_role("link", name=f"Grade {reference} now").click()
    expect(staff.get_by_role("img", name="Customer photo")).to_be_visible()
    staff.get_by_label("A — like new").check()
    staff.get_by_label("End-of-life route").select_option(label="Resell as pre-loved")
    staff.get_by_label("Notes").fill("Clean, edges sound")
    staff.get_by_role("button", name="Save grade").click()
    expect(staff.get_by_role("heading", name="Approve credit")).to_be_visible()
    staff.get_by_label("Amount").fill("29.5")
    staff.get_by_role("button", name="Approve").click()
    expect(staff.locator("[data-audit-log]")).to_contain_text("Credit approved")
    takeback_staff_url = staff.url

    # The customer sees the credit, as money: £29.50, never £29.5.
    customer.goto(takeback_url)
    steps.reload_until(customer, ("main", "added to your"))
    expect(customer.locator("main")).to_contain_text("£29.50 added to your store credit")
    customer.get_by_role("link", name="Store credit").first.click()
    expect(customer.locator("[data-credit-balance]")).to_have_text("£29.50")
    expect(customer.locator("[data-credit-history]")).to_contain_text("+£29.50")
    store.wait_for_email(to=jo.email, subject="credit")

    # ... and spends it on the next wallet: the card pays the rest.
    steps.personalised_wallet_to_basket(customer)
    steps.checkout_to_payment(customer, jo)
    expect(customer.get_by_text("You have £29.50 of store credit.")).to_be_visible()
    customer.get_by_role("button", name="Use my store credit").click()
    expect(customer.locator("main")).to_contain_text("Store credit applied: −£29.50 (of £29.50)")
    expect(customer.locator("[data-amount-due]")).to_have_text("£105.50")
    steps.pay_by_card(customer)
    second = steps.order_number_on_thank_you(customer)
    expect(customer.locator("main")).to_contain_text("Paid with your store credit: £29.50")
    expect(customer.locator("main")).to_contain_text("Paid by card: £105.50")
    customer.goto("/accounts/credit/")
    expect(customer.locator("[data-credit-balance]")).to_have_text("£0.00")
    expect(customer.locator("[data-credit-history]")).to_contain_text(f"order {second}")
    expect(customer.locator("[data-credit-history]")).to_contain_text("−£29.50")

    # What the take-back report shows before (the store carries the demo's history).
    steps.dashboard_menu(staff, "Take-back", "Take-back report")
    sold_before = int(staff.locator("[data-preloved] [data-sold]").inner_text())
    on_sale_before = int(staff.locator("[data-preloved] [data-on-sale]").inner_text())
    revenue_before = _pounds(staff.locator("[data-resale-revenue]").inner_text())

    # Staff publish the wallet as a pre-loved piece, with the customer's photo made public.
    staff.goto(takeback_staff_url)
    publish = staff.locator("[data-publish-form]")
    expect(publish).to_contain_text("Price between")
    publish.get_by_label("From the customer photo 1").check()
    publish.get_by_label("Repaired in our workshop").fill("Edges re-burnished")
    publish.get_by_role("button", name="Publish pre-loved").click()
    expect(staff.get_by_text(f"{reference} is on sale as")).to_be_visible()
    piece = staff.locator("[data-preloved-piece] a").inner_text()
    assert piece.startswith("Evergreen long wallet") and piece.endswith("pre-loved, grade A")

    # A second customer finds it under Pre-loved and buys it by card.
    shopper = new_store_page()
    sam = steps.new_customer("sam")
    steps.register(shopper, sam)
    shopper.goto("/")
    shopper.get_by_role("navigation", name="Shop").get_by_role("link", name="Pre-loved").click()
    shopper.get_by_role("link", name=piece).first.click()
    expect(shopper.locator("[data-preloved-piece]")).to_contain_text("Pre-loved, grade A.")
    expect(shopper.locator("[data-preloved-piece]")).to_contain_text("Edges re-burnished")
    expect(shopper.get_by_label("Monogram initials")).to_have_count(0)
    picture = shopper.get_by_role("img", name=piece).first
    expect(picture).to_be_visible()
    shopper.get_by_role("button", name="Add to basket").click()
    shopper.get_by_role("link", name="Basket").first.click()
    expect(shopper.locator("main")).to_contain_text("pre-loved, grade A")
    shopper.get_by_role("link", name="Go to checkout").click()
    steps.delivery_to_payment(shopper, sam)
    steps.pay_by_card(shopper)
    resale = steps.order_number_on_thank_you(shopper)
    expect(shopper.locator("main")).to_contain_text("pre-loved, grade A")

    # It is gone from the shop ...
    shopper.goto("/")
    shopper.get_by_role("navigation", name="Shop").get_by_role("link", name="Pre-loved").click()
    expect(shopper.get_by_role("link", name=piece)).to_have_count(0)

    # ... and the take-back report counts it.
    steps.dashboard_menu(staff, "Take-back", "Take-back report")
    expect(staff.locator("[data-preloved] [data-sold]")).to_have_text(str(sold_before + 1))
    expect(staff.locator("[data-preloved] [data-on-sale]")).to_have_text(str(on_sale_before))
    assert _pounds(staff.locator("[data-resale-revenue]").inner_text()) > revenue_before
    email = store.wait_for_email(to=sam.email, subject=resale).replace("=\n", "")
    assert "pre-loved, grade A" in email


def _pounds(text: str) -> Decimal:
    """ "£1,234.50" as money."""
    return Decimal(text.strip().lstrip("£").replace(",", ""))
