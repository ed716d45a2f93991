from django.core.management.base import BaseCommand

from shop.catalogue.models import Product
from shop.catalogue.services import search_refresh


class Command(BaseCommand):
    help = "Rebuild product search documents now: those marked dirty, or --all of them."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="every product, dirty or not")

    def handle(self, *args, all=False, **options):
        ids = list(Product.objects.values_list("pk", flat=True)) if all else None
        done = search_refresh(product_ids=ids, rebuild_words=all)
        self.stdout.write(f"{done} search documents refreshed")
