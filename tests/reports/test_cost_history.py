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
