"""The report pages in Debian's chromium: Chart.js (committed) draws every chart, tables sort
on a click, and a typed date switches the preset to custom."""

import os
import shutil

import pytest
from django.test import Client

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MARCH = "?preset=custom&start=2026-02-01&end=2026-03-31"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is missing: `make system-deps` installs it")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def signed_in_page(page, live_server, dataset, django_user_model):
    admin = django_user_model.objects.create_superuser("boss", "boss@example.com", "x")
    client = Client()
    client.force_login(admin)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    return page


@pytest.mark.parametrize(
    ("path", "charts"),
    [
        ("online-share/", ["share-trend", "channel-revenue", "sustainable"]),
        ("customers/", ["whale"]),
        ("lead-time/", ["lead-time", "on-time"]),
        ("production-cost/", ["cost"]),
        ("personalization/", ["personalization"]),
    ],
)
def test_charts_are_drawn(signed_in_page, live_server, path, charts):
    page = signed_in_page
    page.goto(f"{live_server.url}/dashboard/business-reports/{path}{MARCH}")
    for name in charts:
        drawn = page.evaluate(
            "name => !!Chart.getChart(document.querySelector(`canvas[data-chart='${name}']`))",
            name,
        )
        assert drawn, name
    if path == "personalization/":  # A1's gold foil monogram is a bar
        bars = page.evaluate(
            "Chart.getChart(document.querySelector(\"canvas[data-chart='personalization']\"))"
            ".getDatasetMeta(0).data.length"
        )
        assert bars == 1
    assert page.errors == []


def test_tables_sort_and_presets_switch(signed_in_page, live_server):
    page = signed_in_page
    page.goto(f"{live_server.url}/dashboard/business-reports/online-share/{MARCH}&bucket=month")
    table = page.locator("table[data-sortable]").nth(0)
    table.locator("th", has_text="Revenue").click()
    first = table.locator("tbody tr").first.get_attribute("data-channel")
    assert first == "marketplace"  # £0.00, ascending
    table.locator("th", has_text="Revenue").click()
    assert table.locator("tbody tr").first.get_attribute("data-channel") == "wholesale"
    page.goto(f"{live_server.url}/dashboard/business-reports/customers/?preset=this_year")
    page.fill("#id_start", "2026-03-01")
    page.dispatch_event("#id_start", "change")
    assert page.input_value("#id_preset") == "custom"
    page.goto(f"{live_server.url}/dashboard/business-reports/customers/{MARCH}")
    page.click("a[href*='customers/u:']")
    assert "alice@example.com" in page.inner_text("h1")
    # Wait for the new page's scripts (a click navigates; the heading can come first).
    # A function, not an expression string: Playwright evals a string in the page, which the
    # store's CSP (no 'unsafe-eval') refuses whenever the first check fails and it polls.
    page.wait_for_function(
        "() => window.Chart"
        " && !!Chart.getChart(document.querySelector('canvas[data-chart=waterfall]'))"
    )
    assert page.errors == []
