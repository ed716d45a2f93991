"""Draw and attach product images: ``manage.py generate_product_images [--redraw] [--upc ...]``."""

import time

from django.core.management.base import BaseCommand, CommandError

from shop.catalogue.management.commands.load_catalogue import DEFAULT_PATH, read_catalogue
from shop.catalogue.services import catalogue_images_generate


class Command(BaseCommand):
    help = (
        "Draw one studio-style image per product and colour variant described in the catalogue "
        "file into MEDIA_ROOT/products/ and attach it as the product's primary image. "
        "Existing files are kept unless --redraw."
    )

    def add_arguments(self, parser):
        parser.add_argument("--data", default=str(DEFAULT_PATH), help="catalogue JSON file")
        parser.add_argument("--upc", action="append", help="only this product (repeatable)")
        parser.add_argument("--redraw", action="store_true", help="redraw existing files")

    def handle(self, *args, data: str, upc: list[str] | None, redraw: bool, **options):
        started = time.perf_counter()
        try:
            result = catalogue_images_generate(data=read_catalogue(data), upcs=upc, redraw=redraw)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"images drawn {result.drawn}; ProductImage rows created {result.created}, "
            f"updated {result.updated}, unchanged {result.unchanged}"
        )
        if result.skipped:
            self.stdout.write(f"skipped (not in the database or not in the file): "
                              f"{', '.join(result.skipped)}")  # fmt: skip
        self.stdout.write(self.style.SUCCESS(f"Done in {elapsed:.1f} s."))
