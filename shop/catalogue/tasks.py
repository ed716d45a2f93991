from celery import shared_task

from shop.catalogue.services import search_refresh


@shared_task(acks_late=True, ignore_result=True)
def refresh_search_documents() -> int:
    """Rebuild the search documents marked dirty (after a catalogue change, and from beat every
    minute to catch up after a broker outage; idempotent: nothing dirty, nothing done)."""
    return search_refresh()
