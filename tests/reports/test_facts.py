from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse

from shop.reports import selectors
from shop.reports.models import FactsRefresh
from shop.reports.services import report_facts_refresh
from shop.reports.templatetags.report_tags import money
from tests.reports.helpers import make_order

pytestmark = pytest.mark.django_db

MARCH = {"start": date(2026, 3, 1), "end": date(2026, 3, 31)}


def test_new_orders_show_after_a_refresh_and_the_time_is_recorded(dataset):
    make_order(
        "D1",
        email="dora@example.com",
        paid="2026-03-30",
        lines=[("EG-KEY-NAT", 1, "20.83", "20.83")],
        fee="0.58",
    )
    emails = {r["email"] for r in selectors.customer_profitability(**MARCH).rows}
    assert "dora@example.com" not in emails  # not yet: the fact tables are as of the refresh
    refresh = report_facts_refresh()
    rows = {r["email"]: r for r in selectors.customer_profitability(**MARCH).rows}
    assert rows["dora@example.com"]["margin"] == D("7.30")  # 20.83 − 9.00 − 3.95 − 0.58
    assert FactsRefresh.objects.get() == refresh and refresh.orders == 7


def test_pages_refresh_when_never_refreshed_and_on_demand(client, dataset, django_user_model):
    FactsRefresh.objects.all().delete()
    admin = django_user_model.objects.create_superuser("boss", "boss@example.com", "x")
    client.force_login(admin)
    response = client.get(reverse("business-reports:customers"))
    assert response.status_code == 200 and b"Customer figures as of" in response.content
    assert FactsRefresh.objects.count() == 1
    response = client.post(reverse("business-reports:customers"), {"refresh": "1"})
    assert response.status_code == 302 and FactsRefresh.objects.count() == 1


def test_money_filter():
    assert [money(D("1234.5")), money(D("-1.23")), money(None)] == ["£1,234.50", "−£1.23", "—"]
