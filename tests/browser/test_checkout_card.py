"""A guest buys a personalised holdall by card through the real pages, with localstripe's
Stripe.js in the page (and our adapter) and localstripe's signed webhooks reaching the live
server: success, a declined card, and 3-D Secure completed or failed."""

import re

import pytest
from playwright.sync_api import Page, expect

from shop.basket.models import Basket
from shop.catalogue.models import Product
from shop.order.models import Order
from shop.payments.models import PaymentIntentRecord
from shop.personalization.models import OrderLinePersonalization
from shop.storefront.services import shipping_countries_ensure
from tests.browser.journeys.steps import pay_by_card
from tests.conftest import wait_for
from tests.payments.helpers import WEBHOOK_PATH, WEBHOOK_SECRET

pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000
OK = "4242 4242 4242 4242"
DECLINED = "4000 0000 0000 0341"
THREE_D_SECURE = "4000 0025 0000 3155"
THREE_D_SECURE_FAILS = "4000 0027 6000 3184"


@pytest.fixture
def store(transactional_db, demo_personalization, localstripe, live_server, eager_tasks, settings):
    """The demo catalogue, the UK to ship to, localstripe behind both the SDK and the page's
    Stripe.js, and localstripe's webhooks signed with the test secret to the live server."""
    shipping_countries_ensure()
    settings.STRIPE_JS_URL = localstripe.js_url  # the page derives it from STRIPE_API_BASE too
    localstripe.configure_webhook(
        live_server.url + WEBHOOK_PATH,
        WEBHOOK_SECRET,
        ["payment_intent.succeeded", "payment_intent.payment_failed"],
    )
    yield live_server
    localstripe.disable_webhook()


@pytest.fixture
def shop_page(page: Page, store) -> Page:
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page.console_messages = []
    page.on("console", lambda msg: page.console_messages.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: page.console_messages.append(f"pageerror: {exc}"))
    return page


def _to_payment_page(page: Page, base: str) -> None:
    holdall = Product.objects.get(upc="MV-EG-HOL")
    page.goto(base + holdall.get_absolute_url())
    page.get_by_label("Monogram initials").fill("jb")
    page.get_by_label("Monogram style").select_option("foil")
    page.get_by_label("Position").select_option("front")
    page.get_by_role("button", name="Add to basket").click()
    page.wait_for_load_state()

    page.goto(base + "/basket/")
    expect(page.locator(".mv-line")).to_contain_text("JB · Gold foil · Front corner")
    page.get_by_role("link", name=re.compile("checkout", re.I)).first.click()

    # Checkout as a guest, by email.
    page.locator("input[name='username']").fill("ada@example.com")
    page.locator("input[name='options'][value='anonymous']").check()
    page.locator("form:has(input[name='username'])").locator("[type=submit]").first.click()

    expect(page).to_have_url(re.compile(r"/checkout/shipping-address/$"))
    page.locator("[name='first_name']").fill("Ada")
    page.locator("[name='last_name']").fill("Lovelace")
    page.locator("[name='line1']").fill("12 Lower Rushall Street")
    page.locator("[name='line4']").fill("Walsall")
    page.locator("[name='postcode']").fill("WS1 2AA")
    country = page.locator("select[name='country']")
    if country.count():
        country.select_option("GB")
    page.locator("form:has([name='line1'])").locator("[type=submit]").first.click()

    expect(page).to_have_url(re.compile(r"/checkout/shipping-method/$"))
    page.locator("form:has([name='method_code'][value='royal-mail-tracked-48'])").locator(
        "[type=submit]"
    ).first.click()

    expect(page).to_have_url(re.compile(r"/checkout/payment-details/$"))
    expect(page.locator("#card-element input[placeholder='number']")).to_be_visible()


def _assert_paid_order(page: Page) -> None:
    expect(page).to_have_url(re.compile(r"/checkout/thank-you/$"))
    [order] = Order.objects.all()
    expect(page.locator("body")).to_contain_text(order.number)
    expect(page.locator(".mv-line")).to_contain_text("Monogram")
    expect(page.locator(".mv-line")).to_contain_text("JB, gold foil, front corner +£15.00")
    assert order.guest_email == "ada@example.com"
    [line] = order.lines.all()
    assert line.upc == "MV-EG-HOL"
    kinds = set(OrderLinePersonalization.objects.filter(line=line).values_list("kind", flat=True))
    assert kinds, "the order line kept no personalisation"
    [source] = order.sources.all()
    record = PaymentIntentRecord.objects.get(payment_intent_id=source.reference)
    assert record.order_number == order.number
    assert source.amount_debited == order.total_incl_tax
    # The webhook (payment_intent.succeeded from localstripe) arrives about a second later.
    wait_for(
        lambda: (
            PaymentIntentRecord.objects.get(pk=record.pk).status
            == PaymentIntentRecord.Status.SUCCEEDED
        ),
        timeout=15,
    )
    assert Order.objects.count() == 1


def _assert_refused(page: Page, message: str) -> None:
    expect(page.locator("#card-errors")).to_contain_text(message)
    expect(page).to_have_url(re.compile(r"/checkout/payment-details/$"))
    expect(page.locator("#pay-button")).to_be_enabled()
    assert Order.objects.count() == 0
    basket = Basket.objects.get(status=Basket.OPEN)
    [line] = basket.all_lines()
    assert line.product.upc == "MV-EG-HOL" and line.quantity == 1


def test_guest_pays_by_card_and_lands_on_the_order_confirmation(shop_page: Page, store):
    page = shop_page
    _to_payment_page(page, store.url)
    pay_by_card(page, OK)
    try:
        _assert_paid_order(page)
    finally:
        print("\n".join(page.console_messages))


def test_declined_card_shows_stripes_reason_and_another_card_then_pays(shop_page: Page, store):
    page = shop_page
    _to_payment_page(page, store.url)
    pay_by_card(page, DECLINED)
    try:
        _assert_refused(page, "Your card was declined.")
        # Another card on the same page: a fresh PaymentIntent, one order.
        pay_by_card(page, OK)
        _assert_paid_order(page)
        assert PaymentIntentRecord.objects.exclude(order_number="").count() == 1
    finally:
        print("\n".join(page.console_messages))


def test_three_d_secure_completed_places_the_order(shop_page: Page, store):
    page = shop_page
    _to_payment_page(page, store.url)
    pay_by_card(page, THREE_D_SECURE)
    page.get_by_role("button", name="Complete authentication").click()
    try:
        _assert_paid_order(page)
    finally:
        print("\n".join(page.console_messages))


def test_three_d_secure_failed_shows_the_reason_and_places_nothing(shop_page: Page, store):
    page = shop_page
    _to_payment_page(page, store.url)
    pay_by_card(page, THREE_D_SECURE_FAILS)
    page.get_by_role("button", name="Fail authentication").click()
    try:
        _assert_refused(page, "failed authentication")
    finally:
        print("\n".join(page.console_messages))
