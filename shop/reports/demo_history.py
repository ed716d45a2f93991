"""A modest, realistic 12-month history for `make run`'s demo, so that every report and KPI
card has something true to show on first open: online orders from a few hundred customers
placed through the order code (baskets, personalization, prices and cost snapshots as the
checkout makes them), boutique, wholesale and event sales through the offline import, cost
changes including the −15 % programme on the Evergreen line, refunds before and after
dispatch, the 30 % online-share target and monthly Evergreen projections.

Demo only: `run_store` (`make run`) calls it; `bootstrap_store` (production set-up) does not.
Idempotent: a finished seed leaves a marker import ("demo-history.csv") and is not run again.
Deterministic (a fixed random seed), relative to today.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from oscar.core.loading import get_class, get_model

from shop.reports.models import (
    CostPriceRecord,
    OnlineShareTarget,
    SalesImport,
    SustainableProjection,
)

MARKER = "demo-history.csv"
CUSTOMERS = 90
SEED = 1962
D = Decimal

Basket = get_model("basket", "Basket")
Order = get_model("order", "Order")
StockRecord = get_model("partner", "StockRecord")
ProductRecord = get_model("analytics", "ProductRecord")
Selector = get_class("partner.strategy", "Selector")


def _basket_line_add(*, basket: Any, product: Any, quantity: int, choices: Any) -> None:
    """A shopper's "add to basket" for a new demo basket: the line priced by the strategy
    with its personalization (the basket's own pricing hook), its choices as line options.
    Oscar's add_product re-reads every line for the currency on each add (most of the
    seed's time); a demo basket is new, in pounds, and holds each line once."""
    from shop.personalization.services import personalization_line_options

    options = personalization_line_options(choices) if choices is not None else []
    info = basket.get_stock_info(product, options)
    reference = basket._create_line_reference(product, info.stockrecord, options)
    line, created = basket.lines.get_or_create(
        line_reference=reference,
        product=product,
        stockrecord=info.stockrecord,
        defaults={
            "quantity": quantity,
            "price_excl_tax": info.price.excl_tax,
            "price_incl_tax": info.price.incl_tax,
            "price_currency": info.price.currency,
            "tax_code": info.price.tax_code,
        },
    )
    if created:
        for option in options:
            line.attributes.create(option=option["option"], value=option["value"])
    else:
        line.quantity += quantity
        line.save(update_fields=["quantity"])


def demo_order_place(*, basket: Any, user: Any, guest_email: str, shipping_code: str) -> Any:
    """THE ONE PLACE the demo creates an order: the checkout's own pricing and order creation
    (the order, its lines with prices, cost snapshots and personalization snapshots, the basket
    submitted) for a basket already filled, without Stripe and without a saved checkout
    attempt (the payment is recorded by the caller as history)."""
    from shop.checkout import services as checkout
    from shop.checkout.models import CheckoutAttempt

    priced = checkout.checkout_price(
        basket=basket, user=user, address={}, method_code=shipping_code
    )
    if priced is None:
        raise ValueError(f"The demo basket cannot be priced with {shipping_code!r}.")
    attempt = CheckoutAttempt(user=user, guest_email=guest_email, content={}, credit=D("0"))
    number = get_class("order.utils", "OrderNumberGenerator")().order_number(basket)
    return checkout._order_create(attempt=attempt, basket=basket, priced=priced, number=number)


def demo_history_seeded() -> bool:
    return SalesImport.objects.filter(file_name=MARKER).exists()


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)), timezone.get_default_timezone())


def _working_days_after(day: date, n: int) -> date:
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def _money(value: Decimal) -> Decimal:
    return value.quantize(D("0.01"), ROUND_HALF_UP)


def demo_history_seed(*, today: date | None = None, customers: int = CUSTOMERS) -> dict:
    """Seed the history once (see the module's docstring); returns what was made."""
    from shop.payments.models import PaymentIntentRecord
    from shop.personalization.rules import PersonalizationError
    from shop.personalization.services import personalization_validate
    from shop.reports import selectors
    from shop.reports.services import offline_sales_import, report_facts_refresh

    if demo_history_seeded():
        return {"skipped": True}
    rng = random.Random(SEED)
    today = today or timezone.localdate()
    first_day = today - timedelta(days=365)
    records = list(
        StockRecord.objects.select_related("product", "product__parent")
        .filter(price__isnull=False, cost_price__isnull=False)
        .order_by("pk")
    )
    if not records:
        return {"skipped": True, "reason": "no catalogue"}
    stock_before = {r.pk: (r.num_in_stock, r.num_allocated) for r in records}
    evergreen = {
        r.pk for r in records if r.partner_sku.startswith("EG-")
    }  # the catalogue's SKUs name the line
    # Cheaper pieces sell more often.
    weights = [1 / float(r.price) ** 0.6 for r in records]

    with transaction.atomic():
        # The first recorded costs date from before the history.
        CostPriceRecord.objects.filter(stockrecord__in=records).update(
            changed_at=_at(first_day - timedelta(days=30), 9)
        )
        # Cost changes: leather up 4 % on Heritage 9 months ago; the −15 % programme on
        # Evergreen in two steps, 6 and 4 months ago (−8 %, then to −15 % of the start).
        changes = [
            (today - timedelta(days=270), [r for r in records if r.pk not in evergreen], D("1.04")),
            (today - timedelta(days=180), [r for r in records if r.pk in evergreen], D("0.92")),
            (today - timedelta(days=120), [r for r in records if r.pk in evergreen], D("0.85")),
        ]
        base_cost = {r.pk: r.cost_price for r in records}

        users = get_user_model().objects.bulk_create(
            [
                get_user_model()(
                    username=f"demo-customer-{n:03d}",
                    email=f"customer{n:03d}@example.com",
                    first_name=rng.choice(["Ann", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus"]),
                    last_name=rng.choice(["Ashby", "Brook", "Clay", "Dale", "Eaton", "Frost"]),
                    password="!",  # unusable: demo customers never sign in
                )
                for n in range(customers)
            ]
        )
        # Orders per customer: most buy once; a loyal few many times. Later months busier
        # (online grows toward the 30 % target).
        plans = []
        for user in users:
            count = rng.choices([1, 2, 3, 4, 6], weights=[55, 25, 11, 6, 3])[0]
            first = 365 - int(365 * rng.random() ** 0.7)
            days = sorted({min(364, first + rng.randint(0, 364 - first)) for _ in range(count)})
            plans += [(first_day + timedelta(days=d), user) for d in days]
        plans.sort(key=lambda p: (p[0], p[1].pk))
        change_index = 0
        orders = 0
        personalised = 0
        for day, user in plans:
            while change_index < len(changes) and changes[change_index][0] <= day:
                when, group, factor = changes[change_index]
                for record in group:
                    cost = _money(base_cost[record.pk] * factor)
                    StockRecord.objects.filter(pk=record.pk).update(cost_price=cost)
                    CostPriceRecord.objects.create(
                        stockrecord=record, cost_price=cost, changed_at=_at(when, 8), source="demo"
                    )
                change_index += 1
            basket = Basket.objects.create(owner=user)
            basket.strategy = Selector().strategy(user=user)
            lines = rng.choices([1, 1, 1, 2], k=1)[0]
            is_personalised = False
            for record in rng.choices(records, weights=weights, k=lines):
                product = record.product
                data = {}
                roll = rng.random()
                if roll < 0.30:
                    data = {"initials": rng.choice(["AB", "JK", "M", "RDW"])}
                    data["style"] = rng.choice(["deboss", "deboss", "foil"])
                    if rng.random() < 0.3:
                        data["thread"] = rng.choice(["natural", "oxblood", "navy"])
                if rng.random() < 0.12:
                    data["gift_message"] = "With love"
                choices = None
                if data:
                    try:
                        choices = personalization_validate(product=product, data=data)
                    except PersonalizationError:
                        choices = None
                if choices is not None and not choices.is_empty():
                    _basket_line_add(basket=basket, product=product, quantity=1, choices=choices)
                    is_personalised = True
                else:
                    quantity = rng.choice([1, 1, 1, 2])
                    _basket_line_add(
                        basket=basket, product=product, quantity=quantity, choices=None
                    )
            basket._lines = None
            shipping_code = "dpd-next-day" if rng.random() < 0.15 else "royal-mail-tracked-48"
            order = demo_order_place(
                basket=basket, user=user, guest_email="", shipping_code=shipping_code
            )
            orders += 1
            personalised += is_personalised
            # The order's life, as history: paid on the day, dispatched within the promise
            # mostly (personalised pieces take the workshop's days), delivered later.
            paid_at = _at(day, rng.randint(8, 21))
            promised = _working_days_after(day, 5 if is_personalised else 2)
            late = rng.random() < (0.12 if is_personalised else 0.05)
            shipped_day = _working_days_after(
                day,
                (rng.randint(2, 5) if is_personalised else rng.randint(0, 2)) + (3 if late else 0),
            )
            age = (today - day).days
            fields: dict[str, Any] = {
                "date_placed": paid_at,
                "paid_at": paid_at,
                "promised_dispatch_date": promised,
            }
            refund = D("0.00")
            roll = rng.random()
            if roll < 0.03 and age > 5:
                fields["status"] = "Refunded"  # cancelled by the customer before dispatch
                refund = order.total_incl_tax
            elif shipped_day >= today:
                fields["status"] = "In workshop" if is_personalised else "Paid"
            else:
                fields["shipped_at"] = _at(shipped_day, 16)
                fields["tracking_number"] = f"MV{order.pk:08d}GB"
                delivered = _working_days_after(shipped_day, 2)
                if delivered < today:
                    fields["status"] = "Delivered"
                    fields["delivered_at"] = _at(delivered, 12)
                    if roll > 0.96:  # a part refund after delivery (a faulty strap, say)
                        refund = _money(order.total_incl_tax * D("0.3"))
                else:
                    fields["status"] = "Shipped"
            Order.objects.filter(pk=order.pk).update(**fields)
            PaymentIntentRecord.objects.create(
                payment_intent_id=f"pi_demo_{order.number}",
                order_number=order.number,
                amount=order.total_incl_tax,
                currency="GBP",
                status="succeeded",
                fee=_money(order.total_incl_tax * D("0.015") + D("0.20")),
                amount_refunded=refund,
            )
        # History does not move today's stock.
        for record in records:
            StockRecord.objects.filter(pk=record.pk).update(
                num_in_stock=stock_before[record.pk][0], num_allocated=stock_before[record.pk][1]
            )
        # Views for the product analytics (conversion): ~40 views per purchase.
        for product_record in ProductRecord.objects.all():
            ProductRecord.objects.filter(pk=product_record.pk).update(
                num_views=product_record.num_purchases * rng.randint(25, 60) + rng.randint(0, 40)
            )

        # Offline: the boutique most days, wholesale twice a month, a fair each quarter.
        rows = ["date,channel,reference,sku,quantity,net_amount,customer_email"]
        n = 0
        for offset in range(365):
            day = first_day + timedelta(days=offset)
            sales = []
            if day.weekday() < 6:
                sales += [("boutique", 1)] * rng.choice([1, 2, 3, 4, 5])
            if day.day in (1, 8, 15, 22):
                sales.append(("wholesale", rng.randint(10, 30)))
            if day.month % 3 == 0 and day.day in (20, 21):
                sales += [("event", rng.randint(1, 3))] * 3
            for channel, quantity in sales:
                record = rng.choices(records, weights=weights, k=1)[0]
                factor = D("0.5") if channel == "wholesale" else D("1")
                amount = _money(record.price / D("1.2") * quantity * factor)
                email = (
                    # Boutique regulars: some also buy online, most only in the shop.
                    f"customer{rng.randrange(customers * 3):03d}@example.com"
                    if channel == "boutique" and rng.random() < 0.4
                    else ""
                )
                n += 1
                rows.append(
                    f"{day},{channel},DEMO-{n:05d},{record.partner_sku},{quantity},{amount},{email}"
                )
        outcome = offline_sales_import(content="\n".join(rows).encode())
        OnlineShareTarget.objects.get_or_create(
            valid_from=first_day.replace(day=1), defaults={"share_percent": D("30.00")}
        )
        # Projections set at launch: what the Evergreen line was expected to sell each month
        # (a little under what it did, so the card shows progress toward +20 %).
        report = selectors.online_share_report(start=first_day, end=today, bucket="month")
        for row in report.rows:
            SustainableProjection.objects.update_or_create(
                month=row["bucket"],
                defaults={"revenue": _money(row["sustainable_revenue"] / D("1.1"))},
            )
        SalesImport.objects.create(
            file_name=MARKER,
            sha256="demo",
            status=SalesImport.Status.DONE,
            message="The demo's 12-month history (manage.py seed_demo_history).",
            finished_at=timezone.now(),
        )
    report_facts_refresh()
    return {
        "customers": customers,
        "orders": orders,
        "personalised_orders": personalised,
        "offline_sales": outcome.imported,
    }
