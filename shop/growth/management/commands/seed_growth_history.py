"""manage.py seed_growth_history: the funnel's 90-day demo history (shop.growth.demo).

`make run` calls it after `seed_demo_history` (the orders it links to); production never does.
Idempotent."""

import time

from django.core.management.base import BaseCommand

from shop.growth.demo import growth_demo_history_seed


class Command(BaseCommand):
    help = "Seed the demo store with 90 days of funnel visitors and events (once)."

    def handle(self, *args, **options):
        started = time.monotonic()
        made = growth_demo_history_seed()
        if made.get("skipped"):
            self.stdout.write("Funnel history: already there.")
            return
        self.stdout.write(
            f"Funnel history: {made['visitors']} visitors, {made['visits']} visits, "
            f"{made['events']} events ({made['order_paid']} paid orders) since "
            f"{made['first_day']:%d %b %Y}, in {time.monotonic() - started:.1f} s."
        )
