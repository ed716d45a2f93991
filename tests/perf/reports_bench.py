#!/usr/bin/env python
"""`make bench` (second part): the business reports at scale.

    .venv/bin/python tests/perf/reports_bench.py [--customers 20000] [--orders 100000]
        [--offline-sales 50000] [--runs 3] [--keep-db] [--db-name NAME]
        [--reuse-db] [--only TEXT]

``--keep-db`` keeps the database; ``--reuse-db`` then measures it again (migrated, the facts
rebuilt, no new data, no import) and ``--only`` times only the rows whose label holds TEXT:
for iterating on one report. A full run (fresh database) is the figure to quote.

1. (Re)creates the PostgreSQL database ``marlowvale_reports_bench`` on 127.0.0.1:5432 (user
   postgres), migrates it and loads the demo catalogue.
2. Generates the data with set-based SQL (tests/perf/reports_data.py): 20,000 customers,
   100,000 online orders, 50,000 offline sales by default; prints how long each step took;
   rebuilds the customer fact tables (what the Celery beat job does every 10 minutes).
3. Renders every report page in-process (Django test Client, signed in as a superuser) over
   the last 365 days: one warm-up, then the median of ``--runs``; streams the CSV export of all
   customers (over two years, so every customer is in it) and times it to the last byte; times
   importing a 20,000-row offline sales CSV and importing it again (idempotent).
4. Prints the table against the targets (each page < 1 s, each CSV export < 5 s) and exits 1 if
   one is missed or a page does not answer 200. Drops the database unless ``--keep-db``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
DB_NAME = "marlowvale_reports_bench"
PAGE_LIMIT = 1.0
EXPORT_LIMIT = 5.0


def recreate_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def vacuum_facts() -> None:
    """Clear the row versions the facts rebuild has just deleted, as autovacuum does in a
    running shop (this machine's PostgreSQL runs without it). Every run rebuilds the facts,
    and without this each --reuse-db run left its predecessor's rows dead in the tables: after
    a few dozen runs the order facts took 500 MB and the report queries scanned them all (a
    bare count of them 170 ms instead of about 15)."""
    from django.db import connection

    from shop.reports.services import fact_tables

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {', '.join(fact_tables())}")


def drop_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def timed(fn, runs: int) -> tuple[float, object]:
    result = fn()  # warm-up (connection, caches, PostgreSQL's plan)
    times = []
    for _ in range(runs):
        started = time.monotonic()
        result = fn()
        times.append(time.monotonic() - started)
    return statistics.median(times), result


def main() -> int:
    global DB_NAME
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--offline-sales", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--db-name", default=DB_NAME, help="(two benches side by side)")
    parser.add_argument(
        "--reuse-db", action="store_true", help="measure a database kept by --keep-db"
    )
    parser.add_argument(
        "--only", default="", help="time only the rows whose label contains this (iterating)"
    )
    args = parser.parse_args()
    DB_NAME = args.db_name

    sys.path.insert(0, str(BASE_DIR))
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost,127.0.0.1"
    print(f"Reports bench: database {DB_NAME}")
    if not args.reuse_db:
        recreate_database()
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from shop.reports.models import OfflineSale
    from shop.reports.selectors import customer_profitability
    from shop.reports.services import offline_sales_import, report_facts_refresh
    from tests.perf.reports_data import generate_reports_data

    failures: list[str] = []
    try:
        started = time.monotonic()
        call_command("migrate", verbosity=0)
        if not args.reuse_db:
            call_command(
                "load_catalogue", str(BASE_DIR / "fixtures" / "catalogue.json"), verbosity=0
            )
            call_command("load_personalization", verbosity=0)
            print(f"Migrated and loaded the catalogue in {time.monotonic() - started:.1f} s")
            print(
                f"Generating {args.customers} customers, {args.orders} orders, "
                f"{args.offline_sales} offline sales:"
            )
            started = time.monotonic()
            generate_reports_data(
                customers=args.customers, orders=args.orders, offline_sales=args.offline_sales
            )
            print(f"Generated in {time.monotonic() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT count(*) FROM order_order), (SELECT count(*) FROM order_line),"
                " (SELECT count(*) FROM reports_offlinesale),"
                " (SELECT count(DISTINCT COALESCE(user_id::text, guest_email))"
                "    FROM order_order)"
            )
            orders, lines, offline, buyers = cursor.fetchone()
        print(f"  {orders} orders, {lines} lines, {offline} offline sales, {buyers} buyers")

        started = time.monotonic()
        report_facts_refresh()
        refresh_seconds = time.monotonic() - started
        print(f"Customer fact tables rebuilt in {refresh_seconds:.1f} s")
        vacuum_facts()

        admin = get_user_model().objects.filter(username="bench-admin").first()
        if admin is None:
            admin = get_user_model().objects.create_superuser(
                username="bench-admin", email="bench-admin@example.com", password="x"
            )
        client = Client()
        client.force_login(admin)
        today = timezone.localdate()
        year = {"preset": "custom", "start": str(today - timedelta(days=364)), "end": str(today)}
        two_years = {**year, "start": str(today - timedelta(days=731))}
        top = customer_profitability(start=today - timedelta(days=364), end=today, per_page=1).rows[
            0
        ]
        pages = [
            ("Online share, by month", "online-share", {**year, "bucket": "month"}),
            ("Online share, by week", "online-share", {**year, "bucket": "week"}),
            ("Online share, by day", "online-share", {**year, "bucket": "day"}),
            ("Customer profitability", "customers", year),
            ("  sorted by refunds, page 40", "customers", {**year, "sort": "refunds", "page": 40}),
            ("  two years", "customers", two_years),
            ("Customer page (top customer)", None, year),
            ("Segments and cohorts", "segments", year),
            ("Lead time", "lead-time", year),
            ("Production cost", "production-cost", year),
            ("Personalization economics", "personalization", year),
            ("Offline sales import page", "imports", {}),
        ]
        rows = []
        for label, name, query in pages:
            if args.only.lower() not in label.lower():
                continue
            url = (
                reverse(f"business-reports:{name}")
                if name
                else reverse("business-reports:customer-detail", args=[top["customer_key"]])
            )

            def get(url=url, query=query):
                return client.get(url, query)

            seconds, response = timed(get, args.runs)
            ok = response.status_code == 200 and seconds < PAGE_LIMIT
            rows.append((label, seconds, PAGE_LIMIT, f"HTTP {response.status_code}", ok))

        exports = [
            ("CSV export, all customers", "customers", two_years),
            ("CSV export, online share by day", "online-share", {**year, "bucket": "day"}),
            ("CSV export, RFM segments", "segments", {**year, "table": "rfm"}),
            ("CSV export, cohorts", "segments", {**year, "table": "cohorts"}),
            ("CSV export, lead time", "lead-time", year),
            ("CSV export, production cost", "production-cost", year),
            ("CSV export, personalization", "personalization", year),
        ]
        for label, name, query in exports:
            if args.only.lower() not in label.lower():
                continue

            def export(name=name, query=query):
                response = client.get(
                    reverse(f"business-reports:{name}"), {**query, "export": "csv"}
                )
                body = b"".join(response.streaming_content)
                return response.status_code, body.count(b"\n") - 1

            seconds, (status, count) = timed(export, max(1, args.runs - 1))
            rows.append(
                (
                    label,
                    seconds,
                    EXPORT_LIMIT,
                    f"{count} rows",
                    status == 200 and seconds < EXPORT_LIMIT,
                )
            )

        skus = list(
            OfflineSale.objects.values_list("sku", flat=True).distinct().order_by("sku")[:20]
        )
        csv_lines = ["date,channel,reference,sku,quantity,net_amount,customer_email"]
        for i in range(20_000):
            csv_lines.append(
                f"{today - timedelta(days=i % 300)},boutique,BENCH-{i},{skus[i % len(skus)]},"
                f"{1 + i % 3},{45 + i % 50}.00,rb-{1 + i % 500}@example.com"
            )
        content = ("\n".join(csv_lines) + "\n").encode()
        for label in ("Import 20,000-row CSV", "  the same file again"):
            if args.only or args.reuse_db:
                break  # the import adds sales: only on a fresh database, in a full run
            started = time.monotonic()
            outcome = offline_sales_import(content=content)
            seconds = time.monotonic() - started
            rows.append(
                (
                    label,
                    seconds,
                    None,
                    f"{outcome.imported} new, {outcome.already_imported} already there",
                    outcome.status == "done",
                )
            )

        rows.append(
            (
                "Rebuild of the customer fact tables",
                refresh_seconds,
                None,
                "Celery beat, every 10 minutes",
                True,
            )
        )
        print()
        print(f"{'Report (last 365 days unless said)':<36} {'seconds':>8} {'limit':>6}  note")
        for label, seconds, limit, note, ok in rows:
            limit_text = f"{limit:.0f}" if limit else "-"
            flag = "" if ok else "  <-- FAIL"
            print(f"{label:<36} {seconds:8.2f} {limit_text:>6}  {note}{flag}")
            if not ok:
                failures.append(label)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            drop_database()
    if failures:
        print(f"\n{len(failures)} figure(s) missed their target: {', '.join(failures)}")
        return 1
    print("\nEvery report page under 1 s, every CSV export under 5 s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
