"""The take-back scheme in a real browser: a customer registers an item from an order,
sees the estimate and, once the worker has issued it, the label with its tracking number and
QR code; a staff member receives the parcel by typing the tracking number, grades it with a
note and approves the credit; the customer finds the credit in their account."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from shop.takeback.models import TakeBack
from tests.browser.helpers import signed_in_page
from tests.conftest import wait_for
from tests.takeback.helpers import customer, delivered_order, small_catalogue, staff_member

pytestmark = [pytest.mark.browser, pytest.mark.worker]
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS", ROOT / "var" / "screenshots"))


@pytest.fixture
def catalogue(transactional_db):
    return small_catalogue()


def test_customer_registers_and_staff_grades(
    browser: Browser, live_server, celery_worker, catalogue
):
    jo = customer()
    order = delivered_order(user=jo)
    line = order.lines.first()

    page = signed_in_page(browser, live_server, jo)
    page.goto(live_server.url + "/accounts/take-back/")
    page.get_by_role("link", name="Send something back").click()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "takeback-register.png"), full_page=True)
    item = page.locator(f'[data-line="{line.pk}"]')
    expect(item).to_contain_text("£6.00–£20.00")  # good: the estimate from the rules
    item.get_by_role("checkbox").check()
    item.get_by_label("Condition").select_option("good")
    item.get_by_label("Anything we should know").fill("Corners a little worn")
    page.get_by_role("button", name="Register and get my label").click()
    expect(page.locator(".mv-alert--danger")).to_have_count(0)
    # The terms are required: the page says so and keeps the choice.
    expect(page.get_by_text("Please accept the take-back terms")).to_be_visible()
    page.locator(f'[data-line="{line.pk}"]').get_by_label("Condition").select_option("good")
    page.get_by_label("I accept the take-back terms").check()
    page.get_by_role("button", name="Register and get my label").click()
    expect(page.locator("[data-takeback]")).to_be_visible()
    expect(page.get_by_text("£6.00 to £20.00")).to_be_visible()

    takeback = TakeBack.objects.get()
    wait_for(lambda: TakeBack.objects.get(pk=takeback.pk).tracking_number)
    takeback.refresh_from_db()
    page.reload()
    expect(page.locator("[data-tracking]")).to_have_text(takeback.tracking_number)
    expect(page.locator("img.mv-tb-qr")).to_be_visible()
    expect(page.locator('[data-step="label_issued"]')).to_have_class(re.compile("is-current"))
    page.screenshot(path=str(SHOTS / "takeback-label.png"), full_page=True)

    staff = signed_in_page(browser, live_server, staff_member())
    staff.goto(live_server.url + "/dashboard/take-back/receive/")
    staff.get_by_label("Scan or type the tracking number").fill(takeback.tracking_number.lower())
    staff.get_by_label("Scan or type the tracking number").press("Enter")
    staff.get_by_role("link", name=f"Grade {takeback.reference} now").click()
    staff.get_by_label("B — refurbish").check()
    staff.get_by_label("End-of-life route").select_option("resell")
    staff.get_by_label("Notes").fill("Edges re-burnished")
    staff.get_by_role("button", name="Save grade").click()
    expect(staff.get_by_text("Approve credit")).to_be_visible()
    staff.screenshot(path=str(SHOTS / "takeback-dashboard-graded.png"), full_page=True)
    staff.get_by_label("Amount").fill("18.00")
    staff.get_by_role("button", name="Approve").click()
    expect(staff.locator("[data-audit-log]")).to_contain_text("Graded")
    expect(staff.locator("[data-audit-log]")).to_contain_text("Credit approved")

    wait_for(lambda: TakeBack.objects.get(pk=takeback.pk).status == "credit_issued")
    page.goto(live_server.url + "/accounts/credit/")
    expect(page.locator("[data-credit-balance]")).to_have_text("£18.00")
    page.goto(live_server.url + f"/accounts/take-back/{takeback.pk}/")
    expect(page.locator('[data-step="credit_issued"]')).to_have_class(re.compile("is-current"))
