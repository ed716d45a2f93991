"""Offline sales import: good files, idempotency, and bad files that change nothing."""

from decimal import Decimal as D

import pytest
from django.core.management import CommandError, call_command

from shop.reports.models import OfflineSale, SalesImport
from shop.reports.services import (
    MAX_IMPORT_BYTES,
    offline_sales_import,
    sales_import_create,
    sales_import_run,
)

pytestmark = pytest.mark.django_db

HEADER = "date,channel,reference,sku,quantity,net_amount,customer_email\n"
GOOD = (
    HEADER + "2026-03-15,boutique,BTQ-1,EG-STR-CHE,1,50.00,carol@example.com\n"
    "2026-03-25,wholesale,WH-1,HE-BIF-BLK,10,475.00,\n"
)


def run(text: str | bytes, **kwargs):
    content = text.encode() if isinstance(text, str) else text
    return offline_sales_import(content=content, **kwargs)


def test_good_file_imports_every_row(demo_catalogue):
    outcome = run(GOOD)
    assert (outcome.status, outcome.imported, outcome.bad) == ("done", 2, [])
    sale = OfflineSale.objects.get(reference="WH-1")
    assert (sale.channel.code, sale.quantity, sale.net_amount) == ("wholesale", 10, D("475.00"))
    assert sale.product == sale.stockrecord.product
    assert OfflineSale.objects.get(reference="BTQ-1").customer_email == "carol@example.com"


def test_reimporting_never_doubles(demo_catalogue):
    run(GOOD)
    again = run(GOOD)
    assert (again.status, again.imported, again.already_imported) == ("done", 0, 2)
    assert OfflineSale.objects.count() == 2
    assert "already imported" in again.message


def test_columns_in_any_order_and_bom(demo_catalogue):
    text = (
        "\ufeffsku,quantity,net_amount,date,channel,reference\n"
        "EG-KEY-NAT,2,41.66,2026-01-02,event,E-1\n"
    )
    assert run(text).imported == 1


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("date,channel,reference,sku,quantity\n", "missing column(s): net_amount"),
        ("date,channel,reference,sku,qty,net_amount\n", "unknown column(s): 'qty'"),
        ("", "The file is empty"),
    ],
)
def test_wrong_columns_are_refused(demo_catalogue, header, expected):
    outcome = run(header + "2026-03-15,boutique,B-1,EG-STR-CHE,1,50.00\n" if header else "")
    assert outcome.status == "rejected"
    assert expected in outcome.message
    assert OfflineSale.objects.count() == 0


BAD_ROWS = [
    ("2026-13-01,boutique,B-1,EG-STR-CHE,1,50.00,", "date '2026-13-01' is not a date"),
    ("yesterday,boutique,B-1,EG-STR-CHE,1,50.00,", "is not a date"),
    ("2099-01-01,boutique,B-1,EG-STR-CHE,1,50.00,", "is in the future"),
    ("2026-03-15,boutique,B-1,EG-STR-CHE,1,-5.00,", "net amount -5.00 is negative"),
    ("2026-03-15,boutique,B-1,EG-STR-CHE,1,fifty,", "net amount 'fifty' is not a number"),
    ("2026-03-15,boutique,B-1,EG-STR-CHE,1,NaN,", "is not a number"),
    ("2026-03-15,boutique,B-1,EG-STR-CHE,1,5.001,", "more than 2 decimal places"),
    ("2026-03-15,boutique,B-1,EG-STR-CHE,0,50.00,", "must be a positive whole number"),
    ("2026-03-15,boutique,B-1,EG-STR-CHE,-2,50.00,", "must be a positive whole number"),
    ("2026-03-15,boutique,B-1,EG-STR-CHE,1.5,50.00,", "is not a whole number"),
    ("2026-03-15,boutique,B-1,NOPE-123,1,50.00,", "unknown SKU 'NOPE-123'"),
    ("2026-03-15,pop-up,B-1,EG-STR-CHE,1,50.00,", "unknown channel 'pop-up'"),
    ("2026-03-15,online,B-1,EG-STR-CHE,1,50.00,", "unknown channel 'online'"),
    ("2026-03-15,boutique,,EG-STR-CHE,1,50.00,", "reference is empty"),
    ("2026-03-15,boutique,B-1,EG-STR-CHE,1,50.00,not-an-email", "is not an email address"),
    ("2026-03-15,boutique,B-1,EG-STR-CHE,1", "has 5 fields, the header has 7"),
]


@pytest.mark.parametrize(("row", "reason"), BAD_ROWS)
def test_bad_row_is_reported_with_its_line_and_nothing_is_imported(demo_catalogue, row, reason):
    text = HEADER + "2026-03-14,event,OK-1,EG-KEY-NAT,1,20.00,\n" + row + "\n"
    outcome = run(text)
    assert outcome.status == "rejected"
    assert len(outcome.bad) == 1 and outcome.bad[0]["line"] == 3
    assert any(reason in error for error in outcome.bad[0]["errors"]), outcome.bad
    assert "nothing was imported" in outcome.message
    assert OfflineSale.objects.count() == 0


def test_every_reason_of_a_row_is_listed(demo_catalogue):
    outcome = run(HEADER + "someday,shop,B-1,NOPE,-1,abc,\n")
    assert len(outcome.bad[0]["errors"]) == 5


def test_duplicate_references_in_a_file(demo_catalogue):
    text = HEADER + (
        "2026-03-14,event,E-1,EG-KEY-NAT,1,20.00,\n"
        "2026-03-14,event,E-2,EG-KEY-NAT,1,20.00,\n"
        "2026-03-15,event,E-1,EG-KEY-NAT,2,40.00,\n"
        "2026-03-15,boutique,E-1,EG-KEY-NAT,2,40.00,\n"  # another channel: its own reference
    )
    outcome = run(text)
    assert outcome.bad == [{"line": 4, "errors": ["reference 'E-1' repeats line 2"]}]
    assert OfflineSale.objects.count() == 0


def test_reference_imported_before_with_other_values_is_bad(demo_catalogue):
    run(GOOD)
    outcome = run(HEADER + "2026-03-15,boutique,BTQ-1,EG-STR-CHE,2,100.00,\n")
    assert outcome.status == "rejected"
    assert "already imported with different values" in outcome.bad[0]["errors"][0]
    assert OfflineSale.objects.get(reference="BTQ-1").quantity == 1


def test_skip_bad_rows_imports_the_good_ones(demo_catalogue):
    text = GOOD + "2026-03-26,wholesale,WH-2,NOPE,1,10.00,\n"
    outcome = run(text, skip_bad_rows=True)
    assert (outcome.status, outcome.imported, len(outcome.bad)) == ("done", 2, 1)
    assert "1 bad row(s) skipped" in outcome.message


def test_non_utf8_file_is_refused(demo_catalogue):
    content = (HEADER + "2026-03-15,boutique,Café-1,EG-STR-CHE,1,50.00,\n").encode("latin-1")
    outcome = run(content)
    assert outcome.status == "rejected"
    assert "Line 2 is not UTF-8 text" in outcome.message
    assert OfflineSale.objects.count() == 0


def test_fifty_megabyte_file_is_refused(demo_catalogue):
    row = "2026-03-15,boutique,B-{},EG-STR-CHE,1,50.00,\n"
    content = (HEADER + row * 10).encode() + b"x" * (50 * 1024 * 1024)
    assert len(content) > MAX_IMPORT_BYTES
    sales_import = sales_import_create(content=content, file_name="huge.csv", skip_bad_rows=True)
    assert sales_import.status == "rejected"
    assert "the limit is 20 MB" in sales_import.message
    assert sales_import.content is None
    assert OfflineSale.objects.count() == 0


def test_large_file_reports_progress_and_runs_once(demo_catalogue):
    rows = "".join(f"2026-03-15,event,EV-{i},EG-KEY-NAT,1,20.00,\n" for i in range(2500))
    seen = []
    sales_import = SalesImport.objects.create(
        file_name="big.csv", sha256="x", content=(HEADER + rows).encode(), rows_total=2500
    )
    done = sales_import_run(
        sales_import_id=sales_import.pk, on_progress=lambda d, t: seen.append(d)
    )
    assert (done.status, done.rows_imported, done.rows_processed) == ("done", 2500, 2500)
    assert seen[:2] == [1000, 2000] and done.progress_percent == 100
    assert done.content is None
    again = sales_import_run(sales_import_id=sales_import.pk)
    assert again.rows_imported == 2500 and OfflineSale.objects.count() == 2500


def test_management_command(demo_catalogue, tmp_path, capsys):
    path = tmp_path / "sales.csv"
    path.write_text(GOOD + "2026-03-26,wholesale,WH-2,NOPE,1,10.00,\n")
    with pytest.raises(CommandError, match="1 row\\(s\\) have errors"):
        call_command("import_offline_sales", str(path))
    assert "line 4: unknown SKU 'NOPE'" in capsys.readouterr().err
    assert OfflineSale.objects.count() == 0
    call_command("import_offline_sales", str(path), "--skip-bad-rows")
    assert "2 sale(s) imported" in capsys.readouterr().out
    call_command("import_offline_sales", str(path), "--skip-bad-rows")
    assert "2 already imported" in capsys.readouterr().out
    assert OfflineSale.objects.count() == 2
    assert SalesImport.objects.count() == 3


def test_demo_offline_sales_fixture_imports_cleanly(demo_catalogue):
    from pathlib import Path

    content = (Path(__file__).resolve().parents[2] / "fixtures" / "offline_sales.csv").read_bytes()
    outcome = run(content)
    assert (outcome.status, outcome.imported, outcome.bad) == ("done", 60, [])


def test_a_comma_decimal_is_refused_not_guessed(demo_catalogue):
    outcome = run(
        HEADER + '2026-03-15,boutique,B-1,EG-STR-CHE,1,"1,50",\n'
        '2026-03-15,boutique,B-2,EG-STR-CHE,1,"1,500",\n'
        '2026-03-15,boutique,B-3,EG-STR-CHE,1,"£1,234.50",\n',
        skip_bad_rows=True,
    )
    bad = {row["line"]: row["errors"] for row in outcome.bad}
    assert set(bad) == {2, 3}  # 1,50 (1.50 or 150?) and 1,500 (1.5 or 1500?)
    assert "'1,50' is ambiguous" in bad[2][0] and len(bad[2]) == 1
    assert OfflineSale.objects.get().net_amount == D("1234.50")  # thousands, with a point


def test_the_size_message_says_the_real_size(demo_catalogue):
    content = b"x" * (MAX_IMPORT_BYTES + 1)
    sales_import = sales_import_create(content=content, file_name="big.csv", skip_bad_rows=True)
    assert "The file is 20.00 MB (20,971,521 bytes); the limit is 20 MB" in sales_import.message
