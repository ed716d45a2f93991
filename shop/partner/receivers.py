"""Back-in-stock alerts (Oscar's product alerts), sent when available stock may have risen."""

from django.db.models.signals import post_save
from oscar.core.loading import get_class

from shop.partner.models import StockRecord

AVAILABILITY_FIELDS = frozenset({"num_in_stock", "num_allocated", "price", "product_id"})


def stock_may_have_risen(record: StockRecord, *, created: bool) -> bool:
    """False only when it is known that what is available to buy did not grow: an order
    allocating stock, a shipment consuming it, an edit of other fields."""
    changed = None if created else record.changed_fields()
    if changed is None:
        return True
    if not changed & AVAILABILITY_FIELDS:
        return False
    loaded = record._loaded_values
    before = (loaded["num_in_stock"] or 0) - (loaded["num_allocated"] or 0)
    return "price" in changed or "product_id" in changed or record.net_stock_level > before


def send_back_in_stock_alerts(sender, instance, created=False, raw=False, **kwargs) -> None:
    if raw or not stock_may_have_risen(instance, created=created):
        return
    get_class("customer.alerts.utils", "AlertsDispatcher")().send_product_alert_email_for_user(
        instance.product
    )


def connect() -> None:
    post_save.connect(
        send_back_in_stock_alerts, sender=StockRecord, dispatch_uid="partner:back-in-stock"
    )
