"""The demo's history: made once, through the order code, with the −15 % programme in the
cost history and something on every KPI card; `bootstrap_store` never makes it."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from oscar.core.loading import get_model

from shop.reports import selectors
from shop.reports.demo_history import demo_history_seed
from shop.reports.models import CostPriceRecord, OfflineSale, OnlineShareTarget

pytestmark = pytest.mark.django_db

Order = get_model("order", "Order")
StockRecord = get_model("partner", "StockRecord")


def test_seeded_once_with_true_figures(demo_catalogue):
    call_command("load_personalization", verbosity=0)
    today = date(2026, 12, 2)
    stock = dict(StockRecord.objects.values_list("pk", "num_allocated"))
    made = demo_history_seed(today=today, customers=6)
    assert made["orders"] == Order.objects.count() > 6
    assert demo_history_seed(today=today, customers=6) == {"skipped": True}  # idempotent
    assert Order.objects.count() == made["orders"] and OfflineSale.objects.count() > 300
    assert dict(StockRecord.objects.values_list("pk", "num_allocated")) == stock
    # Placed by the order code: every line has its cost snapshot.
    assert not Order.objects.filter(lines__unit_cost_price__isnull=True).exists()
    fob = StockRecord.objects.get(partner_sku="EG-KEY-NAT")
    costs = list(
        CostPriceRecord.objects.filter(stockrecord=fob)
        .order_by("changed_at")
        .values_list("cost_price", flat=True)
    )
    first = costs[0]  # the catalogue's cost, then −8 % and −15 % of it (the programme)
    assert costs == [
        first,
        (first * D("0.92")).quantize(D("0.01")),
        (first * D("0.85")).quantize(D("0.01")),
    ]
    assert OnlineShareTarget.objects.get().share_percent == D("30.00")
    rows = selectors.production_cost_by_month(
        start=date(2025, 12, 1), end=today, baseline=date(2025, 12, 1)
    )
    evergreen = [r for r in rows if r["label"] == "Evergreen" and r["month"] == date(2026, 12, 1)]
    assert evergreen[0]["like_for_like_percent"] == D("-15.0")  # the programme, like for like


def test_bootstrap_store_stays_demo_free():
    from pathlib import Path

    import shop.storefront.management.commands.bootstrap_store as bootstrap
    import shop.storefront.management.commands.run_store as run_store

    assert "seed_demo_history" not in Path(bootstrap.__file__).read_text()
    assert 'call_command("seed_demo_history")' in Path(run_store.__file__).read_text()
