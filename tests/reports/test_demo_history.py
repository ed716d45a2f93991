"""The demo's history: made once, through the order code, with the −15 % programme in the
cost history and something on every KPI card; `bootstrap_store` never makes it."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from oscar.core.loading import get_model

from shop.common.models import OutboxMessage
from shop.credit.models import CreditEntry
from shop.reports import selectors
from shop.reports.demo_history import demo_history_seed, demo_takebacks_add
from shop.reports.models import CostPriceRecord, OfflineSale, OnlineShareTarget
from shop.takeback import selectors as takeback_selectors
from shop.takeback.models import PreLovedPiece, TakeBack, TakeBackEvent

pytestmark = pytest.mark.django_db

Order = get_model("order", "Order")
StockRecord = get_model("partner", "StockRecord")
Product = get_model("catalogue", "Product")


def test_seeded_once_with_true_figures(demo_catalogue, django_capture_on_commit_callbacks):
    call_command("load_personalization", verbosity=0)
    today = date(2026, 12, 2)
    stock = dict(StockRecord.objects.values_list("pk", "num_allocated"))
    with django_capture_on_commit_callbacks() as callbacks:
        made = demo_history_seed(today=today, customers=6)
    # The take-backs' past emails and label/credit tasks are neither recorded nor published.
    batches = [batch for batch in callbacks if isinstance(batch, list)]  # the outbox's
    assert not [m for b in batches for m in b if m.subject.startswith("takeback:")]
    resales = made["preloved_sold"]  # the pre-loved pieces bought by other demo customers
    assert made["orders"] + resales == Order.objects.count() > 6
    counts = _counts()
    assert demo_history_seed(today=today, customers=6) == {"skipped": True}  # idempotent
    assert demo_takebacks_add(today=today) == {"skipped": True}  # the take-back year too
    assert _counts() == counts
    assert OfflineSale.objects.count() > 300
    assert {
        pk: allocated
        for pk, allocated in StockRecord.objects.values_list("pk", "num_allocated")
        if pk in stock
    } == stock
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

    # The take-back year, through the scheme's services, in the past: the report's
    # pre-loved figures are not zero on first open and a piece is still on sale.
    year = {"start": date(2025, 12, 2), "end": today}
    report = takeback_selectors.preloved_report(**year)
    assert report["listed"] == made["preloved_listed"] > report["sold"] == resales > 0
    assert report["revenue"] > 0 and report["days_to_sell"] > 0 and report["on_sale"] > 0
    assert takeback_selectors.takeback_credit_totals(**year)["issued"] > 0
    assert sum(r["net_cost"] for r in takeback_selectors.scheme_net_cost_by_month(**year))
    assert set(TakeBack.objects.values_list("grade", flat=True)) == {"A", "B", "C", "D"}
    assert not TakeBack.objects.filter(created_at__date__gte=date.today()).exists()
    assert not TakeBackEvent.objects.filter(created_at__date__gte=date.today()).exists()
    assert not OutboxMessage.objects.filter(subject__startswith="takeback:").exists()
    sold = PreLovedPiece.objects.filter(sold_line__isnull=False).select_related("sold_line")
    assert all(p.sold_line.order.user_id != p.takeback.customer_id for p in sold)
    assert not Product.objects.filter(preloved_piece__in=sold, is_public=True).exists()


def _counts():
    return [
        model.objects.count()
        for model in (Order, TakeBack, TakeBackEvent, PreLovedPiece, CreditEntry, OutboxMessage)
    ]


def test_bootstrap_store_stays_demo_free():
    from pathlib import Path

    import shop.storefront.management.commands.bootstrap_store as bootstrap
    import shop.storefront.management.commands.run_store as run_store

    assert "seed_demo_history" not in Path(bootstrap.__file__).read_text()
    assert 'call_command("seed_demo_history")' in Path(run_store.__file__).read_text()
