"""Workshop jobs: created once per personalized line, due on the promised dispatch date,
moved through their states by staff with every change recorded."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from oscar.test.factories import UserFactory

from shop.common.workdays import dispatch_date
from shop.personalization.rules import Choices
from shop.workshop.models import WorkshopJob, WorkshopJobEvent, WorkshopJobTransitionError
from shop.workshop.services import (
    workshop_job_advance,
    workshop_jobs_create,
)
from shop.workshop.tasks import create_workshop_jobs
from tests.workshop.helpers import (
    FULL,
    place_order,
    place_personalized_order,
    plain_product,
    tote_variant,
)

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
Status = WorkshopJob.Status


def test_creating_twice_gives_the_same_jobs(demo_personalization, workdays):
    order = place_personalized_order()
    first = workshop_jobs_create(order=order)
    second = workshop_jobs_create(order=order)
    assert len(first) == 1
    assert [j.pk for j in second] == [j.pk for j in first]
    assert WorkshopJob.objects.count() == 1
    assert WorkshopJobEvent.objects.filter(kind="created").count() == 1
    # The task is the same call: still nothing new.
    assert create_workshop_jobs(order.pk) == 1
    assert WorkshopJob.objects.count() == 1


def test_only_personalized_lines_get_jobs(demo_personalization, workdays):
    gift_only = Choices(gift_message="Well done")
    order = place_order(
        lines=[
            (tote_variant(), FULL, 1),
            (plain_product(), Choices(), 2),
            (plain_product(), gift_only, 1),
        ]
    )
    lines = list(order.lines.order_by("pk"))
    assert len(lines) == 3
    jobs = workshop_jobs_create(order=order)
    assert [job.line_id for job in jobs] == [lines[0].pk, lines[2].pk]
    assert all(job.order_id == order.pk and job.status == Status.OPEN for job in jobs)


def test_due_date_counts_working_days_from_placement(demo_personalization, workdays):
    # Friday 6 March 2026, 10:00 in London: before the cut-off, so work starts that day.
    friday = datetime(2026, 3, 6, 10, 0, tzinfo=LONDON)
    assert friday.weekday() == 4
    order = place_personalized_order(date_placed=friday)
    # Monogram 3 extra days (the longest; hardware adds 2, thread 1) + 1 day for stock:
    # 4 working days after Friday skip the weekend: Mon, Tue, Wed, Thu.
    assert max(order.lines.get().personalizations.values_list("lead_days", flat=True)) == 3
    (job,) = workshop_jobs_create(order=order)
    assert job.due_date == date(2026, 3, 12)
    assert job.due_date == dispatch_date(extra_days=3, now=friday)
    # One rule: the job's due date is the order's promise (one line, the same lead times).
    order.refresh_from_db()
    assert order.promised_dispatch_date == job.due_date

    # Placed after the cut-off on Friday: work starts on Monday, so one day later.
    late = place_personalized_order(date_placed=datetime(2026, 3, 6, 15, 30, tzinfo=LONDON))
    (job,) = workshop_jobs_create(order=late)
    assert job.due_date == date(2026, 3, 13)


def test_due_date_skips_the_workshops_closed_days(demo_personalization, workdays):
    workdays.WORKSHOP_CLOSED_DAYS = ["2026-03-10"]
    friday = datetime(2026, 3, 6, 10, 0, tzinfo=LONDON)
    order = place_personalized_order(choices=Choices(thread="navy"), date_placed=friday)
    (job,) = workshop_jobs_create(order=order)
    # thread: 1 extra day + 1 stock day = 2 working days after Friday: Mon 9, (Tue 10 closed)
    # Wed 11.
    assert job.due_date == date(2026, 3, 11)


def test_status_changes_are_recorded_and_illegal_ones_refused(demo_personalization, workdays):
    staff = UserFactory(is_staff=True)
    (job,) = workshop_jobs_create(order=place_personalized_order())

    job = workshop_job_advance(job=job, status=Status.IN_PROGRESS, staff=staff, note="Cutting")
    job = workshop_job_advance(job=job, status=Status.DONE, staff=staff)
    assert WorkshopJob.objects.get(pk=job.pk).status == Status.DONE

    with pytest.raises(WorkshopJobTransitionError, match="cannot be moved to open"):
        workshop_job_advance(job=job, status=Status.OPEN, staff=staff)
    with pytest.raises(WorkshopJobTransitionError, match="already done"):
        workshop_job_advance(job=job, status=Status.DONE, staff=staff)
    with pytest.raises(WorkshopJobTransitionError, match="not a workshop job status"):
        workshop_job_advance(job=job, status="shipped", staff=staff)

    events = list(job.events.values_list("kind", "from_status", "status", "actor", "note"))
    assert events == [
        ("created", "", "open", None, ""),
        ("status_changed", "open", "in_progress", staff.pk, "Cutting"),
        ("status_changed", "in_progress", "done", staff.pk, ""),
    ]
    assert WorkshopJob.objects.get(pk=job.pk).status == Status.DONE


def test_in_progress_can_go_back_to_open(demo_personalization, workdays):
    staff = UserFactory(is_staff=True)
    (job,) = workshop_jobs_create(order=place_personalized_order())
    job = workshop_job_advance(job=job, status=Status.IN_PROGRESS, staff=staff)
    job = workshop_job_advance(job=job, status=Status.OPEN, staff=staff, note="Leather on order")
    assert job.status == Status.OPEN
    assert job.next_statuses == [("in_progress", "In progress"), ("done", "Done")]


@pytest.mark.django_db(transaction=True)
def test_jobs_are_queued_only_after_the_order_commits(demo_personalization, published_tasks):
    from shop.order.services import order_placed_followups

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        order = place_personalized_order()
        order_placed_followups(order=order)
        assert published_tasks == []
        raise Boom
    assert published_tasks == []

    with transaction.atomic():
        order = place_personalized_order()
        order_placed_followups(order=order)
        assert published_tasks == []
    assert ("create_workshop_jobs", [order.pk]) in published_tasks
