"""Oscar's stock receivers, without their queries when nothing can come of them: back-in-stock
alerts for shoppers (when available stock may have risen) and low-stock alerts for staff
(when stock is, or was, under its threshold). Orders allocate stock on every placement."""

from django.db.models.signals import post_save
from oscar.apps.partner import receivers as oscar_receivers
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


def _below_threshold_when_loaded(record: StockRecord) -> bool | None:
    loaded = getattr(record, "_loaded_values", None)
    if loaded is None or record.changed_fields() is None:
        return None
    if loaded["low_stock_threshold"] is None:
        return False
    net = (loaded["num_in_stock"] or 0) - (loaded["num_allocated"] or 0)
    return net < loaded["low_stock_threshold"]


def update_low_stock_alerts(sender, instance, created=False, raw=False, **kwargs) -> None:
    """Oscar's rule (open an alert under the threshold, close it above), skipped when the
    stock is above its threshold and was when loaded: no alert can be open, none is due."""
    if created or raw:
        return
    if not instance.is_below_threshold and _below_threshold_when_loaded(instance) is False:
        return
    oscar_receivers.update_stock_alerts(sender, instance, created, **kwargs)


def connect() -> None:
    post_save.disconnect(oscar_receivers.update_stock_alerts, sender=StockRecord)
    post_save.connect(update_low_stock_alerts, sender=StockRecord, dispatch_uid="partner:low-stock")
    post_save.connect(
        send_back_in_stock_alerts, sender=StockRecord, dispatch_uid="partner:back-in-stock"
    )
