"""Back-in-stock alerts go out when stock comes back, and placing an order does not look for
them (shop.partner.receivers)."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from oscar.core.loading import get_model

from shop.catalogue.models import Product
from shop.partner.models import StockRecord

pytestmark = pytest.mark.django_db
ProductAlert = get_model("customer", "ProductAlert")


def _sold_out_with_an_alert() -> StockRecord:
    product = Product.objects.filter(structure=Product.STANDALONE).order_by("pk").first()
    record = StockRecord.objects.get(product=product)
    record.num_allocated = record.num_in_stock
    record.save()
    user = get_user_model().objects.create_user("ann", "ann@example.com", "pw-ann-123")
    ProductAlert.objects.create(product=product, user=user)
    mail.outbox.clear()
    return StockRecord.objects.get(pk=record.pk)


def test_restocking_a_sold_out_product_emails_whoever_asked(demo_catalogue):
    record = _sold_out_with_an_alert()
    record.num_in_stock += 5
    record.save()
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]
    assert ProductAlert.objects.get().status == ProductAlert.CLOSED


def test_an_order_allocating_stock_does_not_look_for_alerts(demo_catalogue):
    record = _sold_out_with_an_alert()
    record.num_in_stock += 5
    record.num_allocated = 0
    record.save()  # back in stock: the alert goes
    ProductAlert.objects.update(status=ProductAlert.ACTIVE)
    mail.outbox.clear()
    with CaptureQueriesContext(connection) as queries:
        record.allocate(1)
        record.consume_allocation(1)
    assert not [q for q in queries if "customer_productalert" in q["sql"]]
    assert mail.outbox == []


def test_a_price_edit_of_an_available_product_sends_alerts_still_waiting(demo_catalogue):
    record = _sold_out_with_an_alert()
    record.num_allocated = 0
    StockRecord.objects.filter(pk=record.pk).update(num_allocated=0)  # behind the signals' back
    record = StockRecord.objects.get(pk=record.pk)
    record.price += 1
    record.save()
    assert len(mail.outbox) == 1


def test_low_stock_alerts_open_and_close_and_orders_above_the_threshold_skip_them(
    demo_catalogue,
):
    StockAlert = get_model("partner", "StockAlert")
    product = Product.objects.filter(structure=Product.STANDALONE).order_by("pk").first()
    record = StockRecord.objects.get(product=product)
    record.num_in_stock, record.num_allocated, record.low_stock_threshold = 10, 0, 5
    record.save()
    record = StockRecord.objects.get(pk=record.pk)

    with CaptureQueriesContext(connection) as queries:
        record.allocate(4)  # 6 left: above the threshold, as it was
    assert not [q for q in queries if "partner_stockalert" in q["sql"]]
    assert not StockAlert.objects.exists()

    record.allocate(2)  # 4 left: under it
    alert = StockAlert.objects.get()
    assert alert.status == StockAlert.OPEN and alert.threshold == 5
    record.allocate(1)
    assert StockAlert.objects.count() == 1

    record.num_in_stock += 20  # restocked
    record.save()
    assert StockAlert.objects.get().status == StockAlert.CLOSED


def test_a_cancelled_order_freeing_stock_emails_whoever_asked(demo_catalogue):
    record = _sold_out_with_an_alert()
    record.cancel_allocation(1)  # an order cancelled before shipping
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]


def test_allocating_is_one_statement_and_keeps_the_count(demo_catalogue):
    product = Product.objects.filter(structure=Product.STANDALONE).order_by("pk").first()
    # As placing an order has it: the product and its class already read.
    record = StockRecord.objects.select_related("product__product_class").get(product=product)
    before = record.num_allocated or 0
    other = StockRecord.objects.get(pk=record.pk)
    other.allocate(2)  # someone else's order, meanwhile
    with CaptureQueriesContext(connection) as queries:
        record.allocate(3)
    (statement,) = [q["sql"] for q in queries]
    assert 'UPDATE "partner_stockrecord"' in statement and "RETURNING" in statement
    assert record.num_allocated == before + 5  # the count as stored, not as loaded + 3
    assert StockRecord.objects.get(pk=record.pk).num_allocated == before + 5
