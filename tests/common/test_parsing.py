"""The one parsing helper every view and form uses for what a request sends."""

import datetime
from decimal import Decimal

import pytest

from shop.common.parsing import (
    clamp_date,
    clean_text,
    has_nul,
    json_is_storable,
    parse_date,
    parse_id,
    parse_ids,
    parse_money,
    parse_next_url,
    parse_timestamp,
)

D = datetime.date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7),
        ("2147483647", 2147483647),
        (12, 12),
        ("2147483648", None),
        ("99999999999", None),
        ("0", None),
        ("-1", None),
        ("²", None),
        ("٣", None),  # Arabic-Indic digit: isdigit() is true, int() accepts it
        (" 7", None),
        ("1e3", None),
        ("", None),
        (None, None),
        (True, None),
        ("7\x00", None),
    ],
)
def test_parse_id(value, expected):
    assert parse_id(value) == expected


def test_parse_ids_refuses_the_whole_list_for_one_bad_id():
    assert parse_ids(["3", "1", "3"]) == [3, 1]
    assert parse_ids(["3", "²"]) is None
    assert parse_ids([]) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-02-29", D(2024, 2, 29)),
        ("9999-12-31", D(2100, 12, 31)),
        ("0001-01-01", D(2000, 1, 1)),
        ("2023-02-29", None),
        ("²024-01-01", None),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date_is_clamped(value, expected):
    assert parse_date(value) == expected


def test_clamp_date_keeps_an_aware_datetime_aware():
    far = datetime.datetime(9999, 12, 31, tzinfo=datetime.UTC)
    clamped = clamp_date(far)
    assert clamped.tzinfo is datetime.UTC and clamped.date() == D(2100, 12, 31)
    assert clamped + datetime.timedelta(days=1)  # no overflow


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.50", Decimal("12.50")),
        ("-3", Decimal("-3")),
        ("sNaN", None),
        ("NaN", None),
        ("Infinity", None),
        ("-inf", None),
        ("1e3", None),
        ("1" * 13, None),
        ("", None),
        (Decimal("sNaN"), None),
        (Decimal("5.00"), Decimal("5.00")),
    ],
)
def test_parse_money(value, expected):
    assert parse_money(value) == expected


def test_text_with_nul():
    assert has_nul("a\x00b") and not has_nul("ab") and clean_text("a\x00b") == "ab"


def test_json_is_storable():
    deep: list = []
    for _ in range(100):
        deep = [deep]
    assert json_is_storable({"a": [1, {"b": "c"}]})
    assert not json_is_storable(deep)
    assert not json_is_storable({"a": "x\x00"})
    assert not json_is_storable({"a\x00": 1})


def test_parse_timestamp():
    assert parse_timestamp(1_700_000_000).year == 2023
    assert parse_timestamp(10**20) is None
    assert parse_timestamp(1e20) is None
    assert parse_timestamp(True) is None
    assert parse_timestamp(-1) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/dashboard/workshop/", "/dashboard/workshop/"),
        ("job-list", None),
        ("//evil.example/", None),
        ("https://evil.example/", None),
        ("/\x00x", None),
        ("", None),
    ],
)
def test_parse_next_url(value, expected):
    assert parse_next_url(value, host="testserver", secure=False) == expected
