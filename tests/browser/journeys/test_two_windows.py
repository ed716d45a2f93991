"""Journey: one customer, two windows of the same browser. The payment page in window 1
shows "Pay £135.00"; window 2 adds a second wallet; window 1 presses Pay: nothing is
charged, the page says the basket changed in another window and shows the new total; paying
that places one order for exactly what was shown."""

import re

from playwright.sync_api import Page, expect

from . import steps


def test_a_basket_changed_in_another_window_is_never_charged_the_old_amount(
    store, store_page: Page
):
    first = store_page
    ada = steps.new_customer("two-windows")
    steps.register(first, ada)
    steps.personalised_wallet_to_basket(first)
    steps.checkout_to_payment(first, ada)
    expect(first.get_by_role("button", name="Pay £135.00 and place order")).to_be_visible()

    second = first.context.new_page()  # same cookies: the same customer and basket
    steps.personalised_wallet_to_basket(second)
    second.close()

    steps.pay_by_card(first)
    expect(
        first.get_by_text("Your basket changed in another window: the new total is £")
    ).to_be_visible()
    expect(first).to_have_url(re.compile(r"/checkout/payment-details/$"))
    pay = first.get_by_role("button", name=re.compile(r"^Pay £\d+\.\d\d and place order$"))
    expect(pay).not_to_have_text("Pay £135.00 and place order")
    shown = re.search(r"£[\d.,]+", pay.inner_text()).group(0)

    steps.pay_by_card(first)
    number = steps.order_number_on_thank_you(first)
    first.goto("/accounts/orders/")
    rows = first.get_by_role("row").filter(has_text=re.compile(r"\d{6}"))
    expect(rows).to_have_count(1)
    expect(rows.filter(has_text=number)).to_contain_text(shown)
