"""Reports: the few writes (offline-sale import, cost price history, targets)."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from oscar.core.loading import get_model

from shop.common.parsing import has_nul
from shop.reports.models import (
    Channel,
    CostPriceRecord,
    FactsRefresh,
    LineChoiceFact,
    LineFact,
    OfflineFact,
    OfflineSale,
    OnlineShareTarget,
    OrderFact,
    SalesImport,
    SustainableProjection,
)

logger = logging.getLogger(__name__)

StockRecord = get_model("partner", "StockRecord")

# --- cost price history ----------------------------------------------------------------------


def cost_price_record(*, stockrecord: Any, source: str = "changed") -> CostPriceRecord | None:
    """Append the stock record's cost price to its history if it differs from the last one
    kept (always on the first call). Returns the new row, or None when nothing changed."""
    last = (
        CostPriceRecord.objects.filter(stockrecord_id=stockrecord.pk)
        .order_by("-changed_at", "-pk")
        .values("cost_price")
        .first()
    )
    cost = stockrecord.cost_price
    if cost is not None:
        cost = Decimal(cost).quantize(Decimal("0.01"))
    if last is not None and last["cost_price"] == cost:
        return None
    return CostPriceRecord.objects.create(
        stockrecord_id=stockrecord.pk, cost_price=cost, changed_at=timezone.now(), source=source
    )


# --- reference data ----------------------------------------------------------------------------

CHANNELS = (
    ("online", "Online store", True, 0),
    ("boutique", "Boutique (Walsall)", False, 1),
    ("wholesale", "Wholesale", False, 2),
    ("marketplace", "Marketplace", False, 3),
    ("event", "Events and fairs", False, 4),
)


def reports_reference_data_ensure(*, using: str = "default") -> None:
    """Create the sales channels if missing (never overwrites what staff changed)."""
    for code, name, online, order in CHANNELS:
        Channel.objects.using(using).get_or_create(
            code=code, defaults={"name": name, "is_online": online, "display_order": order}
        )


# --- fact tables -------------------------------------------------------------------------------


def fact_tables() -> list[str]:
    """The tables report_facts_refresh rebuilds (deleted and refilled each time)."""
    return [m._meta.db_table for m in (OrderFact, OfflineFact, LineFact, LineChoiceFact)]


def report_facts_refresh() -> FactsRefresh:
    """Rebuild the fact tables (orders, offline sales, and the order lines with their
    personalization choices) from orders, payments and offline sales, in one
    transaction (readers keep seeing the previous figures until it commits), serialised by
    an advisory lock so two refreshes never interleave."""
    from shop.reports import selectors

    started = time.monotonic()
    params = selectors.range_bounds(date.today(), date.today())
    columns = [f.column for f in OrderFact._meta.concrete_fields if f.column != "id"]
    offline_columns = [f.column for f in OfflineFact._meta.concrete_fields if f.column != "id"]
    with selectors.report_cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(7207)")
        cursor.execute("DELETE FROM reports_orderfact")
        cursor.execute(
            f"INSERT INTO reports_orderfact ({', '.join(columns)}) "
            f"SELECT {', '.join(columns)} FROM ({selectors.ORDER_FACTS_SOURCE}) AS source",
            params,
        )
        orders = cursor.rowcount
        cursor.execute("DELETE FROM reports_offlinefact")
        cursor.execute(
            f"INSERT INTO reports_offlinefact ({', '.join(offline_columns)}) "
            f"SELECT {', '.join(offline_columns)} "
            f"FROM ({selectors.OFFLINE_FACTS_SOURCE}) AS source",
            params,
        )
        offline = cursor.rowcount
        # The personalization report's line facts, from the order facts just written.
        for model, source in (
            (LineFact, selectors.LINE_FACTS_SOURCE),
            (LineChoiceFact, selectors.LINE_CHOICE_FACTS_SOURCE),
        ):
            table = model._meta.db_table
            names = [f.column for f in model._meta.concrete_fields if f.column != "id"]
            cursor.execute(f"DELETE FROM {table}")
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(names)}) "
                f"SELECT {', '.join(names)} FROM ({source}) AS source",
                params,
            )
        # Fresh statistics for the planner (the tables were just refilled from scratch).
        cursor.execute(f"ANALYZE {', '.join(fact_tables())}")
        refresh = FactsRefresh.objects.create(
            refreshed_at=timezone.now(),
            seconds=Decimal(f"{time.monotonic() - started:.2f}"),
            orders=orders,
            offline_sales=offline,
        )
        FactsRefresh.objects.exclude(pk=refresh.pk).delete()
    logger.info("Report facts refreshed: %s orders, %s offline sales", orders, offline)
    return refresh


def _enqueue_facts_refresh() -> None:
    from shop.reports.tasks import refresh_report_facts

    try:
        refresh_report_facts.delay()
    except Exception:  # the broker is down: the periodic refresh catches up
        logger.warning("Could not enqueue the report facts refresh", exc_info=True)


def report_facts_ensure() -> FactsRefresh:
    """The latest refresh, refreshing now when there has never been one."""
    return FactsRefresh.objects.order_by("-refreshed_at").first() or report_facts_refresh()


# --- targets -----------------------------------------------------------------------------------


def online_share_target_set(*, share_percent: Decimal, valid_from: date, user: Any) -> None:
    OnlineShareTarget.objects.update_or_create(
        valid_from=valid_from, defaults={"share_percent": share_percent, "set_by": user}
    )


def sustainable_projection_set(*, month: date, revenue: Decimal, user: Any) -> None:
    SustainableProjection.objects.update_or_create(
        month=month.replace(day=1), defaults={"revenue": revenue, "set_by": user}
    )


# --- offline sales import ------------------------------------------------------------------------

# The documented CSV layout (first line is the header; column order is free).
REQUIRED_COLUMNS = ("date", "channel", "reference", "sku", "quantity", "net_amount")
OPTIONAL_COLUMNS = ("customer_email",)
_THOUSANDS = re.compile(r"-?\d{1,3}(?:,\d{3})+\.\d+")
MAX_IMPORT_BYTES = settings.OFFLINE_SALES_IMPORT_MAX_BYTES  # the request cap follows it
MAX_REPORTED_ERRORS = 500
# Files with more data rows than this are imported by a worker; the page shows progress.
INLINE_ROW_LIMIT = 2000
PROGRESS_EVERY = 1000
BATCH_SIZE = 2000
MAX_QUANTITY = 100_000
MAX_AMOUNT = Decimal("10000000")


class ImportRejected(Exception):
    """The whole file is unusable (size, encoding, header); the message is for staff."""


@dataclass
class ImportOutcome:
    status: str
    rows_total: int = 0
    imported: int = 0
    already_imported: int = 0
    bad: list[dict] = field(default_factory=list)
    message: str = ""


def import_too_large_message(size: int) -> str:
    """What staff read about a file over the limit, with its real size (20 MB and one byte
    is "20.00 MB (20,971,521 bytes)", never "20.0 MB; the limit is 20 MB")."""
    return (
        f"The file is {size / 1024 / 1024:.2f} MB ({size:,} bytes); the limit is "
        f"{MAX_IMPORT_BYTES // 1024 // 1024} MB ({MAX_IMPORT_BYTES:,} bytes). "
        "Split it into smaller files."
    )


def _decode(content: bytes) -> str:
    if len(content) > MAX_IMPORT_BYTES:
        raise ImportRejected(import_too_large_message(len(content)))
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise ImportRejected(
            f"Line {line} is not UTF-8 text (byte 0x{content[exc.start]:02X}). Save the file "
            "as “CSV UTF-8” and upload it again; nothing was imported."
        ) from exc


def count_data_rows(content: bytes) -> int:
    return max(0, content.count(b"\n") + (0 if content.endswith(b"\n") else 1) - 1)


def _check_header(header: list[str] | None) -> dict[str, int]:
    if not header:
        raise ImportRejected("The file is empty; nothing was imported.")
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    unknown = [n for n in names if n not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    problems = []
    if missing:
        problems.append("missing column(s): " + ", ".join(missing))
    if unknown:
        problems.append("unknown column(s): " + ", ".join(repr(u) for u in unknown))
    if duplicated:
        problems.append("repeated column(s): " + ", ".join(duplicated))
    if problems:
        raise ImportRejected(
            "Line 1 (header): "
            + "; ".join(problems)
            + ". Expected: "
            + ", ".join(REQUIRED_COLUMNS)
            + " and optionally customer_email."
        )
    return {name: names.index(name) for name in names}


def _parse_date(raw: str) -> date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"date {raw!r} is not a date (use YYYY-MM-DD)")


@dataclass
class _Row:
    line: int
    channel_id: int
    reference: str
    day: date
    sku: str
    stockrecord_id: int
    product_id: int
    quantity: int
    net_amount: Decimal
    customer_email: str

    def key(self) -> tuple[int, str]:
        return (self.channel_id, self.reference)

    def same_as(self, sale: dict) -> bool:
        return (
            sale["day"] == self.day
            and sale["sku"] == self.sku
            and sale["quantity"] == self.quantity
            and sale["net_amount"] == self.net_amount
            and (sale["customer_email"] or "") == self.customer_email
        )


def _validate_row(
    cells: list[str],
    *,
    line: int,
    columns: dict[str, int],
    channels: dict[str, Channel],
    skus: dict[str, tuple[int, int]],
    today: date,
) -> tuple[_Row | None, list[str]]:
    errors: list[str] = []
    if len(cells) != len(columns):
        return None, [f"has {len(cells)} fields, the header has {len(columns)}"]

    def cell(name: str) -> str:
        return cells[columns[name]].strip() if name in columns else ""

    with_nul = [name for name in columns if has_nul(cell(name))]
    if with_nul:
        return None, [f"{name} contains a NUL character" for name in with_nul]

    day = None
    try:
        day = _parse_date(cell("date"))
        if day > today:
            errors.append(f"date {day.isoformat()} is in the future")
    except ValueError as exc:
        errors.append(str(exc))
    code = cell("channel").lower()
    channel = channels.get(code)
    if channel is None:
        errors.append(
            f"unknown channel {cell('channel')!r} (one of: {', '.join(sorted(channels))})"
        )
    reference = cell("reference")
    if not reference:
        errors.append("reference is empty")
    elif len(reference) > 64:
        errors.append("reference is longer than 64 characters")
    sku = cell("sku")
    found = skus.get(sku)
    if found is None:
        errors.append(f"unknown SKU {sku!r}")
    quantity = None
    try:
        quantity = int(cell("quantity"))
        if quantity <= 0:
            errors.append(f"quantity {quantity} must be a positive whole number")
        elif quantity > MAX_QUANTITY:
            errors.append(f"quantity {quantity} is implausibly large")
    except ValueError:
        errors.append(f"quantity {cell('quantity')!r} is not a whole number")
    amount = None
    raw_amount = cell("net_amount").replace("£", "")
    if "," in raw_amount:
        # A comma only as a thousands separator beside a decimal point (1,234.50): "1,50"
        # (a European 1.50, or 150?) and "1,500" (1.5 or 1500?) are refused, not guessed.
        if not _THOUSANDS.fullmatch(raw_amount):
            errors.append(
                f"net amount {cell('net_amount')!r} is ambiguous: write it with a decimal point "
                "and no comma, e.g. 1.50 or 1234.50 (a comma only between thousands, 1,234.50)"
            )
            raw_amount = ""
        raw_amount = raw_amount.replace(",", "")
    try:
        amount = Decimal(raw_amount)
        if not amount.is_finite():
            raise InvalidOperation
        if amount < 0:
            errors.append(f"net amount {cell('net_amount')} is negative")
        elif amount >= MAX_AMOUNT:
            errors.append(f"net amount {cell('net_amount')} is too large")
        elif amount != amount.quantize(Decimal("0.01")):
            errors.append(f"net amount {cell('net_amount')} has more than 2 decimal places")
    except InvalidOperation:
        if raw_amount or "," not in cell("net_amount"):
            errors.append(f"net amount {cell('net_amount')!r} is not a number")
    email = cell("customer_email").lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.append(f"customer email {email!r} is not an email address")
    if errors:
        return None, errors
    return (
        _Row(
            line=line,
            channel_id=channel.pk,
            reference=reference,
            day=day,
            sku=sku,
            stockrecord_id=found[0],
            product_id=found[1],
            quantity=quantity,
            net_amount=amount,
            customer_email=email,
        ),
        [],
    )


def offline_sales_import(
    *,
    content: bytes,
    skip_bad_rows: bool = False,
    sales_import: SalesImport | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportOutcome:
    """Validate every row of a sales CSV and import the good ones.

    Nothing is written when any row is bad, unless `skip_bad_rows`. Rows already imported
    (same channel and reference, same values) are skipped, so a file can be imported again
    safely; a reference already imported with *different* values is a bad row. The insert
    also ignores conflicts, so two imports of one file racing each other add it once.
    """
    outcome = ImportOutcome(status=SalesImport.Status.REJECTED)
    try:
        text = _decode(content)
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            columns = _check_header(next(reader, None))
        except csv.Error as exc:
            raise ImportRejected(f"Line 1 (header) is not valid CSV: {exc}") from exc
    except ImportRejected as exc:
        outcome.message = str(exc)
        return outcome

    total = count_data_rows(content)
    channels = {c.code: c for c in Channel.objects.filter(is_online=False)}
    skus = {
        sku: (pk, product_id)
        for sku, pk, product_id in StockRecord.objects.values_list(
            "partner_sku", "pk", "product_id"
        )
    }
    today = timezone.localdate()
    rows: list[_Row] = []
    seen: dict[tuple[int, str], int] = {}
    bad: list[dict] = []
    n = 0
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            n += 1
            row, errors = _validate_row(
                cells, line=line, columns=columns, channels=channels, skus=skus, today=today
            )
            if row is not None:
                first = seen.get(row.key())
                if first is not None:
                    errors = [f"reference {row.reference!r} repeats line {first}"]
                    row = None
                else:
                    seen[row.key()] = line
                    rows.append(row)
            if errors:
                bad.append({"line": line, "errors": errors})
            if progress and n % PROGRESS_EVERY == 0:
                progress(n, max(total, n))
    except csv.Error as exc:
        bad.append({"line": reader.line_num, "errors": [f"not valid CSV: {exc}"]})
        outcome.bad = bad
        outcome.rows_total = n
        outcome.message = f"Line {reader.line_num} is not valid CSV; nothing was imported."
        return outcome
    outcome.rows_total = n
    if n == 0:
        outcome.message = "The file has a header but no sales; nothing was imported."
        return outcome

    # Rows already in the database: the same sale again is fine, a different one is not.
    existing: dict[tuple[int, str], dict] = {}
    refs = sorted({r.reference for r in rows})
    for start in range(0, len(refs), 5000):
        for sale in OfflineSale.objects.filter(reference__in=refs[start : start + 5000]).values(
            "channel_id", "reference", "day", "sku", "quantity", "net_amount", "customer_email"
        ):
            existing[(sale["channel_id"], sale["reference"])] = sale
    new_rows: list[_Row] = []
    for row in rows:
        sale = existing.get(row.key())
        if sale is None:
            new_rows.append(row)
        elif row.same_as(sale):
            outcome.already_imported += 1
        else:
            bad.append(
                {
                    "line": row.line,
                    "errors": [
                        f"reference {row.reference!r} was already imported with different "
                        "values (date, SKU, quantity, amount or email)"
                    ],
                }
            )
    bad.sort(key=lambda b: b["line"])
    outcome.bad = bad
    if bad and not skip_bad_rows:
        outcome.message = (
            f"{len(bad)} row(s) have errors, so nothing was imported. Correct them, or choose "
            "“skip bad rows” to import the other rows."
        )
        return outcome

    with transaction.atomic():
        for start in range(0, len(new_rows), BATCH_SIZE):
            created = OfflineSale.objects.bulk_create(
                [
                    OfflineSale(
                        channel_id=r.channel_id,
                        reference=r.reference,
                        day=r.day,
                        sku=r.sku,
                        stockrecord_id=r.stockrecord_id,
                        product_id=r.product_id,
                        quantity=r.quantity,
                        net_amount=r.net_amount,
                        customer_email=r.customer_email,
                        sales_import=sales_import,
                    )
                    for r in new_rows[start : start + BATCH_SIZE]
                ],
                ignore_conflicts=True,
            )
            outcome.imported += len(created)
    if progress:
        progress(n, n)
    outcome.status = SalesImport.Status.DONE
    parts = [f"{outcome.imported} sale(s) imported"]
    if outcome.already_imported:
        parts.append(f"{outcome.already_imported} already imported before (skipped)")
    if bad:
        parts.append(f"{len(bad)} bad row(s) skipped")
    outcome.message = "; ".join(parts) + "."
    return outcome


def sales_import_create(
    *,
    content: bytes,
    file_name: str,
    skip_bad_rows: bool,
    user: Any = None,
    inline: bool | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> SalesImport:
    """Record an upload and import it: small files (or `inline=True`) at once, large ones by
    a worker while the import page shows progress."""
    sales_import = SalesImport.objects.create(
        file_name=file_name[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        content=content if len(content) <= MAX_IMPORT_BYTES else None,
        skip_bad_rows=skip_bad_rows,
        rows_total=count_data_rows(content),
        created_by=user if user is not None and user.is_authenticated else None,
    )
    if inline is None:
        inline = len(content) > MAX_IMPORT_BYTES or sales_import.rows_total <= INLINE_ROW_LIMIT
    if inline:
        sales_import_run(sales_import_id=sales_import.pk, content=content, on_progress=on_progress)
        sales_import.refresh_from_db()
    else:
        from shop.reports.tasks import run_sales_import

        transaction.on_commit(lambda: run_sales_import.delay(sales_import.pk))
    return sales_import


def sales_import_run(
    *,
    sales_import_id: int,
    content: bytes | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> SalesImport:
    """Run one recorded import (idempotent: a finished import is not run again)."""
    sales_import = SalesImport.objects.get(pk=sales_import_id)
    if sales_import.status in (SalesImport.Status.DONE, SalesImport.Status.REJECTED):
        return sales_import
    if content is None:
        content = bytes(sales_import.content or b"")
    SalesImport.objects.filter(pk=sales_import.pk).update(status=SalesImport.Status.RUNNING)

    def progress(done: int, total: int) -> None:
        SalesImport.objects.filter(pk=sales_import.pk).update(rows_processed=done, rows_total=total)
        if on_progress:
            on_progress(done, total)

    try:
        outcome = offline_sales_import(
            content=content,
            skip_bad_rows=sales_import.skip_bad_rows,
            sales_import=sales_import,
            progress=progress,
        )
    except Exception:
        logger.exception("Sales import %s failed", sales_import.pk)
        SalesImport.objects.filter(pk=sales_import.pk).update(
            status=SalesImport.Status.FAILED,
            message="The import stopped on an unexpected error; nothing was imported.",
            finished_at=timezone.now(),
        )
        raise
    SalesImport.objects.filter(pk=sales_import.pk).update(
        status=outcome.status,
        rows_total=outcome.rows_total,
        rows_processed=outcome.rows_total,
        rows_imported=outcome.imported,
        rows_already_imported=outcome.already_imported,
        rows_bad=len(outcome.bad),
        errors=outcome.bad[:MAX_REPORTED_ERRORS],
        message=outcome.message,
        content=None,
        finished_at=timezone.now(),
    )
    logger.info("Sales import %s: %s", sales_import.pk, outcome.message)
    if outcome.imported:
        transaction.on_commit(_enqueue_facts_refresh)
    sales_import.refresh_from_db()
    return sales_import
