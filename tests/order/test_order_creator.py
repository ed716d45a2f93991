"""Order lines written together (shop.order.utils.OrderCreator) hold exactly what Oscar's own
per-line creation writes: the lines in basket order, their prices, options and offer
discounts, plus our cost price and personalization snapshots, in one insert per table."""

from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from oscar.apps.offer.applicator import Applicator
from oscar.apps.order.utils import OrderCreator as OscarOrderCreator
from oscar.apps.shipping.methods import Free
from oscar.core.loading import get_class
from oscar.test.factories import create_offer, create_order

from shop.basket.models import Basket
from shop.order.models import Line
from shop.partner.models import StockRecord
from shop.partner.strategy import UKStrategy
from shop.personalization.models import OrderLinePersonalization
from shop.personalization.rules import Choices
from shop.personalization.services import basket_add_personalized
from tests.workshop.helpers import FULL, plain_product, tote_variant

pytestmark = pytest.mark.django_db
OrderTotalCalculator = get_class("checkout.calculators", "OrderTotalCalculator")

LINE_FIELDS = (
    "partner_id",
    "partner_name",
    "partner_sku",
    "stockrecord_id",
    "product_id",
    "title",
    "upc",
    "quantity",
    "line_price_incl_tax",
    "line_price_excl_tax",
    "line_price_before_discounts_incl_tax",
    "line_price_before_discounts_excl_tax",
    "unit_price_incl_tax",
    "unit_price_excl_tax",
    "tax_code",
    "num_allocated",
    "status",
)


def _lines():
    return [
        (tote_variant(), FULL, 2),
        (plain_product(), Choices(), 1),
        (plain_product(), Choices(gift_message="Well done"), 1),
    ]


def _priced_basket(lines) -> Basket:
    basket = Basket.objects.create()
    basket.strategy = UKStrategy()
    for product, choices, quantity in lines:
        basket_add_personalized(basket=basket, product=product, quantity=quantity, choices=choices)
    Applicator().apply(basket)  # the site offer: a discount on every line
    return basket


def _oscar_order(basket):
    shipping = Free()
    charge = shipping.calculate(basket)
    total = OrderTotalCalculator().calculate(basket, charge)
    return OscarOrderCreator().place_order(
        basket=basket, total=total, shipping_method=shipping, shipping_charge=charge
    )


def _written(order) -> list[dict]:
    """Each line of the order as read back, with its prices, options and discounts."""
    rows = []
    for line in Line.objects.filter(order=order).order_by("pk"):
        rows.append(
            {
                **{name: getattr(line, name) for name in LINE_FIELDS},
                "prices": sorted(
                    (p.quantity, p.price_incl_tax, p.price_excl_tax, p.tax_code)
                    for p in line.prices.filter(order=order)
                ),
                "options": sorted(
                    (a.option_id, a.type, str(a.value)) for a in line.attributes.all()
                ),
                "discounts": sorted(
                    (d.order_discount.offer_id, d.order_discount.order_id, d.is_incl_tax, d.amount)
                    for d in line.discounts.select_related("order_discount")
                ),
            }
        )
    return rows


def test_lines_hold_what_oscar_writes(demo_personalization):
    offer = create_offer()
    ours = create_order(basket=_priced_basket(_lines()))
    oscar = _oscar_order(_priced_basket(_lines()))

    written, expected = _written(ours), _written(oscar)
    for row in expected:  # the same discounts, recorded against each order's own discount
        row["discounts"] = [(o, ours.pk, *rest) for o, _order, *rest in row["discounts"]]
    assert written == expected
    assert [row["quantity"] for row in written] == [2, 1, 1]  # basket order
    assert all(row["discounts"] and row["discounts"][0][0] == offer.pk for row in written)
    assert all(row["prices"] for row in written)
    assert written[0]["options"] and not written[1]["options"]  # the monogram's choices

    # Ours also snapshots the cost price and the personalization of each line.
    lines = list(Line.objects.filter(order=ours).order_by("pk"))
    assert [line.unit_cost_price for line in lines] == [
        line.stockrecord.cost_price for line in lines
    ]
    kinds = Counter(
        OrderLinePersonalization.objects.filter(line__order=ours).values_list("line", flat=True)
    )
    assert kinds[lines[0].pk] == 4 and kinds[lines[2].pk] == 1 and lines[1].pk not in kinds


def test_one_insert_per_table_whatever_the_lines(demo_personalization):
    create_offer()
    basket = _priced_basket(_lines())
    with CaptureQueriesContext(connection) as captured:
        order = create_order(basket=basket)
    inserts = Counter(
        q["sql"].split('"')[1] for q in captured.captured_queries if q["sql"].startswith("INSERT")
    )
    for table in (
        "order_line",
        "order_lineprice",
        "order_lineattribute",
        "order_orderlinediscount",
        "personalization_orderlinepersonalization",
    ):
        assert inserts[table] == 1, (table, inserts)
    assert order.lines.count() == 3


def test_stock_for_every_line_is_allocated_in_one_statement(demo_personalization):
    records = {product.pk: product.stockrecords.get() for product, _c, _q in _lines()}
    before = {pk: record.num_allocated or 0 for pk, record in records.items()}
    basket = _priced_basket(_lines())  # the plain product twice: 1 + 1
    with CaptureQueriesContext(connection) as captured:
        create_order(basket=basket)
    allocations = [q["sql"] for q in captured.captured_queries if "SET num_allocated" in q["sql"]]
    assert len(allocations) == 1, allocations
    tote, plain = tote_variant().pk, plain_product().pk
    after = {pk: StockRecord.objects.get(pk=r.pk).num_allocated for pk, r in records.items()}
    assert after == {tote: before[tote] + 2, plain: before[plain] + 2}


def test_concurrent_allocations_of_the_same_records_do_not_deadlock(
    transactional_db, demo_catalogue
):
    """Rows are locked in primary-key order whatever order the lines come in."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    first, second = StockRecord.objects.filter(num_in_stock__gt=0).order_by("pk")[:2]
    start = {r.pk: r.num_allocated or 0 for r in (first, second)}

    def allocate(order):
        try:
            for _ in range(25):
                with transaction.atomic():
                    records = {r.pk: r for r in StockRecord.objects.filter(pk__in=order)}
                    StockRecord.allocate_many([(records[pk], 1) for pk in order])
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = [
            pool.submit(allocate, order) for order in ([first.pk, second.pk], [second.pk, first.pk])
        ]
        for future in done:
            future.result()  # a deadlock would raise here
    for record in (first, second):
        assert StockRecord.objects.get(pk=record.pk).num_allocated == start[record.pk] + 50


def test_the_placed_order_carries_its_lines(demo_personalization, django_assert_num_queries):
    order = create_order(basket=_priced_basket(_lines()))
    with django_assert_num_queries(0):
        carried = [(line.pk, line.quantity, line.product_id) for line in order.lines.all()]
    stored = list(order.lines.order_by("pk").values_list("pk", "quantity", "product_id"))
    assert carried == stored
    assert order.total_incl_tax > Decimal("0.00")
