"""Run the lifecycle emails' sweep now (what beat runs): `manage.py lifecycle_sweep
[--kind abandoned_basket]`. The queued emails go to the worker through the outbox."""

from django.core.management.base import BaseCommand

from shop.lifecycle.models import Campaign
from shop.lifecycle.services import lifecycle_sweep


class Command(BaseCommand):
    help = "Queue the lifecycle emails that are due (all running campaigns, or one)."

    def add_arguments(self, parser):
        parser.add_argument("--kind", choices=Campaign.Kind.values, default=None)

    def handle(self, *args, kind=None, **options):
        queued = lifecycle_sweep(kind=kind)
        for name, count in queued.items():
            self.stdout.write(f"{name}: {count} queued")
