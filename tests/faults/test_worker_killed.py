"""A worker process killed with SIGKILL in the middle of a task: the task is delivered
again (acks_late + reject_on_worker_lost) and its effect happens exactly once."""

import os
import signal
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import transaction
from oscar.test.factories import create_order

from shop.common.models import TaskFailure
from shop.order.models import CommunicationEvent
from shop.order.services import EMAIL_PLACED, order_email_enqueue
from tests.conftest import sent_emails, wait_for
from tests.faults.invariants import assert_invariants


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _received(log: Path) -> int:
    return sum(
        "send_order_email[" in line and line.endswith(" received")
        for line in log.read_text().splitlines()
    )


def _succeeded(log: Path) -> int:
    return sum(
        "send_order_email[" in line and " succeeded in " in line
        for line in log.read_text().splitlines()
    )


@pytest.mark.worker
def test_sigkill_mid_task_runs_it_again_with_one_email(celery_worker, mail_dir):
    with transaction.atomic():
        order = create_order(guest_email="ada@example.com")
    db = settings.DATABASES["default"]
    # Hold the order's row lock, so the task blocks inside its transaction, mid-way.
    blocker = psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"])
    blocker.execute("SELECT id FROM order_order WHERE id = %s FOR UPDATE", [order.pk])
    try:
        with transaction.atomic():
            order_email_enqueue(order=order, code=EMAIL_PLACED)
        log = celery_worker.log_path
        wait_for(lambda: _received(log) == 1)
        # The pool child is now waiting for the lock: kill it like the OOM killer would.
        [child] = wait_for(lambda: _children(celery_worker.pid) or None)
        os.kill(child, signal.SIGKILL)
        wait_for(lambda: "WorkerLostError" in log.read_text() or "SIGKILL" in log.read_text())
        wait_for(lambda: _received(log) == 2, timeout=90)  # delivered again
    finally:
        blocker.rollback()
        blocker.close()

    # The email file is written inside the task's transaction: wait for the task itself to
    # finish (any other task's success in the log said nothing about this one's commit).
    wait_for(lambda: _succeeded(celery_worker.log_path) == 1)
    assert len(sent_emails(mail_dir)) == 1
    assert CommunicationEvent.objects.filter(order=order).count() == 1
    # Delivered again and done: not a failure for staff to chase.
    assert not TaskFailure.objects.exists()
    assert_invariants()
