from celery import shared_task

from shop.common.tasks import durable_task
from shop.order.models import Order
from shop.workshop.services import workshop_jobs_create, workshop_jobs_overdue_flag


@durable_task(subject_kind="order")
def create_workshop_jobs(self, order_id: int) -> int:
    """Create the order's workshop jobs (idempotent); returns how many jobs it has."""
    return len(workshop_jobs_create(order=Order.objects.get(pk=order_id)))


@shared_task(acks_late=True)
def flag_overdue_workshop_jobs() -> int:
    """Daily (beat): email staff the workshop jobs past their due date."""
    return len(workshop_jobs_overdue_flag())
