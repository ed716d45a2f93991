from smtplib import SMTPException

from celery import shared_task
from django.db import InterfaceError, OperationalError

from shop.common.outbox import outbox_drain

# Errors that pass: the database or broker blinked, a socket timed out, the mail server said
# "try later". A task that meets one is run again; any other error is a bug and is recorded for
# staff (shop.common.signals) instead of retried.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    ConnectionError,
    TimeoutError,
    SMTPException,
)

# Retries back off exponentially (with jitter) to at most 5 minutes between tries, 8 tries in
# all: about 20 minutes, well under the broker's one-hour visibility timeout, so a retried task
# is never also redelivered.
RETRY_POLICY = {
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}


def durable_task(*, subject_kind: str = "", retry_on: tuple[type[BaseException], ...] = ()):
    """The house Celery task: acknowledged after it ran (a worker lost mid-task means the task is
    delivered again, so the task must be idempotent), retried on transient errors with backoff,
    and bound (``self`` first). ``subject_kind`` ("order", "takeback") names what the first
    argument's id is, for the failed-task screen and an order's timeline; ``retry_on`` adds the
    task's own transient errors (e.g. the payment provider being unreachable)."""

    def wrap(func):
        return shared_task(
            bind=True,
            acks_late=True,
            autoretry_for=TRANSIENT_ERRORS + tuple(retry_on),
            subject_kind=subject_kind,
            **RETRY_POLICY,
        )(func)

    return wrap


@shared_task(acks_late=True, ignore_result=True)
def drain_outbox() -> int:
    """Publish tasks whose immediate publish failed (beat, every minute)."""
    return outbox_drain()
