"""Take-back background work: ids in, an idempotent service call, retries with backoff
(well under the broker's visibility timeout); failures show up on the failed-task screen."""

from celery import shared_task

from shop.common.tasks import durable_task
from shop.takeback.models import TakeBack
from shop.takeback.services import (
    takeback_credit_issue,
    takeback_email_send,
    takeback_label_issue,
)
from shop.takeback.services import (
    takeback_sweep as sweep,
)


@durable_task(subject_kind="takeback")
def issue_label(self, takeback_id: int) -> str:
    """Issue the prepaid label (tracking number) and queue its email."""
    return takeback_label_issue(takeback=TakeBack.objects.get(pk=takeback_id)).status


@durable_task(subject_kind="takeback")
def send_email(self, takeback_id: int, kind: str) -> bool:
    """Send one take-back email (label with its PDF, reminder, offer, credit...), once."""
    return takeback_email_send(takeback=TakeBack.objects.get(pk=takeback_id), kind=kind)


@durable_task(subject_kind="takeback")
def issue_credit(self, takeback_id: int) -> str:
    """Issue an approved take-back's store credit, once, and queue its email."""
    return takeback_credit_issue(takeback=TakeBack.objects.get(pk=takeback_id)).status


@shared_task(bind=True, acks_late=True)
def takeback_sweep(self) -> dict:
    """Beat: reminders, expiry and offers left unanswered (time limits on the rules screen)."""
    return sweep()
