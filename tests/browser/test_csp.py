"""The store's own pages work under its Content-Security-Policy: a card payment with
Stripe.js, the personalisation preview, and the staff pages with their scripts and charts
run without a single CSP violation or script error. The storefront's policy is the strict one
(a nonce, no 'unsafe-inline' for scripts): Oscar's start-up code runs, a script injected
without the nonce does not."""

import re

import pytest
from django.contrib.auth.models import Permission
from oscar.test.factories import UserFactory
from playwright.sync_api import Page, expect

from tests.browser.journeys.steps import pay_by_card
from tests.browser.test_checkout_card import (  # noqa: F401 (fixtures)
    OK,
    _assert_paid_order,
    _to_payment_page,
    shop_page,
    store,
)

pytestmark = pytest.mark.browser


def _problems(page: Page) -> list[str]:
    return [
        m
        for m in page.console_messages
        if "Content Security Policy" in m or "Refused to" in m or m.startswith("pageerror")
    ]


def test_shop_and_dashboard_pages_run_under_the_policy(shop_page: Page, store):  # noqa: F811
    page = shop_page
    response = page.goto(store.url + "/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' 'nonce-" in policy and "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src

    _to_payment_page(page, store.url)  # product page with the monogram preview, basket, checkout
    pay_by_card(page, OK)
    _assert_paid_order(page)
    assert _problems(page) == []

    staff = UserFactory(is_staff=True, is_superuser=True, email="kit@marlowandvale.example")
    staff.set_password("a long pass phrase 42")
    staff.save()
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="reports"))
    page.goto(store.url + "/dashboard/login/")
    page.locator("input[name='username']").fill(staff.email)
    page.locator("input[name='password']").fill("a long pass phrase 42")
    page.locator("form").locator("[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    for path in (
        "/dashboard/orders/",
        "/dashboard/fulfilment/",
        "/dashboard/business-reports/online-share/",
        "/dashboard/business-reports/customers/",
    ):
        page.goto(store.url + path)
        page.wait_for_load_state("networkidle")
    expect(page.locator("canvas").first).to_be_attached()
    assert _problems(page) == []


def test_oscars_start_up_code_runs_and_an_injected_script_does_not(shop_page: Page, store):  # noqa: F811
    page = shop_page
    _to_payment_page(page, store.url)  # Oscar's layout: jQuery, oscar.init() inline with a nonce
    assert page.evaluate("typeof window.oscar") == "object"
    assert page.evaluate("document.documentElement.classList.contains('js')")
    assert _problems(page) == []

    # Markup that slipped through escaping: neither a nonce-less script nor a handler runs.
    page.evaluate(
        """() => {
            window.injected = false;
            const script = document.createElement('script');
            script.textContent = 'window.injected = true';
            document.body.appendChild(script);
            const img = document.createElement('img');
            img.setAttribute('onerror', 'window.injected = true');
            img.src = 'data:,broken';
            document.body.appendChild(img);
        }"""
    )
    page.wait_for_timeout(300)
    assert page.evaluate("window.injected") is False
    assert any("Content Security Policy" in m for m in page.console_messages)
