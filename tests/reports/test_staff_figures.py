"""Figures staff keep on the dashboard: a product's cost price on its stock form, and the
parcel costs per shipping method, with the history the profitability report reads by date."""

from decimal import Decimal as D

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from oscar.core.loading import get_class, get_model

from shop.reports.models import CostPriceRecord, OrderFact
from shop.reports.services import report_facts_refresh
from shop.shipping.models import ParcelCost
from tests.reports.helpers import make_order

pytestmark = pytest.mark.django_db

StockRecord = get_model("partner", "StockRecord")


def test_cost_price_on_the_products_stock_form(client, demo_catalogue, admin_user):
    record = StockRecord.objects.get(partner_sku="EG-BIF-CHE")
    client.force_login(admin_user)
    url = reverse("dashboard:catalogue-product", args=[record.product_id])
    html = client.get(url).content.decode()
    assert 'name="stockrecords-0-cost_price"' in html and 'value="38.95"' in html
    form_class = get_class("dashboard.catalogue.forms", "StockRecordForm")
    data = {
        "partner": record.partner_id,
        "partner_sku": record.partner_sku,
        "price_currency": "GBP",
        "price": record.price,
        "num_in_stock": record.num_in_stock,
        "cost_price": "-1",
    }
    form = form_class(record.product.get_product_class(), admin_user, data, instance=record)
    assert not form.is_valid() and "cannot be negative" in str(form.errors["cost_price"])
    data["cost_price"] = "33.10"  # the −15 % programme: 38.95 → 33.10
    form = form_class(record.product.get_product_class(), admin_user, data, instance=record)
    assert form.is_valid(), form.errors
    form.save()
    history = CostPriceRecord.objects.filter(stockrecord=record).order_by("changed_at", "pk")
    assert [h.cost_price for h in history] == [D("38.95"), D("33.10")]


@pytest.fixture
def shipper(client, django_user_model):
    user = django_user_model.objects.create_user(
        username="ship", email="ship@example.com", password="x", is_staff=True
    )
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="shipping", codename__in=["view_parcelcost", "add_parcelcost"]
        )
    )
    client.force_login(user)
    return user


def test_parcel_costs_page_keeps_a_history_the_report_reads_by_date(
    client, demo_catalogue, shipper
):
    url = reverse("shipping-dashboard:parcel-costs")
    html = client.get(url).content.decode()
    assert "£3.95" in html and "£7.20" in html  # the first estimates, now on a page
    response = client.post(
        url, {"shipping_code": "royal-mail-tracked-48", "cost": "-2", "valid_from": "2026-04-01"}
    )
    assert response.status_code == 200 and b"greater than or equal to 0" in response.content
    response = client.post(
        url, {"shipping_code": "royal-mail-tracked-48", "cost": "4.40", "valid_from": "2026-04-01"}
    )
    assert response.status_code == 302
    assert ParcelCost.objects.filter(shipping_code="royal-mail-tracked-48").count() == 2
    line = [("EG-KEY-NAT", 1, "20.83", "20.83")]
    make_order("E", email="e@example.com", paid="2026-03-31", lines=line, fee="0.58")
    make_order("L", email="l@example.com", paid="2026-04-01", lines=line, fee="0.58")
    report_facts_refresh()
    facts = dict(OrderFact.objects.values_list("number", "shipping_cost"))
    assert facts == {"E": D("3.95"), "L": D("4.40")}  # each by the cost of its day


def test_parcel_costs_need_their_permission(client, demo_catalogue, django_user_model):
    user = django_user_model.objects.create_user("clerk", "c@example.com", "x", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("shipping-dashboard:parcel-costs")).status_code == 403
