"""Growth's background work: the beat task that moves buffered funnel events into PostgreSQL."""

from dataclasses import asdict

from celery import shared_task

from shop.growth.services import events_drain


# No retries: a run that fails leaves the rest of the list for the next run (every
# GROWTH_DRAIN_SECONDS); a chunk it had popped is lost, which analytics can afford.
@shared_task(bind=True, acks_late=True, ignore_result=True)
def drain_events(self) -> dict:
    """Beat: store the funnel events the web processes pushed to Redis."""
    return asdict(events_drain())
