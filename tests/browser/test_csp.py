"""The store's own pages work under its Content-Security-Policy: a card payment with
Stripe.js, the personalisation preview, and the staff pages with their scripts and charts
run without a single CSP violation or script error."""

import re

import pytest
from django.contrib.auth.models import Permission
from oscar.test.factories import UserFactory
from playwright.sync_api import Page, expect

from tests.browser.test_checkout_card import (  # noqa: F401 (fixtures)
    OK,
    _assert_paid_order,
    _to_payment_page,
    _type_card,
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
    assert "script-src 'self'" in policy and "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy

    _to_payment_page(page, store.url)  # product page with the monogram preview, basket, checkout
    _type_card(page, OK)
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
