"""Every figure of the reports against the hand-computed dataset in helpers.build_dataset."""

from datetime import date
from decimal import Decimal as D

import pytest

from shop.reports import selectors
from tests.reports.helpers import at

pytestmark = pytest.mark.django_db

MARCH = {"start": date(2026, 3, 1), "end": date(2026, 3, 31)}


def test_online_share_by_month(dataset):
    report = selectors.online_share_report(**MARCH, bucket="month")
    by_code = {c["code"]: c for c in report.channels}
    # Online: A1 150.00 + A2 204.17 + B1 20.83 + B2 20.83 (refunded orders were sales too).
    assert (by_code["online"]["revenue"], by_code["online"]["units"]) == (D("395.83"), 5)
    assert (by_code["boutique"]["revenue"], by_code["boutique"]["units"]) == (D("50.00"), 1)
    assert (by_code["wholesale"]["revenue"], by_code["wholesale"]["units"]) == (D("475.00"), 10)
    assert (by_code["event"]["revenue"], by_code["event"]["units"]) == (D("112.50"), 3)
    assert by_code["marketplace"]["revenue"] == 0
    assert report.total_revenue == D("1033.33") and report.total_units == 19
    assert report.online_revenue_share == D("38.3")  # 395.83 / 1033.33
    assert report.online_units_share == D("26.3")  # 5 / 19
    assert report.target_share == D("30.00")
    assert report.gap_to_target == D("-8.3")  # target reached: 8.3 points above
    # Evergreen: A1 150.00, B2 20.83, strap 50.00, card sleeves 112.50.
    assert report.sustainable_revenue == D("333.33") and report.sustainable_units == 7
    assert report.other_revenue == D("700.00") and report.other_units == 12
    assert report.projection == D("310.00")
    assert report.vs_projection == D("7.5")  # (333.33 − 310) / 310
    assert len(report.rows) == 1
    row = report.rows[0]
    assert row["bucket"] == date(2026, 3, 1)
    assert row["by_channel"]["online"] == {"revenue": D("395.83"), "units": 5}
    assert (row["online_revenue_share"], row["online_units_share"]) == (D("38.3"), D("26.3"))


def test_online_share_by_day_and_week(dataset):
    days = selectors.online_share_report(
        start=date(2026, 3, 5), end=date(2026, 3, 11), bucket="day"
    )
    assert [r["bucket"].day for r in days.rows] == [5, 6, 7, 8, 9, 10, 11]
    assert [r["online_revenue"] for r in days.rows] == [
        D("150.00"), 0, 0, 0, 0, D("20.83"), 0
    ]  # fmt: skip
    assert days.rows[0]["online_revenue_share"] == D("100.0")
    # 310.00 over March's 31 days = 10.00 a day.
    assert days.projection == D("70.00")
    weeks = selectors.online_share_report(**MARCH, bucket="week")
    assert weeks.rows[0]["bucket"] == date(2026, 2, 23)  # Monday of the week of 1 March
    assert sum(r["revenue"] for r in weeks.rows) == D("1033.33")


def test_customer_profitability(dataset):
    page = selectors.customer_profitability(**MARCH)
    rows = {r["email"]: r for r in page.rows}
    assert [r["email"] for r in page.rows] == [
        "alice@example.com",
        "carol@example.com",
        "bob@example.com",
    ]
    alice = rows["alice@example.com"]
    assert alice["customer_key"] == f"u:{dataset.pk}"
    expected = {
        "orders": 2,
        "units": 3,
        "gross_revenue": D("362.51"),
        "discounts": D("8.34"),
        "net_revenue": D("354.17"),
        "cogs": D("161.20"),
        "pers_revenue": D("25.00"),  # 2 × 15.00 ÷ 1.20
        "pers_cost": D("10.00"),
        "shipping_charged": D("7.92"),
        "shipping_cost": D("11.15"),
        "fees": D("7.48"),
        "refunds": D("41.67"),
        "margin": D("130.59"),  # 54.53 + 76.06
        "margin_percent": D("40.8"),  # 130.59 / (354.17 + 7.92 − 41.67)
        "average_order_value": D("181.05"),  # (354.17 + 7.92) / 2
        "lifetime_margin": D("130.59"),  # A3 is after the range's end
        "profit_rank": 1,
        "credits_issued": None,
        "credits_redeemed": None,
    }
    assert {k: alice[k] for k in expected} == expected
    assert alice["first_order"].date() == date(2026, 3, 5)
    bob = rows["bob@example.com"]
    assert bob["customer_key"] == "e:bob@example.com"  # guest orders, any case, one customer
    assert (bob["orders"], bob["net_revenue"], bob["refunds"]) == (2, D("41.66"), D("24.58"))
    # B2 was refunded before dispatch: no cost of goods, no parcel (12.30 + 20.83 + 3.75
    # − 0.58 − 24.58 = 11.72)
    assert (bob["cogs"], bob["shipping_cost"]) == (D("7.75"), D("3.95"))
    assert (bob["fees"], bob["margin"]) == (D("1.16"), D("11.72"))
    carol = rows["carol@example.com"]
    assert (carol["orders"], carol["offline_units"], carol["offline_revenue"]) == (
        0,
        1,
        D("50.00"),
    )
    assert carol["cogs"] == D("24.00")  # cost in effect on 15 March, from the history
    assert carol["margin"] == D("26.00")
    assert carol["lifetime_margin"] == D("52.47")  # C1 26.47 in February + 26.00
    assert carol["first_order"].date() == date(2026, 2, 15)
    assert page.totals["customers"] == 3
    assert page.totals["margin"] == D("168.31")
    assert page.count == 3


def test_customer_table_sorts_and_searches(dataset):
    page = selectors.customer_profitability(**MARCH, sort="refunds", descending=False)
    assert [r["email"] for r in page.rows] == [
        "carol@example.com",
        "bob@example.com",
        "alice@example.com",
    ]
    page = selectors.customer_profitability(**MARCH, search="BOB")
    assert [r["email"] for r in page.rows] == ["bob@example.com"]
    page = selectors.customer_profitability(**MARCH, sort="email; DROP TABLE x")
    assert page.rows[0]["email"] == "alice@example.com"  # unknown sort falls back to margin
    assert len(list(selectors.customer_profitability_rows(**MARCH))) == 3


def test_whale_curve(dataset):
    curve = selectors.whale_curve(**MARCH)
    assert curve.customers == 3 and curve.total_margin == D("168.31")
    assert curve.points == [
        {"x": D("33.33"), "y": D("77.59")},  # alice 130.59 / 168.31
        {"x": D("66.67"), "y": D("93.04")},  # + carol 26.00
        {"x": D("100.00"), "y": D("100.00")},  # + bob 11.72
    ]
    assert (curve.peak_customers, curve.peak_share) == (3, D("100.0"))
    assert (curve.loss_customers, curve.loss_total) == (0, D("0"))
    assert curve.top_20_share == D("77.6")


def test_customer_page_brings_the_whale_curve_of_every_customer(dataset):
    # The page, its totals and the curve come from one statement: the curve and the totals
    # cover every customer of the range whatever the search or the page shows.
    curve = selectors.whale_curve(**MARCH)
    assert selectors.customer_profitability(**MARCH).curve == curve
    nobody = selectors.customer_profitability(**MARCH, search="nobody-at-all")
    assert (nobody.rows, nobody.count, nobody.pages) == ([], 0, 1)
    assert (nobody.totals["customers"], nobody.totals["margin"]) == (3, D("168.31"))
    assert nobody.curve == curve
    past = selectors.customer_profitability(**MARCH, page=9)
    assert (past.rows, past.count, past.totals["customers"], past.curve) == ([], 0, 3, curve)
    thin = selectors.customer_profitability(**MARCH, max_points=1).curve
    assert thin == selectors.whale_curve(**MARCH, max_points=1)
    assert thin.points == [
        {"x": D("33.33"), "y": D("77.59")},
        {"x": D("100.00"), "y": D("100.00")},
    ]  # the first and the last customer, and every 3 ÷ 1 = 3rd


def test_customer_page_of_a_range_without_sales(dataset):
    empty = {"start": date(2025, 1, 1), "end": date(2025, 1, 31)}
    page = selectors.customer_profitability(**empty)
    assert (page.rows, page.count, page.pages) == ([], 0, 1)
    assert (page.totals["customers"], page.totals["orders"], page.totals["margin"]) == (0, 0, None)
    assert page.curve == selectors.whale_curve(**empty)
    assert page.curve == selectors.WhaleCurve(
        points=[],
        customers=0,
        total_margin=D("0.00"),
        peak_customers=0,
        peak_share=None,
        loss_customers=0,
        loss_total=D("0"),
        top_20_share=None,
    )


def test_customer_detail(dataset):
    detail = selectors.customer_detail(customer_key="e:carol@example.com", **MARCH)
    assert detail.figures["margin"] == D("26.00")
    assert [o["number"] for o in detail.orders] == ["C1"]
    assert [s["net_amount"] for s in detail.offline_sales] == [D("50.00")]
    detail = selectors.customer_detail(customer_key=f"u:{dataset.pk}", **MARCH)
    assert [o["number"] for o in detail.orders] == ["A3", "A2", "A1"]
    assert [o["margin"] for o in detail.orders] == [D("11.05"), D("76.06"), D("54.53")]
    assert selectors.customer_detail(customer_key="e:nobody@x.com", **MARCH).figures is None


def test_lead_time(dataset):
    rows = {r["kind"]: r for r in selectors.lead_time_by_month(**MARCH)}
    assert set(rows) == {"all", "personalized", "not personalized"}
    pers, plain, every = rows["personalized"], rows["not personalized"], rows["all"]
    # A1 4.0 days, on time; A2 1.0 day, on time; B1 3.0 days, late; B2 refunded, never sent.
    assert (pers["orders"], pers["median_days"], pers["p90_days"]) == (1, D("4.00"), D("4.00"))
    assert (pers["on_time"], pers["due"], pers["on_time_share"]) == (1, 1, D("100.0"))
    assert (plain["orders"], plain["shipped"]) == (2, 2)  # B2, refunded unsent, left out
    assert (plain["median_days"], plain["p90_days"]) == (D("2.00"), D("2.80"))
    assert (plain["on_time"], plain["due"], plain["on_time_share"]) == (1, 2, D("50.0"))
    assert (every["median_days"], every["p90_days"]) == (D("3.00"), D("3.80"))
    assert every["on_time_share"] == D("66.7")


def test_production_cost(dataset):
    rows = selectors.production_cost_by_month(**MARCH, baseline=date(2026, 2, 1))
    found = {(r["dimension"], r["label"], r["month"]): r for r in rows}
    feb, mar = date(2026, 2, 1), date(2026, 3, 1)
    assert found[("all", "All products", feb)]["average_cost"] == D("30.75")
    every = found[("all", "All products", mar)]
    # 77.90 + 83.30 + 7.75 + 9.00 + 24.00 + 313.50 + 54.00 = 569.45 over 19 units
    assert (every["units"], every["average_cost"]) == (19, D("29.97"))
    assert every["average_change_percent"] == D("-2.5")  # (29.97 − 30.75) ÷ 30.75
    # February's basket (one notebook cover) costs what it cost: the fall is all mix.
    assert (every["like_for_like_percent"], every["mix_effect_points"]) == (D("0.0"), D("-2.5"))
    evergreen = found[("line", "Evergreen", mar)]
    assert (evergreen["units"], evergreen["average_cost"]) == (7, D("23.56"))
    assert evergreen["average_change_percent"] == D("-23.4")
    other = found[("line", "Other lines", mar)]
    # 83.30 + 7.75 + 313.50 over 12 units; nothing of the rest sold in February
    assert (other["average_cost"], other["average_change_percent"]) == (D("33.71"), None)
    bags = found[("category", "Bags", mar)]
    assert (bags["units"], bags["average_cost"]) == (1, D("83.30"))


def test_rfm_and_cohorts(dataset):
    rfm = selectors.rfm_segments(**MARCH)
    segments = {s["segment"]: s["customers"] for s in rfm["segments"]}
    # Recency at 31 March: alice 11 days, bob 19, carol 44: ⌈5 × cumulative share⌉ over
    # days descending (carol 1/3, bob 2/3, alice 3/3) → R 5, 4, 2; F 2, 2, 1.
    assert segments == {"New or promising": 2, "Lost": 1}
    assert sum(c["customers"] for c in rfm["grid"]) == 3
    rows = selectors.cohorts(start=date(2026, 2, 1), end=date(2026, 4, 30), months=3)
    feb, mar = rows
    assert (feb["cohort"], feb["customers"], feb["margin"]) == (date(2026, 2, 1), 1, D("26.47"))
    assert feb["retention"] == [D("0.0"), D("0.0"), None]
    assert (mar["customers"], mar["margin"]) == (2, D("153.36"))  # 130.59 + 11.72 + 11.05
    assert mar["retention"] == [D("50.0"), None, None]  # alice came back in April
    assert mar["margin_per_customer"] == D("76.68")  # 153.36 / 2


def test_customer_segments_name_each_account_as_the_segments_page_does(dataset):
    # alice is the only account (bob and carol bought as guests): "New or promising" on
    # 31 March, as test_rfm_and_cohorts counts her; asking for other users gives nothing.
    assert selectors.customer_segments(on=date(2026, 3, 31)) == {dataset.pk: "New or promising"}
    assert selectors.customer_segments(user_ids=[dataset.pk + 1000], on=date(2026, 3, 31)) == {}
    assert selectors.customer_segments(user_ids=[], on=date(2026, 3, 31)) == {}
    assert set(selectors.RFM_SEGMENT_NAMES) >= {"New or promising", "Lost", "Champions"}


def test_store_credit_from_the_ledger_is_a_cost(dataset):
    from django.apps import apps

    if not apps.is_installed("shop.credit"):
        assert selectors.takeback_credits_by_customer(**MARCH) == {}
        return
    from shop.credit.models import CreditAccount, CreditEntry

    account = CreditAccount.objects.create(user=dataset, balance=D("10.00"))
    issued = CreditEntry.objects.create(account=account, kind="issued", amount=D("20.00"))
    spent = CreditEntry.objects.create(
        account=account, kind="spent", amount=D("-10.00"), order_number="A2"
    )
    april = CreditEntry.objects.create(account=account, kind="issued", amount=D("5.00"))
    CreditEntry.objects.filter(pk__in=[issued.pk, spent.pk]).update(created_at=at("2026-03-10"))
    CreditEntry.objects.filter(pk=april.pk).update(created_at=at("2026-04-10"))
    key = f"u:{dataset.pk}"
    assert selectors.takeback_credits_by_customer(**MARCH) == {
        key: {"issued": D("20.00"), "redeemed": D("10.00")}
    }
    alice = selectors.customer_profitability(**MARCH).rows[0]
    assert (alice["credits_issued"], alice["credits_redeemed"]) == (D("20.00"), D("10.00"))
    assert alice["margin"] == D("110.59")  # 130.59 − 20.00 issued; redeemed credit paid A2
    bob = selectors.customer_profitability(**MARCH, search="bob").rows[0]
    assert bob["credits_issued"] is None
