"""Keep the cost price history: every save of a stock record whose cost price changed (the
catalogue loader, the dashboard, the admin) appends a row. Thin: the service decides."""

from django.db.models.signals import post_save
from django.dispatch import receiver
from oscar.core.loading import get_model

from shop.reports.services import cost_price_record

StockRecord = get_model("partner", "StockRecord")


@receiver(post_save, sender=StockRecord, dispatch_uid="reports_cost_price_history")
def stockrecord_saved(sender, instance, created, raw=False, update_fields=None, **kwargs) -> None:
    # Stock allocation saves only its counters: no cost change, no query.
    if raw or (update_fields is not None and "cost_price" not in update_fields):
        return
    changed = None if created else instance.changed_fields()
    if changed is not None and "cost_price" not in changed:
        return  # loaded from the database and its cost price is what was loaded
    cost_price_record(stockrecord=instance, source="created" if created else "changed")
