"""Import offline sales from a CSV file, as the dashboard upload does (for automation).

    manage.py import_offline_sales sales.csv [--skip-bad-rows]

Columns: date (YYYY-MM-DD), channel (boutique, wholesale, marketplace, event), reference
(unique per channel), sku, quantity, net_amount (GBP excl. VAT), customer_email (optional).
Exits with an error, importing nothing, when any row is bad (unless --skip-bad-rows).
Importing the same file again adds nothing.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shop.reports.models import SalesImport
from shop.reports.services import (
    MAX_IMPORT_BYTES,
    import_too_large_message,
    report_facts_refresh,
    sales_import_create,
)


class Command(BaseCommand):
    help = "Import offline sales (boutique, wholesale, marketplace, events) from a CSV file."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--skip-bad-rows", action="store_true")

    def handle(self, *args, path: str, skip_bad_rows: bool, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"{path}: no such file")
        size = file.stat().st_size
        if size > MAX_IMPORT_BYTES:
            raise CommandError(import_too_large_message(size))
        with file.open("rb") as handle:
            # Reading one byte past the limit is enough to refuse a file that is too large.
            content = handle.read(MAX_IMPORT_BYTES + 1)

        def progress(done: int, total: int) -> None:
            if options["verbosity"] > 1:
                self.stdout.write(f"  {done}/{total} rows checked")

        result = sales_import_create(
            content=content,
            file_name=file.name,
            skip_bad_rows=skip_bad_rows,
            inline=True,
            on_progress=progress,
        )
        for bad in result.errors:
            self.stderr.write(f"line {bad['line']}: {'; '.join(bad['errors'])}")
        if result.rows_bad > len(result.errors):
            self.stderr.write(f"... and {result.rows_bad - len(result.errors)} more bad rows")
        if result.status != SalesImport.Status.DONE:
            raise CommandError(result.message)
        self.stdout.write(result.message)
        if result.rows_imported:
            refresh = report_facts_refresh()
            self.stdout.write(f"Customer figures refreshed in {refresh.seconds} s.")
