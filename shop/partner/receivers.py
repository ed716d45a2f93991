"""Oscar's stock receivers, without their queries when nothing can come of them: back-in-stock
alerts for shoppers (when available stock may have risen) and low-stock alerts for staff
(when stock is, or was, under its threshold). Orders allocate stock on every placement."""

from django.db.models.signals import post_save
from oscar.apps.partner import receivers as oscar_receivers
from oscar.core.loading import get_class

from shop.partner.models import StockRecord
from shop.partner.selectors import below_threshold_when_loaded, stock_may_have_risen


def send_back_in_stock_alerts(sender, instance, created=False, raw=False, **kwargs) -> None:
    if raw or not stock_may_have_risen(instance, created=created):
        return
    get_class("customer.alerts.utils", "AlertsDispatcher")().send_product_alert_email_for_user(
        instance.product
    )


def update_low_stock_alerts(sender, instance, created=False, raw=False, **kwargs) -> None:
    """Oscar's rule (open an alert under the threshold, close it above), skipped when the
    stock is above its threshold and was when loaded: no alert can be open, none is due."""
    if created or raw:
        return
    if not instance.is_below_threshold and below_threshold_when_loaded(instance) is False:
        return
    oscar_receivers.update_stock_alerts(sender, instance, created, **kwargs)


def connect() -> None:
    post_save.disconnect(oscar_receivers.update_stock_alerts, sender=StockRecord)
    post_save.connect(update_low_stock_alerts, sender=StockRecord, dispatch_uid="partner:low-stock")
    post_save.connect(
        send_back_in_stock_alerts, sender=StockRecord, dispatch_uid="partner:back-in-stock"
    )
