from celery import shared_task
from django.db import InterfaceError, OperationalError

from shop.order.models import Order
from shop.workshop.services import workshop_jobs_create, workshop_jobs_overdue_flag


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError, ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def create_workshop_jobs(self, order_id: int) -> int:
    """Create the order's workshop jobs (idempotent); returns how many jobs it has."""
    return len(workshop_jobs_create(order=Order.objects.get(pk=order_id)))


create_workshop_jobs.subject_kind = "order"


@shared_task(acks_late=True)
def flag_overdue_workshop_jobs() -> int:
    """Daily (beat): email staff the workshop jobs past their due date."""
    return len(workshop_jobs_overdue_flag())
