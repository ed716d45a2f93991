"""Writes for the workshop: jobs for personalized order lines, and their progress."""

import logging

from django.db import transaction
from django.db.models import Max

from shop.common.workdays import dispatch_date
from shop.order.models import Order
from shop.workshop.models import WorkshopJob, WorkshopJobEvent, WorkshopJobTransitionError

logger = logging.getLogger(__name__)

__all__ = [
    "WorkshopJobTransitionError",
    "workshop_job_advance",
    "workshop_jobs_create",
    "workshop_jobs_enqueue",
]


def workshop_jobs_enqueue(*, order: Order) -> None:
    """Queue the creation of the order's workshop jobs for after the transaction commits."""
    from shop.workshop.tasks import create_workshop_jobs

    order_id = order.pk
    transaction.on_commit(lambda: create_workshop_jobs.delay(order_id))


def workshop_jobs_create(*, order: Order) -> list[WorkshopJob]:
    """Create a job for each of the order's personalized lines; return all its jobs.

    Idempotent: the order row is locked while we look for jobs already made, and each line
    can hold one job (unique), so a retried or redelivered task creates nothing new. The due
    date is the dispatch date promised at placement: the longest extra lead time among the
    line's recorded choices, counted in working days from when the order was placed.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        lines = (
            order.lines.filter(personalizations__isnull=False, workshop_job__isnull=True)
            .annotate(lead_days=Max("personalizations__lead_days"))
            .order_by("pk")
        )
        created = []
        for line in lines:
            job = WorkshopJob.objects.create(
                line=line,
                order=order,
                due_date=dispatch_date(extra_days=line.lead_days, now=order.date_placed),
            )
            created.append(job)
        WorkshopJobEvent.objects.bulk_create(
            WorkshopJobEvent(job=job, kind=WorkshopJobEvent.Kind.CREATED, status=job.status)
            for job in created
        )
        if created:
            logger.info("Order %s: %d workshop job(s) created", order.number, len(created))
        return list(order.workshop_jobs.order_by("line_id"))


def workshop_job_advance(*, job: WorkshopJob, status: str, staff, note: str = "") -> WorkshopJob:
    """Move a job to `status` (refusing illegal moves) and record who did it."""
    with transaction.atomic():
        job = WorkshopJob.objects.select_for_update().get(pk=job.pk)
        old = job.transition_to(status)
        job.save(update_fields=["status", "updated_at"])
        WorkshopJobEvent.objects.create(
            job=job,
            kind=WorkshopJobEvent.Kind.STATUS_CHANGED,
            from_status=old,
            status=job.status,
            actor=staff if getattr(staff, "pk", None) else None,
            note=note.strip(),
        )
    return job
