"""Load (or reload) the demo catalogue: ``manage.py load_catalogue [path] [--reset-stock]``."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shop.catalogue.services import CatalogueDataError, catalogue_load

DEFAULT_PATH = Path(settings.BASE_DIR) / "fixtures" / "catalogue.json"


def read_catalogue(path: str | Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise CommandError(f"{path} is not valid JSON: {exc}") from exc


class Command(BaseCommand):
    help = "Create or update the catalogue described by a JSON file (fixtures/catalogue.json)."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(DEFAULT_PATH))
        parser.add_argument(
            "--reset-stock",
            action="store_true",
            help="Also set num_in_stock of existing stock records to the file's values.",
        )

    def handle(self, *args, path: str, reset_stock: bool, **options):
        data = read_catalogue(path)
        try:
            result = catalogue_load(data=data, reset_stock=reset_stock)
        except CatalogueDataError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        for line in result.lines():
            self.stdout.write(line)
        if result.changed:
            self.stdout.write(self.style.SUCCESS(f"Catalogue loaded from {path}."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Catalogue already up to date with {path}."))
