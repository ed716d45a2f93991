"""Writes for the workshop: jobs for personalized order lines, and their progress."""

import logging
from datetime import date

from django.contrib.sites.models import Site
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone

from shop.order import pipeline
from shop.order.models import Order, OrderStatusChange
from shop.order.selectors import promised_dispatch_date
from shop.order.services import order_status_change
from shop.workshop.models import WorkshopJob, WorkshopJobEvent, WorkshopJobTransitionError

logger = logging.getLogger(__name__)

__all__ = [
    "WorkshopJobTransitionError",
    "workshop_job_advance",
    "workshop_jobs_create",
    "workshop_jobs_overdue_flag",
]


def workshop_jobs_create(*, order: Order) -> list[WorkshopJob]:
    """Create a job for each of the order's personalized lines; return all its jobs.

    Idempotent: the order row is locked while we look for jobs already made, and each line
    can hold one job (unique), so a retried or redelivered task creates nothing new. The due
    date is the line's own dispatch promise (order.selectors.promised_dispatch_date over the
    lead times its recorded choices add).
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        lines = (
            order.lines.filter(pipeline.PERSONALIZED_LINE, workshop_job__isnull=True)
            .annotate(lead_days=Max("personalizations__lead_days"))
            .order_by("pk")
        )
        created = []
        for line in lines:
            job = WorkshopJob.objects.create(
                line=line,
                order=order,
                due_date=promised_dispatch_date(
                    placed=order.date_placed, lead_days=[line.lead_days]
                ),
            )
            created.append(job)
        WorkshopJobEvent.objects.bulk_create(
            WorkshopJobEvent(job=job, kind=WorkshopJobEvent.Kind.CREATED, status=job.status)
            for job in created
        )
        if created:
            logger.info("Order %s: %d workshop job(s) created", order.number, len(created))
        jobs = list(order.workshop_jobs.order_by("line_id"))
        if jobs and order.status == pipeline.PAID:
            order_status_change(
                order=order,
                to_status=pipeline.IN_WORKSHOP,
                source=OrderStatusChange.Source.SYSTEM,
                note=f"{len(jobs)} workshop ticket(s) issued",
            )
        return jobs


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
        order = Order.objects.select_for_update().get(pk=job.order_id)
        if (
            job.status == WorkshopJob.Status.DONE
            and order.status == pipeline.IN_WORKSHOP
            and not order.workshop_jobs.filter(status__in=WorkshopJob.ACTIVE).exists()
        ):
            order_status_change(
                order=order,
                to_status=pipeline.READY_TO_SHIP,
                actor=staff,
                note="All workshop jobs done",
            )
    return job


def workshop_jobs_overdue_flag(*, today: date | None = None) -> list[WorkshopJob]:
    """Tell staff (one email) about the jobs past their due date not yet flagged today;
    returns those jobs. Run twice on one day, it sends one email."""
    today = today or timezone.localdate()
    with transaction.atomic():
        jobs = list(
            WorkshopJob.objects.select_for_update(skip_locked=True)
            .filter(status__in=WorkshopJob.ACTIVE, due_date__lt=today)
            .exclude(overdue_flagged_on=today)
            .select_related("order", "line")
            .order_by("due_date", "pk")
        )
        if not jobs:
            return []
        WorkshopJob.objects.filter(pk__in=[j.pk for j in jobs]).update(overdue_flagged_on=today)
        recipients = staff_emails()
        if recipients:
            context = {"jobs": jobs, "today": today, "site": Site.objects.get_current()}
            send_mail(
                subject=f"{len(jobs)} workshop job(s) past their due date",
                message=render_to_string("shop/workshop/email/overdue.txt", context),
                from_email=None,
                recipient_list=recipients,
            )
        logger.warning("%d workshop job(s) overdue; staff told", len(jobs))
    return jobs


def staff_emails() -> list[str]:
    from django.contrib.auth import get_user_model

    return sorted(
        set(
            get_user_model()
            .objects.filter(is_staff=True, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )
