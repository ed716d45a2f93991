"""The reports' definitions, each held with small hand-made data computed by hand."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model

from shop.reports import selectors
from shop.reports.models import CostPriceRecord, OrderFact
from shop.reports.services import offline_sales_import, report_facts_refresh
from tests.reports.helpers import at, make_order
from tests.reports.test_views import MARCH, reporter  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

StockRecord = get_model("partner", "StockRecord")
Q1 = {"start": date(2026, 1, 1), "end": date(2026, 3, 31)}


@pytest.fixture
def cost_cut(demo_catalogue):
    """February sells 10 Evergreen key fobs (cost 10.00) and 1 Heritage tote (100.00); on
    10 March both costs are cut by 15 % (8.50, 85.00); March sells 1 fob and 5 totes."""
    fob = StockRecord.objects.get(partner_sku="EG-KEY-NAT")
    tote = StockRecord.objects.get(partner_sku="HE-TOT-BLK")
    CostPriceRecord.objects.filter(stockrecord__in=[fob, tote]).delete()
    for record, before, after in ((fob, "10.00", "8.50"), (tote, "100.00", "85.00")):
        CostPriceRecord.objects.create(
            stockrecord=record, cost_price=D(before), changed_at=at("2026-01-01", 0)
        )
        CostPriceRecord.objects.create(
            stockrecord=record, cost_price=D(after), changed_at=at("2026-03-10", 0)
        )
    csv = (
        "date,channel,reference,sku,quantity,net_amount\n"
        "2026-02-10,boutique,B-1,EG-KEY-NAT,10,200.00\n"
        "2026-02-11,boutique,B-2,HE-TOT-BLK,1,250.00\n"
        "2026-03-20,boutique,B-3,EG-KEY-NAT,1,20.00\n"
        "2026-03-21,wholesale,W-1,HE-TOT-BLK,5,1250.00\n"
    )
    assert offline_sales_import(content=csv.encode()).status == "done"


def test_production_cost_is_like_for_like_with_the_mix_apart(cost_cut):
    # January has no sale: the default baseline is February, the first month with one.
    baseline = selectors.production_cost_default_baseline(**Q1)
    assert baseline == date(2026, 2, 1)
    rows = selectors.production_cost_by_month(**Q1, baseline=baseline)
    found = {(r["dimension"], r["label"], r["month"]): r for r in rows}
    feb = found[("all", "All products", date(2026, 2, 1))]
    mar = found[("all", "All products", date(2026, 3, 1))]
    jan = found[("all", "All products", date(2026, 1, 1))]
    assert (feb["units"], feb["average_cost"]) == (11, D("18.18"))  # (100 + 100) ÷ 11
    assert (mar["units"], mar["average_cost"]) == (6, D("72.25"))  # (8.50 + 425) ÷ 6
    # The average per unit sold jumps with the mix: (72.25 − 18.18) ÷ 18.18 = +297.4 %...
    assert mar["average_change_percent"] == D("297.4")
    # ...while February's basket now costs (10 × 8.50 + 85) ÷ (10 × 10 + 100) − 1 = −15 %.
    assert mar["like_for_like_percent"] == D("-15.0")
    assert mar["mix_effect_points"] == D("312.4")
    assert (jan["units"], jan["average_cost"], jan["like_for_like_percent"]) == (0, None, D("0.0"))
    assert found[("line", "Evergreen", date(2026, 3, 1))]["like_for_like_percent"] == D("-15.0")
    headline = selectors.production_cost_headline(rows)
    assert headline["month"] == date(2026, 3, 1) and headline["reached"]
    assert (headline["like_for_like_percent"], headline["to_go_points"]) == (D("-15.0"), D("0"))


def test_production_cost_page_defaults_to_a_baseline_with_data(client, cost_cut, reporter):  # noqa: F811
    url = reverse("business-reports:production-cost")
    html = client.get(url, {"preset": "custom", "start": "2026-01-01", "end": "2026-03-31"})
    html = html.content.decode()
    assert "Baseline: <strong>February 2026</strong>" in html
    assert 'data-figure="like-for-like">−15.0 %<' in html
    assert "target −15 % against February 2026: reached" in html


def test_rfm_ties_score_alike(demo_catalogue, django_user_model):
    today = timezone.localdate()
    for n in range(4):
        user = django_user_model.objects.create_user(f"today{n}", f"today{n}@example.com", "x")
        make_order(
            f"T{n}", user=user, paid=today.isoformat(), lines=[("EG-KEY-NAT", 1, "20.83", "20.83")]
        )
    report_facts_refresh()
    rfm = selectors.rfm_segments(start=today.replace(day=1), end=today)
    # Four customers, one order each today, same amount: all R 5, F 1 (and M 5).
    assert [(c["r"], c["f"], c["customers"]) for c in rfm["grid"]] == [(5, 1, 4)]
    assert [(s["segment"], s["customers"]) for s in rfm["segments"]] == [("New or promising", 4)]
    for n, days in enumerate((10, 20, 30)):
        user = django_user_model.objects.create_user(f"past{n}", f"past{n}@example.com", "x")
        paid = (today - timedelta(days=days)).isoformat()
        make_order(f"P{n}", user=user, paid=paid, lines=[("EG-KEY-NAT", 1, "20.83", "20.83")])
    report_facts_refresh()
    rfm = selectors.rfm_segments(start=today.replace(day=1), end=today)
    # Seven customers by days since, most first: 30 → ⌈5 × 1/7⌉ = 1, 20 → ⌈5 × 2/7⌉ = 2,
    # 10 → ⌈5 × 3/7⌉ = 3, the four of today → ⌈5 × 7/7⌉ = 5.
    assert [(c["r"], c["customers"]) for c in rfm["grid"]] == [(5, 4), (3, 1), (2, 1), (1, 1)]


def test_refund_before_dispatch_costs_no_goods_nor_parcel(dataset):
    unsent = OrderFact.objects.get(number="B2")  # refunded in full, never shipped
    assert (unsent.cogs, unsent.shipping_cost, unsent.fees) == (D("0"), D("0"), D("0.58"))
    assert unsent.margin == D("-0.58")  # 20.83 + 3.75 − 0.58 − 24.58
    sent = OrderFact.objects.get(number="A2")  # part refund after dispatch: costs stay
    assert (sent.cogs, sent.shipping_cost, sent.margin) == (D("83.30"), D("7.20"), D("76.06"))


def test_zeros_show_as_zero_and_dash_only_without_data(client, demo_catalogue, reporter):  # noqa: F811
    csv = "date,channel,reference,sku,quantity,net_amount\n"
    csv += "2026-03-15,boutique,B-9,EG-KEY-NAT,1,20.00\n"
    assert offline_sales_import(content=csv.encode()).status == "done"
    html = client.get(reverse("business-reports:online-share"), MARCH).content.decode()
    assert 'data-figure="online-revenue-share">0.0 %<' in html  # a real 0 %, not "— %"
    assert 'data-figure="online-units-share">0.0 %<' in html
    # An order dispatched the moment it was paid: 0 days, shown as 0.00 like the CSV.
    make_order(
        "Z",
        email="z@example.com",
        paid="2026-03-05",
        lines=[("EG-KEY-NAT", 1, "20.83", "20.83")],
        shipped=at("2026-03-05"),
    )
    html = client.get(reverse("business-reports:lead-time"), MARCH).content.decode()
    median_and_p90 = '<td class="text-right">0.00</td><td class="text-right">0.00</td>'
    assert median_and_p90 in html
