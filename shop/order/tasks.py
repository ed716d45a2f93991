from smtplib import SMTPException

from celery import shared_task

from shop.order.services import order_confirmation_send


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def send_order_confirmation(self, order_id: int) -> bool:
    return order_confirmation_send(order_id=order_id)
