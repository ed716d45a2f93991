"""Journey: growth from the shop's own data, walked through the pages.

Bea, a customer, copies her share link from her account. Cal lands on the shop from a
newsletter link (UTM parameters), accepts analytics in the banner and is given a variant of
the running take-back-promise experiment (the product page shows the promise or not, as his
variant says). He follows Bea's link, registers (ticking the marketing emails box), buys a
personalised wallet, then puts a key fob in his basket and leaves it. The worker sends him
one abandoned-basket email; its unsubscribe link works in a browser where nobody is signed in.
Staff then find, through the dashboard, Cal's visit in the funnel under his newsletter source,
his conversion in the experiment's report, and both referral credits (Bea's and Cal's).

The store's beat runs the abandoned-basket sweep every few seconds and calls a basket
abandoned after a few seconds (LIFECYCLE_ABANDONED_* in the journeys' store environment);
the growth events drain every few seconds (GROWTH_DRAIN_SECONDS).
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from shop.experiments.hashing import pick

from . import steps

# A shopper's browser (headless Chromium says "HeadlessChrome", which the shop counts as a bot).
BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
LANDING = "/?utm_source=winter-letter&utm_medium=email&utm_campaign=send-it-home"
ABANDONED_SUBJECT = "Your basket is still waiting for you"


def _cookie(page: Page, name: str) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == name)


def _unsubscribe_link(head: str) -> str:
    """The one-click link of the List-Unsubscribe header (the same as the email's own)."""
    return re.search(r"^List-Unsubscribe:\s*<(https?://[^>]+)>", head, re.M).group(1)


def test_utm_visitor_accepts_analytics_registers_by_referral_buys_and_is_emailed_once(
    store, new_store_page
):
    # Bea's share link, from her account.
    bea_page = new_store_page()
    bea = steps.new_customer("bea")
    steps.register(bea_page, bea)
    bea_page.get_by_role("link", name="Account").click()
    bea_page.get_by_role("link", name="Invite friends").click()
    share_link = bea_page.get_by_label("Your share link").input_value()
    assert re.search(r"/r/[\w-]+/$", share_link), share_link

    # Cal lands from the newsletter and accepts analytics in the banner.
    cal_page = new_store_page(user_agent=BROWSER_UA)
    cal = steps.new_customer("cal")
    cal_page.goto(LANDING)
    banner = cal_page.locator("section.mv-consent")
    expect(banner).to_be_visible()
    banner.get_by_role("button", name="Accept analytics").click()
    expect(cal_page.locator("section.mv-consent")).to_have_count(0)
    visitor = _cookie(cal_page, "mv_vid")
    variant = pick("takeback-promise", visitor, [("control", 50), ("promise", 50)])

    # His variant on the product page: the take-back promise, or the page as it was.
    cal_page.get_by_role("navigation", name="Shop").get_by_role("link", name="Evergreen").click()
    cal_page.get_by_role("link", name="Evergreen long wallet").first.click()
    promise = cal_page.locator("[data-takeback-promise]")
    expect(promise).to_have_count(1 if variant == "promise" else 0)
    cal_page.reload()  # the same page again, from the cache: the same variant
    expect(promise).to_have_count(1 if variant == "promise" else 0)

    # Through Bea's link to the register form, marketing emails ticked.
    cal_page.goto(share_link)
    cal_page.get_by_role("link", name="Sign in").click()
    form = cal_page.locator("#register_form")
    form.get_by_label("Email address").fill(cal.email)
    form.get_by_label("Password", exact=True).fill(cal.password)
    form.get_by_label("Confirm password").fill(cal.password)
    form.get_by_label("Email me about new pieces, care tips and offers").check()
    form.get_by_role("button", name="Register").click()
    expect(cal_page.get_by_role("button", name="Sign out")).to_be_visible()

    # He buys a personalised wallet.
    steps.personalised_wallet_to_basket(cal_page)
    steps.checkout_to_payment(cal_page, cal)
    steps.pay_by_card(cal_page)
    number = steps.order_number_on_thank_you(cal_page)

    # Then puts a key fob in his basket and leaves.
    cal_page.goto("/")
    steps.search_for(cal_page, "key fob")
    cal_page.get_by_role("link", name="Evergreen key fob").first.click()
    cal_page.get_by_role("button", name="Add to basket").click()
    expect(cal_page.get_by_text("has been added to your basket")).to_be_visible()

    # One abandoned-basket email, however many sweeps pass.
    message = store.wait_for_email(to=cal.email, subject=ABANDONED_SUBJECT, timeout=90)
    assert "Evergreen key fob" in message
    head = re.sub(r"\n[ \t]+", " ", message.split("\n\n", 1)[0])  # headers unfolded
    assert "/email/unsubscribe/" in _unsubscribe_link(head)
    assert re.search(r"^List-Unsubscribe-Post: List-Unsubscribe=One-Click", head, re.M)
    time.sleep(12)  # several sweeps later

    def abandoned_to_cal() -> list[str]:
        return [
            m
            for m in store.emails()
            if cal.email in m.split("\n\n", 1)[0] and ABANDONED_SUBJECT in m.split("\n\n", 1)[0]
        ]

    assert len(abandoned_to_cal()) == 1

    # Its unsubscribe link, opened where nobody is signed in.
    stranger = new_store_page()
    stranger.goto(_unsubscribe_link(head))
    expect(stranger.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    cal_page.goto("/accounts/email-preferences/")
    expect(
        cal_page.get_by_label("Email me about new pieces, care tips and offers")
    ).not_to_be_checked()

    # Staff: the visit in the funnel, under the newsletter's source.
    staff = new_store_page()
    steps.staff_sign_in(staff, store.staff_email, store.staff_password)
    steps.dashboard_menu(staff, "Growth", "Funnel")
    # By source (the report's default breakdown): his newsletter, every step once.
    steps.reload_until(staff, ("[data-breakdown=source]", "winter-letter"))  # drained often
    row = staff.locator("[data-breakdown=source] tr").filter(has_text="winter-letter")
    # visit, product view, add to basket, checkout started, payment page, order paid
    expect(row.get_by_role("cell")).to_have_text(["winter-letter", "1", "1", "1", "1", "1", "1"])

    # The conversion in the experiment, in Cal's variant.
    steps.dashboard_menu(staff, "Growth", "Experiments")
    staff.get_by_role("row").filter(has_text="takeback-promise").get_by_role(
        "link", name="Report"
    ).click()
    label = {"control": "As today", "promise": "Take-back promise shown"}[variant]
    row = staff.get_by_role("row").filter(has_text=label)
    expect(row).to_be_visible()
    expect(row.locator("[data-visitors]")).to_have_text("1")
    expect(row.locator("[data-conversions]")).to_have_text("1")  # the goal: add to basket

    # Both referral credits: Bea's and Cal's, for Cal's first order.
    steps.dashboard_menu(staff, "Growth", "Referrals")
    referral = staff.get_by_role("row").filter(has_text=cal.email)
    steps.reload_until(staff, (f"tr:has-text('{cal.email}')", "Rewarded"))
    expect(referral).to_contain_text(bea.email)
    expect(referral).to_contain_text(number)
    bea_page.goto("/")
    bea_page.get_by_role("link", name="Account").click()
    bea_page.get_by_role("link", name="Store credit").click()
    expect(bea_page.locator("main")).to_contain_text("£10.00")
    cal_page.goto("/accounts/credit/")
    expect(cal_page.locator("main")).to_contain_text("£10.00")
