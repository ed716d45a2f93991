"""The personalization economics report, every figure computed by hand."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse
from oscar.core.loading import get_model

from shop.personalization.models import PersonalizationOffer
from shop.reports import selectors
from shop.reports.services import report_facts_refresh
from tests.reports.helpers import at, make_order
from tests.reports.test_views import reporter  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

StockRecord = get_model("partner", "StockRecord")
ProductClass = get_model("catalogue", "ProductClass")
ProductRecord = get_model("analytics", "ProductRecord")
MARCH = {"start": date(2026, 3, 1), "end": date(2026, 3, 31)}


def _base(sku):
    product = StockRecord.objects.get(partner_sku=sku).product
    return product.parent or product


@pytest.fixture
def personalised_sales(demo_catalogue, django_user_model):
    """Offers: monogram and gift message on the (one) product class, hardware on the tote.
    O1 alice (new) 2 × bifold, gold foil monogram 15.00 incl. VAT, cost 5.00, +3 days;
    O2 alice (returning) key fob, deboss 10.00 / 3.30, +3 days, and a gift message 0 / 0.30;
    O3 bob (new) key fob, plain; O4 bob (returning) tote with brass hardware 12.00 / 4.00,
    +2 days, and a plain notebook cover. Five lines sold in March."""
    PersonalizationOffer.objects.all().delete()
    leather = ProductClass.objects.get()
    for kind, cost in (("monogram", "0"), ("gift_message", "0.30")):
        PersonalizationOffer.objects.create(
            product_class=leather, kind=kind, surcharge=D("0"), cost=D(cost)
        )
    PersonalizationOffer.objects.create(
        product=_base("HE-TOT-BLK"), kind="hardware", surcharge=D("12"), cost=D("4")
    )
    alice = django_user_model.objects.create_user("alice", "alice@example.com", "x")
    fob = ("EG-KEY-NAT", 1, "20.83", "20.83")
    make_order(
        "O1", user=alice, paid="2026-03-02", lines=[("EG-BIF-CHE", 2, "150.00", "150.00")],
        choices=(("monogram", {"initials": "AB", "style": "foil"}, "15.00", "5.00", 3),),
        shipped=at("2026-03-04"), promised="2026-03-06",
    )  # fmt: skip
    make_order(
        "O2", user=alice, paid="2026-03-10", lines=[("HE-KEY-HAV", 1, "20.83", "20.83")],
        choices=(
            ("monogram", {"initials": "A", "style": "deboss"}, "10.00", "3.30", 3),
            ("gift_message", {"message": "Happy birthday"}, "0.00", "0.30", 0),
        ),
        shipped=at("2026-03-16"), promised="2026-03-13",
    )  # fmt: skip
    make_order(
        "O3", email="bob@example.com", paid="2026-03-05", lines=[fob],
        shipped=at("2026-03-06"), promised="2026-03-06",
    )  # fmt: skip
    make_order(
        "O4", email="bob@example.com", paid="2026-03-12",
        lines=[("HE-TOT-BLK", 1, "204.17", "204.17"), ("EG-NBC-NAT", 1, "62.50", "62.50")],
        choices=(("hardware", {"finish": "brass"}, "12.00", "4.00", 2),),
        shipped=at("2026-03-13"), promised="2026-03-17",
    )  # fmt: skip
    report_facts_refresh()
    bifold = StockRecord.objects.get(partner_sku="EG-BIF-CHE").product
    tote = StockRecord.objects.get(partner_sku="HE-TOT-BLK").product
    ProductRecord.objects.create(product=bifold, num_views=100, num_purchases=5)
    ProductRecord.objects.create(product=tote, num_views=50, num_purchases=1)


def test_uptake_money_lead_days_margin_and_flags(personalised_sales, monkeypatch):
    report = selectors.personalization_economics(**MARCH)
    rows = {(r["option"], r["value"]): r for r in report.rows}
    assert set(rows) == {
        ("monogram_style", "foil"),
        ("monogram_style", "deboss"),
        ("hardware_finish", "brass"),
        ("gift_message", "with message"),
    }
    figures = ["lines", "units", "eligible_lines", "uptake_percent", "surcharge_revenue"]
    figures += ["workshop_cost", "lead_days", "margin_per_unit"]

    def got(key):
        return tuple(rows[key][f] for f in figures)

    # 1 of 5 lines that offer a monogram; 2 × 15.00 ÷ 1.20 = 25.00; 2 × 5.00; (25 − 10) ÷ 2
    assert got(("monogram_style", "foil")) == (
        1, 2, 5, D("20.0"), D("25.00"), D("10.00"), D("3.0"), D("7.50"),
    )  # fmt: skip
    # 10.00 ÷ 1.20 = 8.33; 8.33 − 3.30 = 5.03
    assert got(("monogram_style", "deboss")) == (
        1, 1, 5, D("20.0"), D("8.33"), D("3.30"), D("3.0"), D("5.03"),
    )  # fmt: skip
    # only the tote offers hardware: 1 of 1 line; 12 ÷ 1.2 = 10.00; 10 − 4 = 6.00
    assert got(("hardware_finish", "brass")) == (
        1, 1, 1, D("100.0"), D("10.00"), D("4.00"), D("2.0"), D("6.00"),
    )  # fmt: skip
    gift = rows[("gift_message", "with message")]
    assert (gift["surcharge_revenue"], gift["margin_per_unit"]) == (D("0.00"), D("-0.30"))
    assert gift["flags"] == ["negative margin"]
    assert rows[("monogram_style", "foil")]["value_label"] == "Foil"  # no value rows: the code
    monkeypatch.setattr(selectors, "NEGLIGIBLE_UPTAKE_PERCENT", D("25"))
    report = selectors.personalization_economics(**MARCH)
    flagged = {(r["option"], r["value"]): r["flags"] for r in report.rows}
    assert flagged[("monogram_style", "foil")] == ["negligible uptake"]
    assert flagged[("hardware_finish", "brass")] == []


def test_segments_class_conversion_and_on_time(personalised_sales):
    report = selectors.personalization_economics(**MARCH)
    by_customer = {
        (r["option"], r["value"], r["grp"]): (r["lines"], r["eligible_lines"], r["uptake_percent"])
        for r in report.by_segment
        if r["kind"] == "customer"
    }
    # Monogram-eligible lines: new O1, O3 (2); returning O2, O4 × 2 (3).
    assert by_customer[("monogram_style", "foil", "New")] == (1, 2, D("50.0"))
    assert by_customer[("monogram_style", "deboss", "Returning")] == (1, 3, D("33.3"))
    assert ("monogram_style", "foil", "Returning") not in by_customer
    classes = {(r["option"], r["value"]): r["uptake_percent"] for r in report.by_class}
    assert classes[("monogram_style", "foil")] == D("20.0")
    conversion = {(c["option"], c["offered"]): c["conversion_percent"] for c in report.conversion}
    assert conversion[("hardware", True)] == D("2.0")  # tote: 1 purchase in 50 views
    assert conversion[("hardware", False)] == D("5.0")  # bifold: 5 in 100
    assert conversion[("monogram", True)] == D("4.0")  # both: 6 in 150
    on_time = {t["kind"]: (t["on_time"], t["due"], t["on_time_share"]) for t in report.on_time}
    assert on_time == {"personalized": (2, 3, D("66.7")), "not personalized": (1, 1, D("100.0"))}


def test_page_and_csv(client, personalised_sales, reporter):  # noqa: F811
    url = reverse("business-reports:personalization")
    query = {"preset": "custom", "start": "2026-03-01", "end": "2026-03-31"}
    html = client.get(url, query).content.decode()
    assert 'data-chart="personalization"' in html and 'data-flag="negative margin"' in html
    response = client.get(url, {**query, "export": "csv"})
    text = b"".join(response.streaming_content).decode()
    assert "Gift message,with message,With message,1,1,5,20.0,0.00,0.30,0.0,-0.30" in text


def test_the_report_reads_the_facts_as_of_their_last_refresh(personalised_sales):
    """The figures come from the fact tables: an order placed or shipped since the last
    refresh counts from the next one (beat, every few minutes; the page says when)."""
    carol = "carol@example.com"
    make_order(
        "O5", email=carol, paid="2026-03-20", lines=[("EG-BIF-CHE", 1, "75.00", "75.00")],
        choices=(("monogram", {"initials": "C", "style": "foil"}, "15.00", "5.00", 3),),
        shipped=at("2026-03-30"), promised="2026-03-25",
    )  # fmt: skip

    def figures():
        report = selectors.personalization_economics(**MARCH)
        foil = next(r for r in report.rows if r["value"] == "foil")
        late = {t["kind"]: (t["on_time"], t["due"]) for t in report.on_time}
        return foil["lines"], foil["eligible_lines"], late["personalized"]

    assert figures() == (1, 5, (2, 3))
    report_facts_refresh()
    assert figures() == (2, 6, (2, 4))  # O5 sold and dispatched late
