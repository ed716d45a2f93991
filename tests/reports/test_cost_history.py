from decimal import Decimal as D

import pytest
from oscar.core.loading import get_model

from shop.reports.models import CostPriceRecord

pytestmark = pytest.mark.django_db

StockRecord = get_model("partner", "StockRecord")


def test_catalogue_load_records_a_first_cost(demo_catalogue):
    record = StockRecord.objects.get(partner_sku="EG-BIF-CHE")
    history = list(CostPriceRecord.objects.filter(stockrecord=record))
    assert [(h.cost_price, h.source) for h in history] == [(D("38.95"), "created")]


def test_every_change_is_kept_with_its_date(demo_catalogue):
    record = StockRecord.objects.get(partner_sku="EG-BIF-CHE")
    record.cost_price = D("36.50")
    record.save()
    record.num_in_stock = 3  # not a cost change
    record.save()
    record.cost_price = D("35")
    record.save()
    history = CostPriceRecord.objects.filter(stockrecord=record).order_by("changed_at", "pk")
    assert [h.cost_price for h in history] == [D("38.95"), D("36.50"), D("35.00")]
    assert all(h.changed_at for h in history)


def test_saves_of_other_fields_cost_no_query(demo_catalogue):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    record = StockRecord.objects.get(partner_sku="EG-BIF-CHE")
    record.num_allocated = 1
    with CaptureQueriesContext(connection) as queries:
        record.save(update_fields=["num_allocated"])
    assert not [q for q in queries.captured_queries if "reports_costpricerecord" in q["sql"]]
    record.cost_price = D("30.00")
    with CaptureQueriesContext(connection) as queries:
        record.save(update_fields=["cost_price"])
    assert [q for q in queries.captured_queries if "reports_costpricerecord" in q["sql"]]
