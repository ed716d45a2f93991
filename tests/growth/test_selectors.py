"""The funnel computed from hand-made events: exact figures for each step, conversion and drop,
the filters, the trend by day, the breakdown, every paid order and the bots left out."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from shop.growth import selectors
from shop.growth.models import BotDay, Event, Visitor
from shop.growth.selectors import FunnelFilters, funnel_report
from tests.growth.helpers import moment, order_paid

pytestmark = pytest.mark.django_db
START, END = datetime.date(2026, 11, 2), datetime.date(2026, 11, 8)
DAY2, DAY3, DAY5 = (START + datetime.timedelta(days=n) for n in (1, 2, 4))
ALL_STEPS = [
    "visit",
    "product_view",
    "add_to_basket",
    "checkout_started",
    "payment_page",
    "order_paid",
]


def _visitor(key: str, *, first_seen, user=None, **fields) -> Visitor:
    return Visitor.objects.create(
        id=key.ljust(22, "x"),
        first_seen_at=first_seen,
        last_seen_at=first_seen,
        landing_path="/",
        user=user,
        **fields,
    )


def _events(visitor: Visitor, at, *steps: str) -> None:
    Event.objects.bulk_create(Event(visitor=visitor, step=s, at=at) for s in steps)


@pytest.fixture
def shop_week():
    """Five visitors in the week, one outside it, orders and bots around it."""
    customer = get_user_model().objects.create_user("f", "f@example.com", "x")
    order_paid("EARLIER", at=moment(START - datetime.timedelta(days=40)), user=customer)
    a = _visitor("a", first_seen=moment(DAY2), utm_source="newsletter", device="desktop")
    _events(a, moment(DAY2), *ALL_STEPS)
    b = _visitor(
        "b",
        first_seen=moment(START - datetime.timedelta(days=9)),
        referrer_host="www.google.com",
        device="mobile",
    )
    _events(b, moment(DAY3), "visit", "product_view", "add_to_basket", "product_view")
    c = _visitor("c", first_seen=moment(DAY3), device="desktop")
    _events(c, moment(DAY3), "visit", "product_view")
    d = _visitor("d", first_seen=moment(DAY5), device="tablet")
    _events(d, moment(DAY5), "visit")
    f = _visitor("f", first_seen=moment(END, 23, 59), user=customer, device="desktop")
    _events(f, moment(END, 23, 59), "visit")  # the last minute of the range: in
    outside = _visitor("g", first_seen=moment(START, 0, 0), device="desktop")
    _events(outside, moment(START - datetime.timedelta(days=1), 23, 59), "visit")
    _events(outside, moment(END + datetime.timedelta(days=1), 0, 0), "visit")
    # Orders: 2 paid in the range (whoever placed them), 1 waiting for payment, 1 after it.
    order_paid("P1", at=moment(DAY2))
    order_paid("P2", at=moment(DAY5, 9))
    order_paid("W1", at=moment(DAY3), status="Pending payment")
    order_paid("LATE", at=moment(END + datetime.timedelta(days=1), 0, 5))
    BotDay.objects.create(day=DAY2, requests=7)
    BotDay.objects.create(day=END + datetime.timedelta(days=1), requests=100)
    return {"customer": customer, "f": f}


def _counts(report) -> list[int]:
    return [s.visitors for s in report.steps]


def test_the_funnel_of_the_week(shop_week):
    report = funnel_report(filters=FunnelFilters(start=START, end=END))
    assert _counts(report) == [5, 3, 2, 1, 1, 1]
    by_step = {s.step: s for s in report.steps}
    assert by_step["visit"].from_previous is None and by_step["visit"].drop is None
    assert by_step["product_view"].from_previous == Decimal("60.0")
    assert by_step["product_view"].drop == 2 and by_step["product_view"].drop_percent == Decimal(
        "40.0"
    )
    assert by_step["add_to_basket"].from_previous == Decimal("66.7")
    assert by_step["checkout_started"].from_previous == Decimal("50.0")
    assert by_step["payment_page"].from_previous == Decimal("100.0")
    assert by_step["order_paid"].from_first == Decimal("20.0")
    assert report.paid_orders == 2  # from the orders table, consent or not
    assert report.bot_requests == 7


def test_the_trend_has_every_day_of_the_range(shop_week):
    report = funnel_report(filters=FunnelFilters(start=START, end=END))
    days = {row["day"]: row for row in report.days}
    assert list(days) == [START + datetime.timedelta(days=n) for n in range(7)]
    assert [days[DAY2][s] for s in ALL_STEPS] == [1, 1, 1, 1, 1, 1]
    assert [days[DAY3][s] for s in ALL_STEPS] == [2, 2, 1, 0, 0, 0]
    assert days[END]["visit"] == 1
    assert (days[DAY2]["paid_orders"], days[DAY5]["paid_orders"]) == (1, 1)
    assert days[DAY2]["bot_requests"] == 7 and days[START]["visit"] == 0


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"source": "newsletter"}, [1, 1, 1, 1, 1, 1]),
        ({"source": "www.google.com"}, [1, 1, 1, 0, 0, 0]),
        ({"source": "(direct)"}, [3, 1, 0, 0, 0, 0]),
        ({"device": "mobile"}, [1, 1, 1, 0, 0, 0]),
        ({"device": "tablet"}, [1, 0, 0, 0, 0, 0]),
        # b was first seen before the week; f bought before it.
        ({"visitor_kind": "returning"}, [2, 1, 1, 0, 0, 0]),
        ({"visitor_kind": "new"}, [3, 2, 1, 1, 1, 1]),
        ({"source": "nowhere"}, [0, 0, 0, 0, 0, 0]),
    ],
)
def test_filters(shop_week, filters, expected):
    report = funnel_report(filters=FunnelFilters(start=START, end=END, **filters))
    assert _counts(report) == expected
    assert report.paid_orders == 2  # all paid orders, whatever the filter


def test_the_rfm_segment_of_known_customers(shop_week, monkeypatch):
    asked = {}

    def segments(*, user_ids, on):
        asked.update(user_ids=list(user_ids), on=on)
        return {shop_week["customer"].pk: "Champions"}

    monkeypatch.setattr(selectors, "customer_segments", segments)
    champions = funnel_report(filters=FunnelFilters(start=START, end=END, segment="Champions"))
    assert _counts(champions) == [1, 0, 0, 0, 0, 0]
    assert asked == {"user_ids": [shop_week["customer"].pk], "on": END}
    anonymous = funnel_report(
        filters=FunnelFilters(start=START, end=END, segment="(not signed in)")
    )
    assert _counts(anonymous) == [4, 3, 2, 1, 1, 1]
    by_segment = funnel_report(filters=FunnelFilters(start=START, end=END), breakdown_by="segment")
    assert [(r["value"], r["visit"]) for r in by_segment.breakdown] == [
        ("(not signed in)", 4),
        ("Champions", 1),
    ]


def test_breakdowns(shop_week):
    by_source = funnel_report(filters=FunnelFilters(start=START, end=END))
    assert [(r["value"], r["visit"], r["order_paid"]) for r in by_source.breakdown] == [
        ("(direct)", 3, 0),
        ("newsletter", 1, 1),
        ("www.google.com", 1, 0),
    ]
    by_device = funnel_report(filters=FunnelFilters(start=START, end=END), breakdown_by="device")
    assert {r["value"]: r["visit"] for r in by_device.breakdown} == {
        "desktop": 3,
        "mobile": 1,
        "tablet": 1,
    }
    kinds = funnel_report(filters=FunnelFilters(start=START, end=END), breakdown_by="visitor_kind")
    assert {r["value"]: r["product_view"] for r in kinds.breakdown} == {"new": 2, "returning": 1}
    assert selectors.funnel_sources(start=START, end=END) == [
        "(direct)",
        "newsletter",
        "www.google.com",
    ]


def test_an_empty_range():
    report = funnel_report(filters=FunnelFilters(start=START, end=END))
    assert _counts(report) == [0] * 6
    assert all(s.from_first is None for s in report.steps)
    assert len(report.days) == 7 and report.paid_orders == 0 and report.bot_requests == 0
