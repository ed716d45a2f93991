"""Report selectors: take-backs per month and status, credit issued and redeemed with the
redemption rate, routes, leather kept out of landfill, and credits per customer (for
customer profitability), all aggregated by the database over a date range."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from shop.credit.models import CreditEntry
from shop.credit.services import credit_issue, credit_restore, credit_spend
from shop.takeback.models import ProductWeight, TakeBack
from shop.takeback.selectors import (
    takeback_credit_totals,
    takeback_credits_per_customer,
    takeback_landfill_kg,
    takeback_routes_share,
    takebacks_per_month,
    takebacks_per_month_table,
)
from shop.takeback.services import takeback_approve, takeback_credit_issue, takeback_grade
from tests.takeback.helpers import customer, graded, product, received, staff_member

pytestmark = pytest.mark.django_db
D = Decimal
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def staff(db):
    return staff_member()


def test_credits_per_customer_over_a_range(catalogue, staff):
    jo, sam = customer(), customer("sam@example.com")
    for who, grade in ((jo, "A"), (jo, "C"), (sam, "B")):
        takeback_credit_issue(
            takeback=takeback_approve(takeback=graded(who, staff=staff, grade=grade), staff=staff)
        )
    credit_spend(user=jo, amount=D("25.00"), order_number="100010")
    credit_spend(user=sam, amount=D("5.00"), order_number="100011")
    credit_restore(order_number="100011")  # that order was cancelled: not redeemed
    # An entry outside the range is left out.
    old = credit_issue(user=sam, amount=D("7.00"))[0]
    CreditEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=400))

    today = timezone.localdate()
    rows = list(takeback_credits_per_customer(start=today - timedelta(days=30), end=today))
    assert rows == [
        {"user_id": jo.pk, "email": jo.email, "issued": D("42.00"), "redeemed": D("25.00")},
        {"user_id": sam.pk, "email": sam.email, "issued": D("20.00"), "redeemed": D("0.00")},
    ]
    totals = takeback_credit_totals(start=today - timedelta(days=30), end=today)
    assert totals == {"issued": D("62.00"), "redeemed": D("25.00"), "redemption_rate": D("40.3")}
    assert takeback_credit_totals(start=date(2000, 1, 1), end=date(2000, 1, 2)) == {
        "issued": D("0.00"),
        "redeemed": D("0.00"),
        "redemption_rate": None,
    }


def test_per_month_routes_and_landfill(catalogue, staff):
    jo = customer()
    ProductWeight.objects.create(product=product().parent, leather_kg=D("0.180"))
    a = graded(jo, staff=staff, grade="A")
    b = takeback_grade(takeback=received(jo, staff=staff), grade="D", route="recycle", staff=staff)
    c = received(jo, staff=staff)
    # One take-back registered in an earlier month (store time zone: 23:30 on 31 March BST
    # is still March in Walsall, though 22:30 UTC).
    march = datetime(2026, 3, 31, 23, 30, tzinfo=LONDON)
    TakeBack.objects.filter(pk=c.pk).update(created_at=march)
    assert a.leather_kg == D("0.180") and b.leather_kg == D("0.180")

    rows = list(takebacks_per_month(start=date(2026, 3, 1), end=timezone.localdate()))
    months = {(r["month"].astimezone(LONDON).date(), r["status"]): r["count"] for r in rows}
    assert months[(date(2026, 3, 1), "received")] == 1
    assert months[(timezone.localdate().replace(day=1), "graded")] == 2
    table = takebacks_per_month_table(start=date(2026, 3, 1), end=timezone.localdate())
    assert table[0]["month"] == date(2026, 3, 1) and table[0]["total"] == 1

    today = timezone.localdate()
    routes = {r["route"]: r["count"] for r in takeback_routes_share(start=today, end=today)}
    assert routes == {"resell": 1, "recycle": 1}
    assert takeback_landfill_kg(start=today, end=today) == D("0.360")
