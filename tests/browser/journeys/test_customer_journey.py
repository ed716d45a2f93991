"""Journey 1: a new customer buys a personalised wallet, the way people do.

Registers through the Register form, signs out, signs back in through the Log In form,
finds the wallet by searching with a typo (the filters showing their counts), personalises
it, checks out with a UK address and Royal Mail, pays by card (localstripe's Stripe.js),
lands on the thank-you page, and finds the order with its timeline in the account; the
worker's order emails reach the mailbox.
"""

import re

from playwright.sync_api import Page, expect

from . import steps


def test_new_customer_registers_buys_a_personalised_wallet_and_follows_the_order(
    store, store_page: Page
):
    page = store_page
    ada = steps.new_customer("ada")

    steps.register(page, ada)
    steps.sign_out(page)
    steps.sign_in(page, ada.email, ada.password)

    # Found by searching with a typo ("walet"), the line filter showing its counts.
    steps.personalised_wallet_to_basket(page, search="long walet")
    steps.checkout_to_payment(page, ada)
    expect(page.get_by_role("button", name="Pay £135.00 and place order")).to_be_visible()
    # The order summary (what Pay charges) stands beside the card form.
    summary = page.locator("[data-order-summary]")
    expect(summary).to_contain_text("Evergreen long wallet")
    expect(summary).to_contain_text("AJ · Blind deboss")
    expect(summary.locator("[data-summary-due]")).to_have_text("£135.00")
    card, aside = page.locator("#card-element").bounding_box(), summary.bounding_box()
    assert aside["x"] >= card["x"] + card["width"] and aside["y"] < card["y"] + card["height"]
    steps.pay_by_card(page)
    number = steps.order_number_on_thank_you(page)
    main = page.locator("main")
    expect(main).to_contain_text("AJ, blind deboss +£10.00")
    expect(main).to_contain_text("12 Lower Rushall Street")
    expect(main).to_contain_text("Royal Mail Tracked 48")

    # The account: the order in the history, and its timeline once the worker has been.
    page.goto("/")
    page.get_by_role("link", name="Account").click()
    page.get_by_role("link", name="Order History").click()
    row = page.get_by_role("row").filter(has_text=number)
    expect(row).to_contain_text("£135.00")
    row.get_by_role("link", name=number).click()
    expect(page).to_have_url(re.compile(rf"/accounts/orders/{number}/$"))
    expect(page.locator("main")).to_contain_text("Evergreen long wallet")
    timeline = "[data-order-timeline]"
    steps.reload_until(page, (timeline, "Email sent: Order placed"))
    expect(page.locator(timeline)).to_contain_text("Order placed")
    expect(page.locator(timeline)).to_contain_text("Payment received")

    # The welcome email, and the real worker's order emails, to the address registered.
    store.wait_for_email(to=ada.email, subject="Thank you for registering")
    confirmation = store.wait_for_email(to=ada.email, subject=f"order {number}")
    assert "Evergreen long wallet" in confirmation
    store.wait_for_email(to=ada.email, subject="is being made")
