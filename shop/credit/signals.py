"""Store credit follows the order: a cancelled (or fully refunded) order gives back the credit
it spent, once. Partial refunds of card-and-credit orders leave the credit as it is."""

from oscar.apps.order.signals import order_status_changed

from shop.order.pipeline import END_STATUSES


def restore_credit_of_ended_order(sender, order, old_status, new_status, **kwargs):
    if new_status not in END_STATUSES:
        return
    from shop.credit.services import credit_restore

    credit_restore(order_number=order.number, note=f"Order {order.number} {new_status.lower()}")


def connect() -> None:
    order_status_changed.connect(
        restore_credit_of_ended_order, dispatch_uid="credit-restore-on-cancel"
    )
