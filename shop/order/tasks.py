from smtplib import SMTPException

from celery import shared_task
from django.db import InterfaceError, OperationalError

from shop.order.services import order_email_send, orders_unpaid_cancel

RETRYABLE = (SMTPException, ConnectionError, TimeoutError, OperationalError, InterfaceError)


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=RETRYABLE,
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def send_order_email(self, order_id: int, code: str) -> bool:
    """Send one of the order's emails (confirmation, being made, shipped), once."""
    return order_email_send(order_id=order_id, code=code)


send_order_email.subject_kind = "order"


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=RETRYABLE,
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def send_order_confirmation(self, order_id: int) -> bool:
    """Kept for messages queued before send_order_email existed."""
    return order_email_send(order_id=order_id, code="ORDER_PLACED")


send_order_confirmation.subject_kind = "order"


@shared_task(acks_late=True)
def cancel_unpaid_orders() -> int:
    """Daily (beat): cancel orders whose payment never came and release their stock."""
    return orders_unpaid_cancel()
