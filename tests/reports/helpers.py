"""A small, known dataset for the reports, with every figure computed by hand in the tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from oscar.core.loading import get_model

from shop.payments.models import PaymentIntentRecord
from shop.personalization.models import OrderLinePersonalization

Order = get_model("order", "Order")
Line = get_model("order", "Line")
StockRecord = get_model("partner", "StockRecord")

D = Decimal


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def make_order(
    number: str,
    *,
    user=None,
    email: str = "",
    paid: str | None,
    lines: list[tuple[str, int, str, str]],  # sku, qty, price before discounts, after (excl)
    shipping: str = "0.00",
    shipping_code: str = "royal-mail-tracked-48",
    status: str = "Delivered",
    fee: str | None = None,
    refunded: str = "0.00",
    total_incl: str | None = None,
    shipped: datetime | None = None,
    promised: str | None = None,
    personalization: tuple[str, str] | None = None,  # unit surcharge (incl VAT), unit cost
    choices: tuple[tuple[str, dict, str, str, int], ...] = (),  # on the first line: kind,
    # data, unit surcharge (incl VAT), unit cost, lead days
):
    total_excl = sum((D(after) for *_, after in lines), D("0")) + D(shipping)
    total_incl = D(total_incl) if total_incl else (total_excl * D("1.2")).quantize(D("0.01"))
    placed = at(paid) if paid else at("2026-03-06")
    order = Order.objects.create(
        number=number,
        user=user,
        guest_email=email,
        currency="GBP",
        total_incl_tax=total_incl,
        total_excl_tax=total_excl,
        shipping_incl_tax=(D(shipping) * D("1.2")).quantize(D("0.01")),
        shipping_excl_tax=D(shipping),
        shipping_code=shipping_code,
        status=status,
        date_placed=placed,
        paid_at=at(paid) if paid else None,
        shipped_at=shipped,
        promised_dispatch_date=promised,
    )
    for sku, qty, before, after in lines:
        record = StockRecord.objects.get(partner_sku=sku)
        line = Line.objects.create(
            order=order,
            partner=record.partner,
            partner_name=record.partner.name,
            partner_sku=sku,
            stockrecord=record,
            product=record.product,
            title=record.product.get_title(),
            quantity=qty,
            line_price_before_discounts_excl_tax=D(before),
            line_price_before_discounts_incl_tax=(D(before) * D("1.2")).quantize(D("0.01")),
            line_price_excl_tax=D(after),
            line_price_incl_tax=(D(after) * D("1.2")).quantize(D("0.01")),
            unit_price_excl_tax=(D(after) / qty).quantize(D("0.01")),
            unit_price_incl_tax=(D(after) * D("1.2") / qty).quantize(D("0.01")),
            num_allocated=qty,
            unit_cost_price=record.cost_price,
        )
        for kind, data, surcharge, cost, lead_days in choices if sku == lines[0][0] else ():
            OrderLinePersonalization.objects.create(
                line=line, kind=kind, description=kind, surcharge=D(surcharge), cost=D(cost),
                lead_days=lead_days, data=data,
            )  # fmt: skip
        if personalization:
            OrderLinePersonalization.objects.create(
                line=line,
                kind="monogram",
                description="Monogram ABC, gold foil",
                data={"initials": "ABC", "style": "foil"},
                surcharge=D(personalization[0]),
                cost=D(personalization[1]),
                lead_days=3,
            )
    if fee is not None:
        PaymentIntentRecord.objects.create(
            payment_intent_id=f"pi_{number}",
            order_number=number,
            amount=total_incl,
            currency="GBP",
            status="succeeded",
            fee=D(fee),
            amount_refunded=D(refunded),
        )
    return order


OFFLINE_CSV = (
    "date,channel,reference,sku,quantity,net_amount,customer_email\n"
    "2026-03-15,boutique,BTQ-1001,EG-STR-CHE,1,50.00,Carol@Example.com\n"
    "2026-03-25,wholesale,WH-77-1,HE-BIF-BLK,10,475.00,\n"
    "2026-03-28,event,EV-FAIR-3,EG-CSL-NAT,3,112.50,\n"
)


def build_dataset(django_user_model):
    """Online orders (discounts, refunds, fees, personalization, guests) and offline sales.

    Figures per order (all excl. VAT), margin = net + shipping − cogs − pers. cost − shipping
    cost (rate table: Tracked 48 3.95, DPD 7.20) − fee − refund excl. VAT:
      A1 alice 2026-03-05: 2 × EG bifold, 158.34 → 150.00 (discount 8.34), cogs 2×38.95,
         monogram 15.00 incl. VAT (cost 5.00) per unit, shipping 0, fee 3.62
         → margin 150 − 77.90 − 10.00 − 3.95 − 3.62 = 54.53
      A2 alice 2026-03-20: 1 × HE tote 204.17, cogs 83.30, DPD 7.92, fee 3.86, refund 50.00
         incl. VAT of 254.51 → 41.67 excl. → 204.17 + 7.92 − 83.30 − 7.20 − 3.86 − 41.67 = 76.06
      A3 alice 2026-04-02 (after March): EG key fob 20.83, cogs 9.00, ship 3.75, fee 0.58
         → 11.05
      B1 bob (guest) 2026-03-10: HE key fob 20.83, cogs 7.75, ship 3.75, fee 0.58 → 12.30
      B2 bob 2026-03-12, refunded in full: EG key fob 20.83, cogs 9.00, ship 3.75, fee 0.58,
         refund 29.50 of 29.50 → 24.58 excl. → −13.53
      C1 carol (guest) 2026-02-15: EG notebook cover 62.50, cogs 30.75, fee 1.33 → 26.47
      P  alice, pending payment (not a sale); X cancelled (not a sale)
    Offline: boutique EG watch strap 50.00 (carol, cost 24.00 from history), wholesale
    10 × HE bifold 475.00, event 3 × EG card sleeve 112.50.
    """
    from shop.reports.models import CostPriceRecord, OnlineShareTarget, SustainableProjection
    from shop.reports.services import offline_sales_import, report_facts_refresh

    alice = django_user_model.objects.create_user(
        username="alice", email="alice@example.com", password="x"
    )
    strap = StockRecord.objects.get(partner_sku="EG-STR-CHE")
    CostPriceRecord.objects.create(
        stockrecord=strap, cost_price=D("24.00"), changed_at=at("2026-03-01", 0)
    )
    CostPriceRecord.objects.create(
        stockrecord=strap, cost_price=D("20.00"), changed_at=at("2026-03-20", 0)
    )
    make_order(
        "A1",
        user=alice,
        paid="2026-03-05",
        lines=[("EG-BIF-CHE", 2, "158.34", "150.00")],
        fee="3.62",
        personalization=("15.00", "5.00"),
        shipped=at("2026-03-09"),
        promised="2026-03-10",
    )
    make_order(
        "A2",
        user=alice,
        paid="2026-03-20",
        lines=[("HE-TOT-BLK", 1, "204.17", "204.17")],
        shipping="7.92",
        shipping_code="dpd-next-day",
        fee="3.86",
        refunded="50.00",
        total_incl="254.51",
        shipped=at("2026-03-21"),
        promised="2026-03-23",
    )
    make_order(
        "A3",
        user=alice,
        paid="2026-04-02",
        lines=[("EG-KEY-NAT", 1, "20.83", "20.83")],
        shipping="3.75",
        fee="0.58",
    )
    make_order(
        "B1",
        email="Bob@Example.com",
        paid="2026-03-10",
        lines=[("HE-KEY-HAV", 1, "20.83", "20.83")],
        shipping="3.75",
        fee="0.58",
        shipped=at("2026-03-13"),
        promised="2026-03-11",
    )
    make_order(
        "B2",
        email="bob@example.com",
        paid="2026-03-12",
        status="Refunded",
        lines=[("EG-KEY-NAT", 1, "20.83", "20.83")],
        shipping="3.75",
        fee="0.58",
        refunded="29.50",
        total_incl="29.50",
        promised="2026-03-13",
    )
    make_order(
        "C1",
        email="carol@example.com",
        paid="2026-02-15",
        lines=[("EG-NBC-NAT", 1, "62.50", "62.50")],
        fee="1.33",
    )
    make_order(
        "P",
        user=alice,
        paid=None,
        status="Pending payment",
        lines=[("EG-HOL-CHE", 1, "412.50", "412.50")],
    )
    make_order(
        "X",
        email="bob@example.com",
        paid="2026-03-07",
        status="Cancelled",
        lines=[("EG-HOL-CHE", 1, "412.50", "412.50")],
    )
    outcome = offline_sales_import(content=OFFLINE_CSV.encode())
    assert outcome.status == "done", outcome
    OnlineShareTarget.objects.create(valid_from="2026-01-01", share_percent=D("30.00"))
    SustainableProjection.objects.create(month="2026-03-01", revenue=D("310.00"))
    report_facts_refresh()
    return alice
