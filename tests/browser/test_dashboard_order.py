"""The dashboard order page in a real browser: its start-up code runs without an uncaught
error (Oscar 4.2 calls oscar.dashboard.orders.initTable, which its dashboard.js lacks; ours
defines it), and the lines table's header box ticks every line."""

import pytest
from oscar.test.factories import UserFactory
from playwright.sync_api import Browser

from tests.browser.helpers import signed_in_page
from tests.takeback.helpers import customer, delivered_order, small_catalogue

pytestmark = pytest.mark.browser


def test_order_page_starts_without_errors_and_selects_all_lines(
    browser: Browser, live_server, transactional_db
):
    small_catalogue()
    order = delivered_order(user=customer(), quantity=2)
    page = signed_in_page(browser, live_server, UserFactory(is_staff=True, is_superuser=True))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    response = page.goto(f"{live_server.url}/dashboard/orders/{order.number}/")
    assert response.status == 200
    page.wait_for_load_state("load")
    assert errors == []

    lines = page.locator('#order_lines_form input[name="selected_line"]')
    assert lines.count() == order.lines.count() >= 1
    page.check("[data-select-all-lines]")
    assert all(lines.nth(i).is_checked() for i in range(lines.count()))
    page.uncheck("[data-select-all-lines]")
    assert not any(lines.nth(i).is_checked() for i in range(lines.count()))
    page.context.close()
