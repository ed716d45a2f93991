"""Oscar's purchase counters (Dashboard → Reports) are kept when an order is placed, in one
statement for the order's products (shop.order.analytics)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from oscar.apps.order.signals import order_placed
from oscar.core.loading import get_model

from tests.takeback.helpers import TOTE, WALLET, customer, delivered_order, product

pytestmark = pytest.mark.django_db
ProductRecord = get_model("analytics", "ProductRecord")
UserRecord = get_model("analytics", "UserRecord")


def test_placing_an_order_counts_each_products_purchases(demo_catalogue):
    jo = customer()
    wallet, tote = product(WALLET), product(TOTE)
    ProductRecord.objects.create(product=wallet, num_purchases=5)  # viewed and bought before

    order = delivered_order(user=jo, upc=WALLET, quantity=2)  # placed: the signal is sent
    assert ProductRecord.objects.get(product=wallet).num_purchases == 7
    assert UserRecord.objects.get(user=jo).num_orders == 1

    order.lines.update(product=tote)  # the same order counted for a product never seen
    order_placed.send(sender=None, order=order, user=jo)
    assert ProductRecord.objects.get(product=tote).num_purchases == 2
    assert ProductRecord.objects.get(product=wallet).num_purchases == 7


def test_one_statement_for_all_the_lines(demo_catalogue):
    jo = customer()
    order = delivered_order(user=jo, upc=WALLET, quantity=1)
    lines = list(order.lines.all())
    order.lines.create(
        product=product(TOTE),
        quantity=3,
        num_allocated=3,
        partner_name=lines[0].partner_name,
        title="Tote",
        line_price_incl_tax=1,
        line_price_excl_tax=1,
        line_price_before_discounts_incl_tax=1,
        line_price_before_discounts_excl_tax=1,
    )
    ProductRecord.objects.create(product=product(TOTE))
    with CaptureQueriesContext(connection) as queries:
        order_placed.send(sender=None, order=order, user=None)
    assert len(queries) == 2  # the lines, one UPDATE
    assert ProductRecord.objects.get(product=product(TOTE)).num_purchases == 3
    assert ProductRecord.objects.get(product=product(WALLET)).num_purchases == 2
