"""Parse what a request sent: ids, dates, money and text, refusing what the database or
Python would choke on (a superscript digit, an id past PostgreSQL's integer, year 9999,
sNaN, a NUL byte). Each parser answers None (or a clean value) and never raises, so views
and forms turn a bad value into a 400, a 404 or a form error in one line."""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.utils.http import url_has_allowed_host_and_scheme

# PostgreSQL `integer` (Django's AutoField and IntegerField).
PG_INT_MAX = 2_147_483_647
# Ids are positive; up to 10 ASCII digits (anything longer is past PG_INT_MAX anyway).
_ID = re.compile(r"[0-9]{1,10}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONEY = re.compile(r"[+-]?[0-9]{1,12}(\.[0-9]{1,6})?")

DATE_MIN = datetime.date(2000, 1, 1)
DATE_MAX = datetime.date(2100, 12, 31)
# Money a page or a file may send: under a trillion in the currency.
MONEY_MAX = Decimal("999999999999")


def parse_id(value: object) -> int | None:
    """A positive database id from ASCII digits (not "²", "1e3", " 7" or "-1"), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= PG_INT_MAX else None
    if not isinstance(value, str) or not _ID.fullmatch(value):
        return None
    number = int(value)
    return number if 0 < number <= PG_INT_MAX else None


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def parse_uuid(value: object) -> uuid.UUID | None:
    """A UUID in its canonical text form (lower-case hex with dashes), or None."""
    if not isinstance(value, str) or not _UUID.fullmatch(value.lower()):
        return None
    return uuid.UUID(value)


def parse_ids(values: Iterable[object]) -> list[int] | None:
    """All ids of a list (order kept, duplicates dropped), or None if any one is not an id."""
    ids: list[int] = []
    for value in values:
        number = parse_id(value)
        if number is None:
            return None
        if number not in ids:
            ids.append(number)
    return ids


def clamp_date(
    value: datetime.date, lo: datetime.date = DATE_MIN, hi: datetime.date = DATE_MAX
) -> datetime.date:
    """A date held within [lo, hi] (a datetime stays a datetime)."""
    if isinstance(value, datetime.datetime):
        lo_dt = datetime.datetime.combine(lo, datetime.time.min, tzinfo=value.tzinfo)
        hi_dt = datetime.datetime.combine(hi, datetime.time.max, tzinfo=value.tzinfo)
        return min(max(value, lo_dt), hi_dt)
    return min(max(value, lo), hi)


def parse_date(
    value: object, lo: datetime.date = DATE_MIN, hi: datetime.date = DATE_MAX
) -> datetime.date | None:
    """An ISO date (YYYY-MM-DD) clamped to [lo, hi], or None when it is not a date."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return clamp_date(value, lo, hi)
    if not isinstance(value, str) or not _DATE.fullmatch(value.strip()):
        return None
    try:
        parsed = datetime.date.fromisoformat(value.strip())
    except ValueError:
        return None
    return clamp_date(parsed, lo, hi)


def money_ok(value: Decimal | None, limit: Decimal = MONEY_MAX) -> bool:
    """A finite Decimal no larger than `limit` (no NaN, sNaN or Infinity)."""
    return isinstance(value, Decimal) and value.is_finite() and abs(value) <= limit


def parse_money(value: object, limit: Decimal = MONEY_MAX) -> Decimal | None:
    """A finite Decimal of plain digits (e.g. "12.50", "-3") up to `limit`, or None:
    never NaN, sNaN, Infinity, exponents or absurd magnitudes."""
    if isinstance(value, Decimal):
        return value if money_ok(value, limit) else None
    if not isinstance(value, str) or not _MONEY.fullmatch(value.strip()):
        return None
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        return None
    return amount if money_ok(amount, limit) else None


def has_nul(value: object) -> bool:
    """True when a string holds a NUL byte (PostgreSQL text refuses it)."""
    return isinstance(value, str) and "\x00" in value


def clean_text(value: str) -> str:
    """Text with NUL bytes removed (PostgreSQL text cannot hold them)."""
    return value.replace("\x00", "")


def json_is_storable(value: object, max_depth: int = 64) -> bool:
    """True when parsed JSON nests at most `max_depth` levels and holds no NUL in a key or
    a string (PostgreSQL's jsonb refuses \\u0000; deep nesting overflows the recursion of
    whoever reads it next). Walks without recursion."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return False
        elif isinstance(item, dict | list):
            if depth > max_depth:
                return False
            children = item.values() if isinstance(item, dict) else item
            if isinstance(item, dict) and any("\x00" in key for key in item):
                return False
            stack.extend((child, depth + 1) for child in children)
    return True


def parse_timestamp(value: object, lo: datetime.date = DATE_MIN, hi: datetime.date = DATE_MAX):
    """An aware UTC datetime from Unix seconds (an int) between lo and hi, or None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    low = datetime.datetime.combine(lo, datetime.time.min, tzinfo=datetime.UTC)
    high = datetime.datetime.combine(hi, datetime.time.max, tzinfo=datetime.UTC)
    if not low.timestamp() <= value <= high.timestamp():
        return None
    return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)


def parse_next_url(value: object, *, host: str, secure: bool) -> str | None:
    """A local path to go back to ("/dashboard/..."), or None: not a URL ("job-list", which
    `redirect()` would try to reverse), another host, or a NUL or control character."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return None
    if any(ord(char) < 32 for char in value):
        return None
    if not url_has_allowed_host_and_scheme(value, allowed_hosts={host}, require_https=secure):
        return None
    return value
