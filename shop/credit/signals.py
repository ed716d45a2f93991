"""Store credit follows the order: a cancelled order gives back the credit it spent."""

from oscar.apps.order.signals import order_status_changed

CANCELLED = "Cancelled"  # shop.order.pipeline.CANCELLED


def restore_credit_of_cancelled_order(sender, order, old_status, new_status, **kwargs):
    if new_status != CANCELLED:
        return
    from shop.credit.services import credit_restore

    credit_restore(order_number=order.number, note=f"Order {order.number} cancelled")


def connect() -> None:
    order_status_changed.connect(
        restore_credit_of_cancelled_order, dispatch_uid="credit-restore-on-cancel"
    )
