"""What a customer does, step by step, through the pages only (shared by the journeys).

Each step starts from where a user would be and uses what they see: labels, roles and
button names; a placeholder only for the card fields of (fake) Stripe.js, which have
nothing else.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass

from playwright.sync_api import Page, expect

PASSWORD = "Walsall-saddle-stitch-1962"
CARD_OK = "4242 4242 4242 4242"


@dataclass
class Customer:
    email: str
    password: str = PASSWORD
    first_name: str = "Ada"
    last_name: str = "Jones"


def new_customer(name: str) -> Customer:
    return Customer(email=f"{name}-{uuid.uuid4().hex[:8]}@example.com")


def register(page: Page, customer: Customer) -> None:
    """The Register half of the login page, reached from the header's Sign in link."""
    page.goto("/")
    page.get_by_role("link", name="Sign in").click()
    form = page.locator("#register_form")
    form.get_by_label("Email address").fill(customer.email)
    form.get_by_label("Password", exact=True).fill(customer.password)
    form.get_by_label("Confirm password").fill(customer.password)
    form.get_by_role("button", name="Register").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("link", name="Account")).to_be_visible()


def sign_out(page: Page) -> None:
    page.goto("/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


def sign_in(page: Page, email: str, password: str, *, start: str = "/") -> None:
    """Through the header's Sign in link and the Log In form."""
    page.goto(start)
    if start == "/":
        page.get_by_role("link", name="Sign in").click()
    form = page.locator("#login_form")
    form.get_by_label("Email address").fill(email)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Log In").click()
    expect(page.locator("#login_form")).to_have_count(0)


def personalised_wallet_to_basket(
    page: Page, *, product: str = "Evergreen long wallet", search: str = ""
) -> None:
    """From the navigation (or the search box, typing ``search``) to a product page; monogram
    and thread chosen; into the basket."""
    page.goto("/")
    if search:
        search_for(page, search)
    else:
        page.get_by_role("navigation", name="Shop").get_by_role("link", name="Evergreen").click()
    page.get_by_role("link", name=product).first.click()
    expect(page.get_by_role("heading", name=product)).to_be_visible()
    page.get_by_label("Monogram initials").fill("aj")
    page.get_by_label("Monogram style").select_option(label="Blind deboss")
    page.get_by_label("Thread colour").select_option(label="Oxblood")
    page.get_by_role("button", name="Add to basket").click()
    expect(page.get_by_text(f"{product} has been added to your basket")).to_be_visible()


def search_for(page: Page, words: str) -> None:
    """Type ``words`` into the header's search box and search: results, each filter value
    with its count for them."""
    page.locator("#mv-q-bar").fill(words)
    page.locator("#mv-q-bar").press("Enter")
    expect(page.get_by_role("heading", name=re.compile("Results for"))).to_be_visible()
    expect(page.get_by_label("Line").locator("option").nth(1)).to_have_text(
        re.compile(r"^\w+ \(\d+\)$")
    )


def checkout_to_payment(page: Page, customer: Customer) -> None:
    """Basket, UK delivery address, Royal Mail: stops on the payment page."""
    page.get_by_role("link", name="Basket").first.click()
    expect(page.locator("main")).to_contain_text("AJ · Blind deboss")
    expect(page.locator("main")).to_contain_text("Oxblood")
    page.get_by_role("link", name="Go to checkout").click()
    delivery_to_payment(page, customer)


def delivery_to_payment(page: Page, customer: Customer) -> None:
    """From the delivery address page: a UK address, Royal Mail; stops on the payment page."""
    expect(page).to_have_url(re.compile(r"/checkout/shipping-address/$"))
    page.get_by_label("First name").fill(customer.first_name)
    page.get_by_label("Last name").fill(customer.last_name)
    page.get_by_label("First line of address").fill("12 Lower Rushall Street")
    page.get_by_label("Town or city").fill("Walsall")
    page.get_by_label("Postcode").fill("WS1 2AA")
    page.get_by_label("Phone number").fill("01922 000000")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/checkout/shipping-method/$"))
    page.locator("form:has([name=method_code][value=royal-mail-tracked-48])").get_by_role(
        "button", name="Select option"
    ).click()
    expect(page).to_have_url(re.compile(r"/checkout/payment-details/$"))


def pay_by_card(page: Page, number: str = CARD_OK) -> None:
    """The fake Card Element's five inputs (found by placeholder), then Pay."""
    card = page.locator("#card-element")
    card.get_by_placeholder("number").fill(number)
    card.get_by_placeholder("exp_month").fill("12")
    card.get_by_placeholder("exp_year").fill("34")
    card.get_by_placeholder("cvc").fill("123")
    card.get_by_placeholder("postal_code").fill("WS12AA")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()


def order_number_on_thank_you(page: Page) -> str:
    expect(page).to_have_url(re.compile(r"/checkout/thank-you/$"), timeout=45_000)
    heading = page.get_by_role("heading", name=re.compile(r"Order \d+: confirmation"))
    expect(heading).to_be_visible()
    return re.search(r"Order (\d+)", heading.inner_text()).group(1)


def reload_until(page: Page, locator_text: tuple, *, timeout: float = 60.0) -> None:
    """Reload until `page.locator(selector)` contains `text` (the worker is behind it)."""
    selector, text = locator_text
    deadline = time.monotonic() + timeout
    while True:
        if text in page.locator(selector).inner_text():
            return
        if time.monotonic() > deadline:
            expect(page.locator(selector)).to_contain_text(text, timeout=1)
        time.sleep(1)
        page.reload()


# --- staff, in the dashboard ---------------------------------------------------------


def staff_sign_in(page: Page, email: str, password: str) -> None:
    """Through the dashboard's own login page, where /dashboard/ sends a signed-out visitor."""
    page.goto("/dashboard/")
    expect(page).to_have_url(re.compile(r"/dashboard/login/"))
    page.get_by_label("Username").fill(email)
    page.get_by_label("Password").fill(password)
    page.locator("form:has([name=password]) [type=submit]").click()
    expect(page.get_by_text(f"Welcome {email}")).to_be_visible()


def dashboard_menu(page: Page, menu: str, item: str) -> None:
    """Open the dashboard menu `menu` and follow `item` (two menus may share a name, as
    Oscar's Fulfilment and ours do: the one that holds the item is used)."""
    link = page.get_by_role("link", name=item, exact=True)
    for button in page.get_by_role("button", name=menu, exact=True).all():
        button.click()
        if link.is_visible():
            break
    link.click()
