"""Lifecycle email tasks: the beat sweep (queue each campaign's emails) and the send of one
email (ids in, an idempotent service call, retries with backoff under the broker's
visibility timeout)."""

from celery import shared_task

from shop.common.tasks import durable_task
from shop.lifecycle.services import lifecycle_send_deliver
from shop.lifecycle.services import lifecycle_sweep as sweep


@shared_task(bind=True, acks_late=True)
def lifecycle_sweep(self, kind: str | None = None) -> dict:
    """Beat: queue the emails of every running campaign, or of one (`kind`, e.g.
    "abandoned_basket"). Safe to run at any time and any number of times."""
    return sweep(kind=kind)


@durable_task(subject_kind="lifecycle-send")
def send_lifecycle_email(self, send_id: int) -> str:
    """Send one queued lifecycle email, or skip it (consent, pause and relevance are checked
    at send time); once, however often the task is delivered."""
    return lifecycle_send_deliver(send_id=send_id)
