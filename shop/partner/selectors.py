"""Reads about stock records: what a save changed, as the stock receivers need it."""

from shop.partner.models import StockRecord

AVAILABILITY_FIELDS = frozenset({"num_in_stock", "num_allocated", "price", "product_id"})


def _net_when_loaded(record: StockRecord) -> int:
    return (record.loaded_value("num_in_stock") or 0) - (record.loaded_value("num_allocated") or 0)


def stock_may_have_risen(record: StockRecord, *, created: bool) -> bool:
    """False only when it is known that what is available to buy did not grow: an order
    allocating stock, a shipment consuming it, an edit of other fields."""
    changed = None if created else record.changed_fields()
    if changed is None:
        return True
    if not changed & AVAILABILITY_FIELDS:
        return False
    if "price" in changed or "product_id" in changed:
        return True
    return record.net_stock_level > _net_when_loaded(record)


def below_threshold_when_loaded(record: StockRecord) -> bool | None:
    """Whether the record was under its low-stock threshold as loaded; None if unknown."""
    if record.changed_fields() is None:
        return None
    threshold = record.loaded_value("low_stock_threshold")
    return threshold is not None and _net_when_loaded(record) < threshold
