"""The funnel's demo history (`make run`): a funnel that narrows step by step, "order paid"
only for real paid orders (a share of them, with their number and customer), once only, and
the dashboard's funnel page showing it."""

import datetime
import time

import pytest
from django.core.management import call_command
from django.utils import timezone
from oscar.test.factories import UserFactory

from shop.growth import selectors
from shop.growth.demo import (
    DEMO_PREFIX,
    growth_demo_history_seed,
    growth_demo_history_seeded,
)
from shop.growth.forms import FunnelFilterForm
from shop.growth.models import FUNNEL_STEPS, BotDay, Event, Step, Visitor
from tests.growth.helpers import moment, order_paid

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_orders():
    """Paid online orders on most of the last 40 days (1–3 a day, customers and guests), and
    one still awaiting payment: {number: user id}."""
    today = timezone.localdate()
    customers = [UserFactory() for _ in range(6)]
    made = {}
    n = 0
    for back in range(1, 41):
        if back % 7 == 3:
            continue  # a day without a sale
        for k in range(1 + back % 3):
            n += 1
            user = customers[n % len(customers)] if n % 5 else None
            status = ("Paid", "Shipped", "Delivered")[n % 3]
            order_paid(
                f"D{n:04d}",
                at=moment(today - datetime.timedelta(days=back), 9 + 3 * k),
                status=status,
                user=user,
            )
            made[f"D{n:04d}"] = user.pk if user else None
    order_paid(
        "PENDING1", at=moment(today - datetime.timedelta(days=2), 10), status="Pending payment"
    )
    return made


def _report(start, end):
    return selectors.funnel_report(filters=selectors.FunnelFilters(start=start, end=end))


def test_the_seed_gives_a_funnel_narrowing_step_by_step_below_the_paid_orders(demo_orders):
    today = timezone.localdate()
    started = time.monotonic()
    made = growth_demo_history_seed()
    took = time.monotonic() - started
    assert took < 5, f"the seed took {took:.1f} s"
    assert made["first_day"] == today - datetime.timedelta(days=90)
    assert growth_demo_history_seeded()

    report = _report(today - datetime.timedelta(days=30), today)
    figures = [s.visitors for s in report.steps]
    print(
        "last 30 days:",
        dict(zip(FUNNEL_STEPS, figures, strict=True)),
        "paid orders:",
        report.paid_orders,
    )
    assert all(a >= b for a, b in zip(figures, figures[1:], strict=False)), figures
    visits, views, baskets = figures[0], figures[1], figures[2]
    assert 450 <= visits <= 1200  # 20–40 a day, some of them the same visitor again
    assert visits > views > baskets > 0
    assert 0 < figures[-1] <= report.paid_orders
    assert 200 * 30 <= report.bot_requests <= 600 * 31

    # Every day of the 90 has its visitors (weekends a little busier), none today or later.
    days = _report(today - datetime.timedelta(days=90), today - datetime.timedelta(days=1)).days
    per_day = [row["visit"] for row in days]
    assert min(per_day) >= 20 and max(per_day) <= 40
    weekend = [row["visit"] for row in days if row["day"].weekday() >= 5]
    weekday = [row["visit"] for row in days if row["day"].weekday() < 5]
    assert sum(weekend) / len(weekend) > sum(weekday) / len(weekday)
    assert not Event.objects.filter(at__gte=moment(today, 0)).exists()

    # Visitors came back on later days: more visits than visitors.
    assert Event.objects.filter(step=Step.VISIT).count() > Visitor.objects.count()
    # A realistic mix of where they came from and on what.
    sources = {row["value"] for row in report.breakdown}
    assert {"(direct)", "www.google.com", "newsletter", "instagram", "referral"} <= sources
    total = Visitor.objects.count()
    share = {d: Visitor.objects.filter(device=d).count() / total for d in ("mobile", "tablet")}
    assert 0.45 < share["mobile"] < 0.65 and 0.04 < share["tablet"] < 0.16

    # "Order paid" only for real paid orders, a share of them, with their number and customer.
    paid = list(Event.objects.filter(step=Step.ORDER_PAID).select_related("visitor"))
    assert paid and len(paid) < len(demo_orders)
    for event in paid:
        assert event.order_number in demo_orders
        assert event.user_id == demo_orders[event.order_number]
        if event.user_id:
            assert event.visitor.user_id == event.user_id
        earlier = Event.objects.filter(visitor=event.visitor, at__lt=event.at).values_list(
            "step", flat=True
        )
        assert set(FUNNEL_STEPS[:-1]) <= set(earlier)
    assert len({e.order_number for e in paid}) == len(paid)


def test_a_second_seed_adds_nothing_and_the_command_says_so(demo_orders, capsys):
    call_command("seed_growth_history")
    assert "Funnel history:" in capsys.readouterr().out
    counts = (Visitor.objects.count(), Event.objects.count(), BotDay.objects.count())
    assert all(counts)
    assert growth_demo_history_seed() == {"skipped": True}
    call_command("seed_growth_history")
    assert "already there" in capsys.readouterr().out
    assert (Visitor.objects.count(), Event.objects.count(), BotDay.objects.count()) == counts
    assert Visitor.objects.filter(id__startswith=DEMO_PREFIX).count() == counts[0]


def test_the_seed_is_the_same_each_time_and_keeps_a_day_the_shop_counted(demo_orders):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    BotDay.objects.create(day=yesterday, requests=7)
    growth_demo_history_seed()
    first = list(
        Event.objects.order_by("visitor_id", "at", "step").values_list("visitor_id", "step", "at")
    )
    assert BotDay.objects.get(day=yesterday).requests == 7
    Visitor.objects.all().delete()
    growth_demo_history_seed()
    again = list(
        Event.objects.order_by("visitor_id", "at", "step").values_list("visitor_id", "step", "at")
    )
    assert again == first


def test_the_dashboard_funnel_shows_the_demo_visits(client, django_user_model, demo_orders):
    growth_demo_history_seed()
    expected = _report(*_default_range())
    admin = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-boss-1")
    client.force_login(admin)
    response = client.get("/dashboard/growth/funnel/")
    assert response.status_code == 200
    html = response.content.decode()
    visits = expected.steps[0].visitors
    assert visits > 0
    assert f'data-figure="visits">{visits}<' in html
    assert f'data-figure="funnel-paid">{expected.steps[-1].visitors}<' in html
    assert f'data-figure="paid-orders">{expected.paid_orders}<' in html
    assert "newsletter" in html and "www.google.com" in html


def _default_range():
    filters = FunnelFilterForm(None).filters()
    return filters.start, filters.end


def test_the_demo_experiment_sees_none_of_the_history(demo_orders):
    """The demo experiment starts when the store is set up, before the seed runs: every demo
    event is from an earlier day, outside its window."""
    from shop.experiments.selectors import experiment_counts
    from shop.experiments.services import experiment_demo_ensure

    experiment = experiment_demo_ensure()
    growth_demo_history_seed()
    counts = experiment_counts(experiment=experiment)
    assert counts and all(row["visitors"] == 0 and row["conversions"] == 0 for row in counts)
