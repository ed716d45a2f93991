"""manage.py seed_demo_history: the demo's 12-month history (shop.reports.demo_history).

`make run` calls it after `bootstrap_store`; production never does. Idempotent."""

import time

from django.core.management.base import BaseCommand

from shop.reports.demo_history import (
    CUSTOMERS,
    demo_history_seed,
    demo_history_seeded,
    demo_takebacks_add,
    demo_takebacks_seeded,
)


class Command(BaseCommand):
    help = "Seed the demo store with a 12-month sales history for the reports (once)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=CUSTOMERS)

    def handle(self, *args, customers: int, **options):
        started = time.monotonic()
        if demo_history_seeded():
            if demo_takebacks_seeded():
                self.stdout.write("Demo history: already there.")
                return
            made = demo_takebacks_add()  # a demo seeded before the take-back year
            if not made.get("skipped"):
                self.stdout.write(
                    f"Demo history: {made['takebacks']} take-backs, {made['preloved_listed']} "
                    f"pre-loved pieces ({made['preloved_sold']} sold) added, in "
                    f"{time.monotonic() - started:.1f} s."
                )
            return
        made = demo_history_seed(customers=customers)
        if made.get("skipped"):
            self.stdout.write(f"Demo history: skipped ({made.get('reason', 'already there')}).")
            return
        self.stdout.write(
            f"Demo history: {made['orders']} online orders ({made['personalised_orders']} "
            f"personalised) from {made['customers']} customers and {made['offline_sales']} "
            f"offline sales, {made['takebacks']} take-backs and {made['preloved_listed']} "
            f"pre-loved pieces ({made['preloved_sold']} sold) over 12 months, in "
            f"{time.monotonic() - started:.1f} s."
        )
