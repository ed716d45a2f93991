from celery import shared_task

from shop.common.tasks import durable_task
from shop.order.services import order_email_send, orders_unpaid_cancel


@durable_task(subject_kind="order")
def send_order_email(self, order_id: int, code: str) -> bool:
    """Send one of the order's emails (confirmation, being made, shipped), once."""
    return order_email_send(order_id=order_id, code=code)


@shared_task(acks_late=True)
def cancel_unpaid_orders() -> int:
    """Daily (beat): cancel orders whose payment never came and release their stock."""
    return orders_unpaid_cancel()
