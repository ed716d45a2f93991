"""Celery signal receivers: a task that fails for good is written down for staff."""

import logging

from celery.signals import task_failure

logger = logging.getLogger(__name__)


@task_failure.connect
def record_task_failure(
    sender=None, task_id=None, exception=None, args=None, kwargs=None, einfo=None, **_
):
    from shop.common.services import task_failure_record

    try:
        task_failure_record(
            task=sender,
            task_id=task_id,
            args=args,
            kwargs=kwargs,
            error=exception,
            traceback=str(einfo or ""),
        )
    except Exception:  # a broken database must not hide the original failure
        logger.exception("Could not record the failure of task %s", task_id)
