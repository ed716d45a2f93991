"""A modest, realistic 12-month history for `make run`'s demo, so that every report and KPI
card has something true to show on first open: online orders from a few hundred customers
placed through the order code (baskets, personalization, prices and cost snapshots as the
checkout makes them), boutique, wholesale and event sales through the offline import, cost
changes including the −15 % programme on the Evergreen line, refunds before and after
dispatch, the 30 % online-share target and monthly Evergreen projections, and a year of the
take-back scheme (graded take-backs, credit, pre-loved pieces listed and resold).

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
Product = get_model("catalogue", "Product")
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


def _demo_card_payment(*, order: Any, refunded: Decimal = Decimal("0.00")) -> None:
    """The order's card payment as history: succeeded, with Stripe's UK card fee."""
    from shop.payments.models import PaymentIntentRecord

    PaymentIntentRecord.objects.create(
        payment_intent_id=f"pi_demo_{order.number}",
        order_number=order.number,
        amount=order.total_incl_tax,
        currency="GBP",
        status="succeeded",
        fee=_money(order.total_incl_tax * D("0.015") + D("0.20")),
        amount_refunded=refunded,
    )


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
            _demo_card_payment(order=order, refunded=refund)
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
        takebacks = demo_takebacks_seed(today=today)
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
        "takebacks": takebacks.get("takebacks", 0),
        "preloved_listed": takebacks.get("preloved_listed", 0),
        "preloved_sold": takebacks.get("preloved_sold", 0),
    }


# --- Take-backs and pre-loved pieces -----------------------------------------------------------

TAKEBACKS = 30
# Grades over the year (A–D) and where each goes: every A and two Bs are resold as
# pre-loved (10 pieces), the other Bs repaired and returned, Cs repaired or recycled, Ds
# recycled. The condition the customer described matches the grade, so each credit is
# approved at the rule's top without a lower offer.
GRADES = ["A"] * 8 + ["B"] * 9 + ["C"] * 7 + ["D"] * 6
CONDITIONS = {"A": ["like_new"], "B": ["like_new", "good"], "C": ["good", "worn"], "D": ["worn"]}
WEEK, HALF_YEAR = timedelta(days=7), timedelta(days=183)
PRELOVED_ON_SALE = 0.3  # the last listed ~30 % are still on sale (3 of 10), the rest sold


def demo_takebacks_seeded() -> bool:
    from shop.takeback.models import TakeBack

    return TakeBack.objects.filter(customer__username__startswith="demo-customer-").exists()


def demo_takebacks_add(*, today: date | None = None) -> dict:
    """The take-back year alone, for a demo seeded before it existed (once, like the rest)."""
    from shop.reports.services import report_facts_refresh

    with transaction.atomic():
        made = demo_takebacks_seed(today=today)
    if not made.get("skipped"):
        report_facts_refresh()  # the resales are sales of their buyers
    return made


def _takeback_backdate(takeback: Any, times: dict[str, datetime]) -> None:
    """The take-back's own moments and its audit log's, as they happened."""
    from django.db.models import Case, F, Value, When

    from shop.credit.models import CreditEntry
    from shop.takeback.models import TakeBack, TakeBackEvent

    at = {
        "created_at": times["registered"],
        "terms_accepted_at": times["registered"],
        "label_issued_at": times["label_issued"],
        "received_at": times["received"],
        "graded_at": times["graded"],
        "credit_issued_at": times["credit_issued"],
        "updated_at": max(times.values()),
    }
    if "closed" in times:
        at["closed_at"] = times["closed"]
    TakeBack.objects.filter(pk=takeback.pk).update(**at)
    TakeBackEvent.objects.filter(takeback=takeback).update(
        created_at=Case(
            *(When(kind=kind, then=Value(moment)) for kind, moment in times.items()),
            default=F("created_at"),
        )
    )
    CreditEntry.objects.filter(takeback=takeback).update(created_at=times["credit_issued"])


def demo_takebacks_seed(*, today: date | None = None, count: int = TAKEBACKS) -> dict:
    """The take-back year (see `_takebacks_seed`), with the outbox muted: the tasks its
    services queue (labels, credit, emails) are past events, done by the seed itself."""
    from shop.common.outbox import outbox_muted

    with outbox_muted():
        return _takebacks_seed(today=today, count=count)


def _takebacks_seed(*, today: date | None, count: int) -> dict:
    """A modest year of the take-back scheme over the demo's delivered orders, through the
    scheme's own services: registered (label issued), received, graded A–D and routed,
    credit approved and issued to the customer; graded A/B pieces routed to resale
    published as pre-loved listings (no photos: the service allows none, so no private
    originals are made up), most of them bought by other demo customers through
    `demo_order_place` and marked sold as a payment marks them, the last few still on sale.
    Moments are set afterwards, as the rest of the history does. Once: skipped when a demo
    customer already has a take-back. Call inside a transaction (the command does)."""
    from shop.order import pipeline
    from shop.takeback.models import PreLovedPiece, Route
    from shop.takeback.services import (
        RegistrationItem,
        credit_rules_default_ensure,
        preloved_publish,
        preloved_sold_for_order,
        resale_rules_default_ensure,
        takeback_approve,
        takeback_close,
        takeback_credit_issue,
        takeback_grade,
        takeback_label_issue,
        takeback_receive,
        takeback_register,
    )

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("demo_takebacks_seed runs inside a transaction (see its docstring).")
    if demo_takebacks_seeded():
        return {"skipped": True}
    rng = random.Random(SEED + 18)
    today = today or timezone.localdate()
    credit_rules_default_ensure()  # seeded by migration; restored if removed
    resale_rules_default_ensure()
    staff = get_user_model().objects.filter(is_staff=True).order_by("pk").first()
    Line = get_model("order", "Line")
    # Pieces delivered at least 40 days ago, one per order, pre-loved pieces excluded.
    candidates = list(
        Line.objects.filter(
            order__status=pipeline.DELIVERED,
            order__user__username__startswith="demo-customer-",
            order__delivered_at__lt=_at(today - timedelta(days=40), 0),
            product__isnull=False,
            product__preloved_piece__isnull=True,
        )
        .select_related("order", "order__user")
        .order_by("order_id", "pk")
        .distinct("order_id")
    )
    if not candidates:
        return {"skipped": True, "reason": "no delivered orders"}
    # Take-backs spread evenly over the time there is, each of a piece delivered at least a
    # week before (most within the last half year), one per order.
    first = min(timezone.localdate(c.order.delivered_at) for c in candidates) + timedelta(days=14)
    span = max(1, (today - timedelta(days=25) - first).days)
    count = min(count, len(candidates))
    plans = []
    for i in range(count):
        day = first + timedelta(days=int(span * (i + rng.random()) / count))
        held = [c for c in candidates if timezone.localdate(c.order.delivered_at) <= day - WEEK]
        recent = [c for c in held if timezone.localdate(c.order.delivered_at) > day - HALF_YEAR]
        if held:
            line = rng.choice(recent or held)
        else:  # early in the year: the first piece delivered, sent back a little later
            line = min(candidates, key=lambda c: c.order.delivered_at)
            day = timezone.localdate(line.order.delivered_at) + timedelta(days=rng.randint(7, 30))
        candidates.remove(line)
        plans.append((min(day, today - timedelta(days=25)), line))
    plans.sort(key=lambda plan: (plan[0], plan[1].pk))
    # GRADES' mix for any number of take-backs, in a random order.
    grades = [GRADES[i * len(GRADES) // len(plans)] for i in range(len(plans))]
    rng.shuffle(grades)
    resale_bs = 2
    made = []
    for (registered_day, line), grade in zip(plans, grades, strict=True):
        registered = _at(registered_day, rng.randint(8, 21))
        received = registered + timedelta(days=rng.randint(3, 8), hours=2)
        graded = received + timedelta(days=rng.randint(1, 4), hours=1)
        credited = graded + timedelta(hours=rng.randint(2, 20))
        if grade == "A" or (grade == "B" and resale_bs):
            resale_bs -= grade == "B"
            route = Route.RESELL
        elif grade == "B":
            route = Route.REPAIR_RETURN
        elif grade == "C":
            route = rng.choice([Route.REPAIR_RETURN, Route.RECYCLE])
        else:
            route = Route.RECYCLE
        (takeback,) = takeback_register(
            customer=line.order.user,
            items=[RegistrationItem(condition=rng.choice(CONDITIONS[grade]), line=line)],
            terms_accepted=True,
        )
        takeback = takeback_label_issue(takeback=takeback)
        takeback = takeback_receive(tracking_number=takeback.tracking_number, staff=staff)
        takeback = takeback_grade(takeback=takeback, grade=grade, route=route, staff=staff)
        takeback = takeback_approve(takeback=takeback, staff=staff)
        takeback = takeback_credit_issue(takeback=takeback)
        times = {
            "registered": registered,
            "label_issued": registered + timedelta(minutes=1),
            "received": received,
            "graded": graded,
            "approved": credited,
            "credit_issued": credited + timedelta(minutes=1),
        }
        made.append((takeback, times))

    # Pre-loved: listed a few days after grading (cleaned, edges painted), in listing order.
    resale = sorted(
        ((tb, times) for tb, times in made if tb.route == Route.RESELL),
        key=lambda item: item[1]["graded"],
    )
    users = list(get_user_model().objects.filter(username__startswith="demo-customer-"))
    to_sell = len(resale) - max(1, round(len(resale) * PRELOVED_ON_SALE))
    pieces = []
    for index, (takeback, times) in enumerate(resale):
        times["published"] = times["graded"] + timedelta(days=rng.randint(2, 9), hours=3)
        piece = preloved_publish(
            takeback=takeback,
            staff=staff,
            price=rng.choice(_prices(takeback)),
            repair_note=rng.choice(["", "Edges repainted in our workshop.", "Re-stitched."]),
        )
        PreLovedPiece.objects.filter(pk=piece.pk).update(listed_at=times["published"])
        Product.objects.filter(pk=piece.product_id).update(date_created=times["published"])
        pieces.append((piece, takeback, times, index < to_sell))

    sold = 0
    for piece, takeback, times, selling in pieces:
        # Days to sell: a few days to six weeks, within the time it has been listed.
        days = min(rng.randint(4, 40), (today - times["published"].date()).days - 2)
        if not selling or days < 1:
            continue
        sold_at = times["published"] + timedelta(days=days, hours=rng.randint(1, 9))
        buyer = rng.choice([u for u in users if u.pk != takeback.customer_id])
        order = _preloved_order(piece=piece, buyer=buyer, paid_at=sold_at, today=today, rng=rng)
        _demo_card_payment(order=order)
        preloved_sold_for_order(order=order, new_status=pipeline.PAID)  # as a payment does
        # Dispatched and delivered: the one unit has left the shelf.
        StockRecord.objects.filter(product_id=piece.product_id).update(
            num_in_stock=0, num_allocated=0
        )
        takeback_close(takeback=takeback, staff=staff, note=f"Resold (order {order.number}).")
        times["closed"] = sold_at + timedelta(hours=1)
        sold += 1
    # Repaired and returned, or recycled with the partner: closed once done.
    for takeback, times in made:
        done = times["graded"] + timedelta(days=rng.randint(5, 20))
        if takeback.route != Route.RESELL and done.date() < today:
            takeback_close(takeback=takeback, staff=staff)
            times["closed"] = done
        _takeback_backdate(takeback, times)
    return {"takebacks": len(made), "preloved_listed": len(pieces), "preloved_sold": sold}


def _prices(takeback: Any) -> list[Decimal]:
    """Prices staff would choose: the rule's top for the grade, or a round pound below it
    (when the rule allows it)."""
    from shop.takeback.selectors import preloved_price_limits

    low, high, _new = preloved_price_limits(product=takeback.product, grade=takeback.grade)
    rounded = (high - 1).to_integral_value() + D("0.00")
    return [high, rounded] if low <= rounded <= high else [high]


def _preloved_order(*, piece: Any, buyer: Any, paid_at: datetime, today: date, rng: Any) -> Any:
    """A second customer buys the piece online, through the demo's one order adapter;
    paid, dispatched and delivered as history."""
    basket = Basket.objects.create(owner=buyer)
    basket.strategy = Selector().strategy(user=buyer)
    _basket_line_add(basket=basket, product=piece.product, quantity=1, choices=None)
    basket._lines = None
    order = demo_order_place(
        basket=basket, user=buyer, guest_email="", shipping_code="royal-mail-tracked-48"
    )
    day = timezone.localdate(paid_at)
    shipped = _working_days_after(day, rng.randint(0, 2))
    delivered = _working_days_after(shipped, 2)
    fields: dict[str, Any] = {
        "date_placed": paid_at,
        "paid_at": paid_at,
        "promised_dispatch_date": _working_days_after(day, 2),
        "shipped_at": _at(shipped, 16),
        "tracking_number": f"MV{order.pk:08d}GB",
        "status": "Shipped",
    }
    if delivered < today:
        fields.update(status="Delivered", delivered_at=_at(delivered, 12))
    Order.objects.filter(pk=order.pk).update(**fields)
    order.refresh_from_db()
    return order
