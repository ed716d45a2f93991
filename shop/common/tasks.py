from celery import shared_task

from shop.common.outbox import outbox_drain


@shared_task(acks_late=True, ignore_result=True)
def drain_outbox() -> int:
    """Publish tasks whose immediate publish failed (beat, every minute)."""
    return outbox_drain()
