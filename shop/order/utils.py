from django.conf import settings
from django.utils import timezone
from oscar.apps.order import exceptions
from oscar.apps.order.utils import OrderCreator as CoreOrderCreator
from oscar.apps.order.utils import OrderNumberGenerator  # noqa: F401
from oscar.core.loading import get_model

from shop.order.selectors import promised_dispatch_date
from shop.personalization.services import order_lines_personalization_snapshot

Line = get_model("order", "Line")
LinePrice = get_model("order", "LinePrice")
LineAttribute = get_model("order", "LineAttribute")
LineDiscount = get_model("order", "OrderLineDiscount")
StockRecord = get_model("partner", "StockRecord")


class OrderCreator(CoreOrderCreator):
    """Oscar's order creation, with the lines written together: Oscar saves each line, then
    its prices, options and discounts, one statement each; here `create_line_models` only
    builds the line; Oscar's first stock allocation (it allocates only after building every
    line) writes every line, then every price, option, discount and personalization
    snapshot, one insert per table, and allocates stock for all lines in one statement. No
    receiver listens to the saving of these rows."""

    def place_order(self, basket, *args, **kwargs):
        # The date promised at checkout: stock lead time plus the longest personalization
        # lead time among the lines (as their snapshots will record it), in working days
        # from placement; written with the order, not after it.
        from shop.personalization.selectors import line_quote

        placed = kwargs.get("date_placed") or timezone.now()
        kwargs["date_placed"] = placed
        kwargs["promised_dispatch_date"] = promised_dispatch_date(
            placed=placed, lead_days=(line_quote(line).lead_days for line in basket.all_lines())
        )
        self._unsaved_lines = []
        order = super().place_order(basket, *args, **kwargs)
        if self._unsaved_lines:  # pragma: no cover - Oscar allocates after every line
            raise exceptions.UnableToPlaceOrder("Order lines were built but not written")
        return order

    def create_line_models(self, order, basket_line, extra_line_fields=None):
        """Oscar's line, built (not saved) from the basket line, with the stock record's cost
        price as it stands now (later cost changes never rewrite history)."""
        product = basket_line.product
        stockrecord = basket_line.stockrecord
        if not stockrecord:
            raise exceptions.UnableToPlaceOrder(f"Basket line #{basket_line.id} has no stockrecord")
        partner = stockrecord.partner
        fields = dict(
            order=order,
            partner=partner,
            partner_name=partner.name,
            partner_sku=stockrecord.partner_sku,
            stockrecord=stockrecord,
            product=product,
            title=product.get_title(),
            upc=product.upc,
            quantity=basket_line.quantity,
            line_price_excl_tax=basket_line.line_price_excl_tax_incl_discounts,
            line_price_incl_tax=basket_line.line_price_incl_tax_incl_discounts,
            line_price_before_discounts_excl_tax=basket_line.line_price_excl_tax,
            line_price_before_discounts_incl_tax=basket_line.line_price_incl_tax,
            unit_price_incl_tax=basket_line.unit_price_incl_tax,
            unit_price_excl_tax=basket_line.unit_price_excl_tax,
            tax_code=basket_line.tax_code,
            num_allocated=basket_line.quantity,
            unit_cost_price=stockrecord.cost_price,
        )
        if hasattr(settings, "OSCAR_INITIAL_LINE_STATUS"):
            fields["status"] = settings.OSCAR_INITIAL_LINE_STATUS
        fields.update(extra_line_fields or {})
        line = Line(**fields)
        self._unsaved_lines.append((line, basket_line))
        return line

    def update_stock_records(self, line):
        """Oscar calls this for each line once every line is built: the first call writes
        the lines and allocates stock for all of them in one statement (see
        StockRecord.allocate_many), the others find nothing left to do."""
        if self._unsaved_lines:
            basket_lines = [basket_line for _, basket_line in self._unsaved_lines]
            self._lines_insert()
            # Records of products that do not track stock are skipped there.
            StockRecord.allocate_many(
                (basket_line.stockrecord, basket_line.quantity) for basket_line in basket_lines
            )

    def _lines_insert(self) -> None:
        pairs, self._unsaved_lines = self._unsaved_lines, []
        order = pairs[0][0].order
        Line.objects.bulk_create([line for line, _ in pairs])
        prices, options, discounts = [], [], []
        # Each line's offer discounts against the order's discount for that offer (Oscar
        # looked each one up; an offer without an order discount is not recorded per line).
        offer_ids = {d.offer.id for _, b in pairs for d in b.discounts if d.offer}
        order_discounts = {}
        if offer_ids:
            for discount in order.discounts.filter(offer_id__in=offer_ids).order_by("pk"):
                order_discounts.setdefault(discount.offer_id, discount)
        for line, basket_line in pairs:
            for price_incl_tax, price_excl_tax, quantity in basket_line.get_price_breakdown():
                prices.append(
                    LinePrice(
                        order=order,
                        line=line,
                        quantity=quantity,
                        price_incl_tax=price_incl_tax,
                        price_excl_tax=price_excl_tax,
                        tax_code=basket_line.tax_code,
                    )
                )
            for attribute in basket_line.attributes.all():
                options.append(
                    LineAttribute(
                        line=line,
                        option=attribute.option,
                        type=attribute.option.code,
                        value=attribute.value,
                    )
                )
            for discount in basket_line.discounts:
                order_discount = discount.offer and order_discounts.get(discount.offer.id)
                if order_discount:
                    discounts.append(
                        LineDiscount(
                            line=line,
                            order_discount=order_discount,
                            is_incl_tax=discount.incl_tax,
                            amount=discount.amount,
                        )
                    )
        LinePrice.objects.bulk_create(prices)
        LineAttribute.objects.bulk_create(options)
        LineDiscount.objects.bulk_create(discounts)
        order_lines_personalization_snapshot(lines=pairs)
        # The order's lines as written: settling the payment and the purchase counters read
        # them from here instead of the database.
        lines = order.lines.all()
        lines._result_cache = [line for line, _ in pairs]
        lines._prefetch_done = True
        order.__dict__.setdefault("_prefetched_objects_cache", {})["lines"] = lines
