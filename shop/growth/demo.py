"""The funnel's demo history for `make run`, so that Dashboard > Growth > Funnel has 90 days to
show on first open (no demo visitor ever accepts analytics by themselves).

The last 90 days up to yesterday: 20–40 counted visitors a day (weekends busier), each arriving
from a realistic mix of sources and devices, some coming back on later days; their funnel
events with the usual drop from visit to payment page; and "order paid" only for real paid
orders of the order table (a share of each day's: not every buyer accepts analytics), with the
order's number and customer, so the funnel's "Order paid" stays below "All paid orders".
A few hundred bot requests a day are counted (BotDay).

Demo only: `run_store` calls it (`manage.py seed_growth_history`), after the sales history.
Idempotent: demo visitors' ids begin with DEMO_PREFIX; once any exists, nothing is added.
Deterministic (a fixed random seed), relative to today. Every event is before today, so the
demo experiment (started when the store is first set up) sees none of them.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import DateTimeField
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model

from shop.growth.models import BotDay, Event, Step, Visitor
from shop.order.pipeline import PAID_STATUSES

DEMO_PREFIX = "demo-growth-"  # + 10 digits: the 22 characters of a visitor id
DAYS = 90
SEED = 2113
CONSENT_SHARE = 0.6  # buyers whose order is in the funnel: those who accepted analytics
RETURNING_SHARE = 0.22  # of a day's visitors, someone seen on an earlier day
# Visit -> product view -> add to basket -> checkout started -> payment page, each given the
# step before (about 60 %, 15 %, 9 % and 7 % of visits); "order paid" comes from real orders.
STEP_ODDS = (
    (Step.PRODUCT_VIEW, 0.60),
    (Step.ADD_TO_BASKET, 0.25),
    (Step.CHECKOUT_STARTED, 0.60),
    (Step.PAYMENT_PAGE, 0.78),
)
SOURCES = (  # (kind, weight)
    ("direct", 30),
    ("search", 28),
    ("newsletter", 14),
    ("instagram", 19),
    ("referral", 9),
)
DEVICES = (("mobile", 55), ("desktop", 35), ("tablet", 10))
CAMPAIGNS = ("winter-care", "winter-care", "new-season", "evergreen-stories")

Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")


def growth_demo_history_seeded() -> bool:
    return Visitor.objects.filter(id__startswith=DEMO_PREFIX).exists()


@dataclass
class _Paths:
    products: list[tuple[int, str]]  # (pk, page path)
    checkout: str
    payment: str
    thank_you: str

    def product(self, rng: random.Random) -> tuple[int | None, str]:
        return rng.choice(self.products) if self.products else (None, "/catalogue/")

    def basket_add(self, pk: int | None) -> str:
        return reverse("basket:add", kwargs={"pk": pk}) if pk else "/basket/"


@dataclass
class _Seed:
    rng: random.Random
    paths: _Paths
    visitors: dict[str, Visitor] = field(default_factory=dict)
    by_user: dict[int, str] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    def visitor_new(self, *, at: datetime, user_id: int | None) -> Visitor:
        rng = self.rng
        kind = rng.choices([s for s, _ in SOURCES], weights=[w for _, w in SOURCES])[0]
        _pk, product_path = self.paths.product(rng)
        values: dict[str, str] = {"landing_path": "/"}
        if kind == "search":
            values["referrer_host"] = rng.choices(["www.google.com", "duckduckgo.com"], [8, 2])[0]
            values["landing_path"] = product_path if rng.random() < 0.6 else "/"
        elif kind == "newsletter":
            values.update(
                utm_source="newsletter", utm_medium="email", utm_campaign=rng.choice(CAMPAIGNS)
            )
            values["landing_path"] = product_path if rng.random() < 0.5 else "/catalogue/"
        elif kind == "instagram":
            values.update(utm_source="instagram", utm_medium="social")
            values["landing_path"] = product_path
        elif kind == "referral":  # a friend's share link lands on the home page
            values.update(utm_source="referral", utm_medium="share-link")
        visitor = Visitor(
            id=f"{DEMO_PREFIX}{len(self.visitors):010d}",
            first_seen_at=at,
            last_seen_at=at,
            device=rng.choices([d for d, _ in DEVICES], weights=[w for _, w in DEVICES])[0],
            user_id=user_id,
            **values,
        )
        self.visitors[visitor.id] = visitor
        if user_id:
            self.by_user[user_id] = visitor.id
        return visitor

    def visit_add(
        self, *, visitor: Visitor, start: datetime, order: tuple[str, int | None, datetime] | None
    ) -> None:
        """One visit's events from `start`: as far down the funnel as the odds go, or (for a
        buyer) every step, ending with the order paid at its own moment."""
        rng = self.rng
        first = visitor.first_seen_at == start
        pk, product_path = self.paths.product(rng)
        at = start
        path = visitor.landing_path if first else rng.choice(["/", product_path])
        self.events.append(Event(visitor=visitor, step=Step.VISIT, at=at, path=path))
        user_id = order[1] if order else None
        for step, odds in STEP_ODDS:
            if order is None and rng.random() >= odds:
                break
            at += timedelta(minutes=rng.randint(1, 6), seconds=rng.randint(0, 59))
            path = {
                Step.PRODUCT_VIEW: product_path,
                Step.ADD_TO_BASKET: self.paths.basket_add(pk),
                Step.CHECKOUT_STARTED: self.paths.checkout,
                Step.PAYMENT_PAGE: self.paths.payment,
            }[step]
            signed_in = step in (Step.CHECKOUT_STARTED, Step.PAYMENT_PAGE)
            self.events.append(
                Event(
                    visitor=visitor,
                    step=step,
                    at=at,
                    path=path,
                    user_id=user_id if signed_in else None,
                )
            )
        if order is not None:
            number, user_id, paid_at = order
            at = max(paid_at, at + timedelta(seconds=30))
            self.events.append(
                Event(
                    visitor=visitor,
                    step=Step.ORDER_PAID,
                    at=at,
                    path=self.paths.thank_you,
                    user_id=user_id,
                    order_number=number,
                )
            )
            if user_id:
                visitor.user_id = user_id
                self.by_user[user_id] = visitor.id
        visitor.last_seen_at = max(visitor.last_seen_at, at)


def _paths() -> _Paths:
    products = [
        (p.pk, p.get_absolute_url())
        for p in Product.objects.browsable().filter(is_public=True).order_by("pk")[:30]
    ]
    return _Paths(
        products=products,
        checkout=reverse("checkout:index"),
        payment=reverse("checkout:payment-details"),
        thank_you=reverse("checkout:thank-you"),
    )


def _paid_orders(first_day: date, today: date) -> dict[date, list[tuple[str, int | None, Any]]]:
    """Paid orders of the period by the local day they were paid (as the report counts them)."""
    tz = timezone.get_default_timezone()
    start = timezone.make_aware(datetime.combine(first_day, time.min), tz)
    end = timezone.make_aware(datetime.combine(today, time.min), tz)
    rows = (
        Order.objects.annotate(
            paid_moment=Coalesce("paid_at", "date_placed", output_field=DateTimeField())
        )
        .filter(status__in=PAID_STATUSES, paid_moment__gte=start, paid_moment__lt=end)
        .order_by("paid_moment", "pk")
        .values_list("number", "user_id", "paid_moment")
    )
    days: dict[date, list[tuple[str, int | None, Any]]] = defaultdict(list)
    for number, user_id, paid in rows:
        days[timezone.localdate(paid, tz)].append((number, user_id, paid))
    return days


def growth_demo_history_seed(*, today: date | None = None, days: int = DAYS) -> dict:
    """Seed the funnel's history once (see the module's docstring); returns what was made."""
    if growth_demo_history_seeded():
        return {"skipped": True}
    rng = random.Random(SEED)
    today = today or timezone.localdate()
    tz = timezone.get_default_timezone()
    first_day = today - timedelta(days=days)
    orders = _paid_orders(first_day, today)
    seed = _Seed(rng=rng, paths=_paths())
    order_paid = 0
    visits = 0
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        day_start = timezone.make_aware(datetime.combine(day, time.min), tz)
        weekend = day.weekday() >= 5
        wanted = rng.randint(20, 34) + (rng.randint(3, 6) if weekend else 0)
        todays = orders.get(day, [])  # in the order they were paid
        # Each buyer accepted analytics or not (a day's single order is not always counted).
        buyers = [o for o in todays if rng.random() < CONSENT_SHARE]
        seen_today: set[str] = set()
        # The buyers who accepted analytics: a customer's browser seen before comes back.
        for number, user_id, paid_at in buyers:
            lead = timedelta(minutes=rng.randint(36, 55))  # longer than its steps take
            start = max(day_start + timedelta(minutes=1), paid_at - lead)
            vid = seed.by_user.get(user_id) if user_id else None
            if vid and vid not in seen_today and seed.visitors[vid].last_seen_at < start:
                visitor = seed.visitors[vid]
            else:
                visitor = seed.visitor_new(at=start, user_id=user_id)
            seen_today.add(visitor.id)
            seed.visit_add(visitor=visitor, start=start, order=(number, user_id, paid_at))
            order_paid += 1
        earlier = [vid for vid, v in seed.visitors.items() if v.last_seen_at < day_start]
        while len(seen_today) < wanted:
            # Daytime mostly; a visit's steps end well before midnight.
            start = day_start + timedelta(
                hours=rng.choices(
                    range(7, 22), weights=[1, 2, 3, 3, 3, 4, 3, 3, 3, 3, 4, 5, 6, 5, 3]
                )[0],
                minutes=rng.randint(0, 59),
            )
            visitor = None
            if earlier and rng.random() < RETURNING_SHARE:
                candidate = rng.choice(earlier)
                if candidate not in seen_today:
                    visitor = seed.visitors[candidate]
            if visitor is None:
                visitor = seed.visitor_new(at=start, user_id=None)
            seen_today.add(visitor.id)
            seed.visit_add(visitor=visitor, start=start, order=None)
        visits += len(seen_today)
    bot_days = [
        BotDay(day=first_day + timedelta(days=offset), requests=rng.randint(180, 520))
        for offset in range(days)
    ]
    with transaction.atomic():
        Visitor.objects.bulk_create(seed.visitors.values(), batch_size=1000)
        Event.objects.bulk_create(seed.events, batch_size=2000)
        # A day already counted by the shop itself keeps its own figure.
        BotDay.objects.bulk_create(bot_days, batch_size=1000, ignore_conflicts=True)
    return {
        "visitors": len(seed.visitors),
        "visits": visits,
        "events": len(seed.events),
        "order_paid": order_paid,
        "bot_days": len(bot_days),
        "first_day": first_day,
    }
