"""The lead's hook: after an order commits, a real Celery worker creates its workshop jobs,
once, however often the task is delivered."""

import pytest
from django.db import transaction

from shop.common.outbox import outbox_enqueue
from shop.workshop.models import WorkshopJob
from tests.conftest import wait_for
from tests.workshop.helpers import place_personalized_order


@pytest.mark.worker
def test_the_worker_creates_the_jobs_after_commit_once(celery_worker, demo_personalization):
    with transaction.atomic():
        order = place_personalized_order()
        outbox_enqueue(task="shop.workshop.tasks.create_workshop_jobs", args=[order.pk])
        assert not WorkshopJob.objects.exists()

    job = wait_for(lambda: WorkshopJob.objects.filter(order=order).first())
    assert job.line.order_id == order.pk and job.status == "open"

    # A second delivery (retry, redelivery after a lost worker) creates nothing new.
    with transaction.atomic():
        outbox_enqueue(task="shop.workshop.tasks.create_workshop_jobs", args=[order.pk])
    log = celery_worker.log_path
    wait_for(lambda: log.read_text().count("create_workshop_jobs") >= 4)  # 2 received, 2 done
    wait_for(lambda: log.read_text().count("succeeded") >= 2)
    assert WorkshopJob.objects.filter(order=order).count() == 1
    assert job.events.count() == 1
