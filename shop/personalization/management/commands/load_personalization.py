import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from shop.personalization.services import personalization_offers_load


class Command(BaseCommand):
    help = "Load personalization offers (monogram, thread, hardware, gift message). Idempotent."

    def add_arguments(self, parser):
        default = Path(settings.BASE_DIR) / "fixtures" / "personalization.json"
        parser.add_argument("path", nargs="?", default=str(default))

    def handle(self, *args, path: str, **options):
        count = personalization_offers_load(data=json.loads(Path(path).read_text()))
        self.stdout.write(f"Personalization: {count} offers loaded.")
