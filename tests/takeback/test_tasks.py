"""The take-back tasks: ids in, idempotent services, retried on transient errors, and a
task that fails for good shows up on the failed-task screen under its take-back."""

import pytest
from django.core import mail

from shop.common.models import TaskFailure
from shop.common.tasks import TRANSIENT_ERRORS
from shop.credit.selectors import credit_balance
from shop.takeback.models import TakeBack
from shop.takeback.services import takeback_approve
from shop.takeback.tasks import issue_credit, issue_label, send_email, takeback_sweep
from tests.takeback.helpers import D, customer, delivered_order, graded, register_line, staff_member

pytestmark = pytest.mark.django_db


def test_task_options():
    for task in (issue_label, send_email, issue_credit):
        assert task.subject_kind == "takeback"
        assert task.acks_late and task.max_retries == 8 and task.retry_jitter
        assert task.autoretry_for == TRANSIENT_ERRORS and task.retry_backoff_max == 300
    assert takeback_sweep.name == "shop.takeback.tasks.takeback_sweep"


def test_tasks_are_idempotent(catalogue):
    jo, staff = customer(), staff_member()
    takeback = register_line(jo, delivered_order(user=jo))
    assert issue_label.apply(args=[takeback.pk]).get() == "label_issued"
    assert issue_label.apply(args=[takeback.pk]).get() == "label_issued"
    assert send_email.apply(args=[takeback.pk, "label"]).get() is True
    assert send_email.apply(args=[takeback.pk, "label"]).get() is False
    assert len(mail.outbox) == 1

    approved = takeback_approve(takeback=graded(jo, staff=staff), staff=staff)
    assert issue_credit.apply(args=[approved.pk]).get() == "credit_issued"
    assert issue_credit.apply(args=[approved.pk]).get() == "credit_issued"
    assert credit_balance(user=jo) == D("30.00")


def test_a_task_failing_for_good_is_recorded_under_its_takeback(catalogue):
    jo = customer()
    takeback = register_line(jo, delivered_order(user=jo))  # not approved: cannot be credited
    result = issue_credit.apply(args=[takeback.pk], throw=False)
    assert result.failed()
    failure = TaskFailure.objects.get()
    assert failure.subject == f"takeback:{takeback.pk}" and "cannot be credited" in failure.error
    assert TakeBack.objects.get(pk=takeback.pk).status == "registered"
