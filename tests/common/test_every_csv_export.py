"""Every CSV the shop hands out, walked with hostile data: no cell a spreadsheet would run as
a formula (cells starting with = + - @ tab or CR), in our reports, Oscar's dashboard reports,
its order export and its voucher set download. And no code writes CSV except through
shop.common.safe_csv, so a new export cannot forget it."""

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from oscar.apps.dashboard.reports.utils import GeneratorRepository
from oscar.core.loading import get_model
from oscar.test.factories import UserFactory

from shop.common.safe_csv import FORMULA_STARTS
from shop.reports.services import report_facts_refresh
from tests.reports.helpers import make_order

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ["=cmd|'/ccalc.exe'!a0@example.com", "=CMD()", "@SUM(1+1)", "+1+1", "-2+3", "\t=1"]
Voucher = get_model("voucher", "Voucher")
VoucherSet = get_model("voucher", "VoucherSet")
Basket = get_model("basket", "Basket")

BUSINESS_EXPORTS = [
    ("customers", {}),
    ("online-share", {"bucket": "day"}),
    ("segments", {"table": "rfm"}),
    ("segments", {"table": "cohorts"}),
    ("lead-time", {}),
    ("production-cost", {}),
    ("personalization", {}),
]


def _export_urls(voucher_set) -> list[tuple[str, dict]]:
    today = timezone.localdate()
    period = {
        "preset": "custom", "start": f"{today.year - 1}-01-01", "end": str(today), "export": "csv",
    }  # fmt: skip
    urls = [(reverse(f"business-reports:{n}"), {**period, **x}) for n, x in BUSINESS_EXPORTS]
    urls.append(
        (
            reverse("business-reports:customer-detail", args=[f"e:{HOSTILE[0].lower()}"]),
            period,
        )
    )
    urls.append(("/dashboard/orders/", {"response_format": "csv"}))
    for generator in GeneratorRepository().get_report_generators():
        query = {"report_type": generator.code, "download": "true"}
        if generator.date_range_field_name:
            query |= {"date_from": str(today - timedelta(days=400)), "date_to": str(today)}
        urls.append((reverse("dashboard:reports-index"), query))
    urls.append((reverse("dashboard:voucher-set-download", args=[voucher_set.pk]), {}))
    return urls


def _live_formulas(text: str) -> list[str]:
    found = []
    for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))):
        for cell in row:
            if cell.startswith(FORMULA_STARTS):
                try:
                    float(cell)  # a plain (negative) number stays a number
                except ValueError:
                    found.append(cell)
    return found


def test_every_export_neutralises_formulas(client, demo_catalogue):
    today = timezone.localdate().isoformat()
    line = [("EG-KEY-NAT", 1, "20.83", "20.83")]
    for n, text in enumerate(HOSTILE):
        user = UserFactory(username=f"hostile{n}", email=text, first_name=text, last_name=text)
        make_order(f"H{n}", user=user, paid=today, lines=line, fee="0.58")
        Basket.objects.create(owner=user)
    make_order("G", email=HOSTILE[0], paid=today, lines=line, fee="0.58")
    report_facts_refresh()
    start = timezone.now() - timedelta(days=1)
    voucher_set = VoucherSet.objects.create(
        name="Hostile", count=0, code_length=8, start_datetime=start,
        end_datetime=start + timedelta(days=30),
    )  # fmt: skip
    for n, text in enumerate(HOSTILE):
        Voucher.objects.create(
            name=f"v{n}", code=text, voucher_set=voucher_set, start_datetime=start,
            end_datetime=start + timedelta(days=30),
        )  # fmt: skip
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    seen_escaped = 0
    for url, query in _export_urls(voucher_set):
        response = client.get(url, query)
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/csv"), (url, query)
        body = response.getvalue() if response.streaming else response.content
        text = body.decode()
        assert _live_formulas(text) == [], (url, query)
        seen_escaped += sum(text.count("'" + h) for h in HOSTILE)
    assert seen_escaped >= 10  # the hostile values were there, and came out as text


def test_no_csv_is_written_past_safe_csv():
    writers = re.compile(r"csv\.(writer|DictWriter)\(|UnicodeCSVWriter\(")
    allowed = {ROOT / "shop/common/safe_csv.py", ROOT / "shop/dashboard/reports/reports.py"}
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "shop").rglob("*.py")
        if path not in allowed and writers.search(path.read_text())
    ]
    assert offenders == []
