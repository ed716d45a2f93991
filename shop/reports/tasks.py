from celery import shared_task

from shop.reports.services import report_facts_refresh, sales_import_run


@shared_task(acks_late=True, max_retries=0)
def run_sales_import(sales_import_id: int) -> None:
    """Import a large uploaded CSV (idempotent: a finished import is not run again)."""
    sales_import_run(sales_import_id=sales_import_id)


@shared_task(acks_late=True)
def refresh_report_facts() -> None:
    """Rebuild the customer fact tables (beat, every few minutes; idempotent)."""
    report_facts_refresh()
