from django.utils import timezone
from oscar.apps.order.utils import OrderCreator as CoreOrderCreator
from oscar.apps.order.utils import OrderNumberGenerator  # noqa: F401

from shop.common.workdays import dispatch_date
from shop.personalization.services import order_lines_personalization_snapshot


class OrderCreator(CoreOrderCreator):
    def place_order(self, basket, *args, **kwargs):
        # The date promised at checkout: stock lead time plus the longest personalization
        # lead time among the lines (as their snapshots will record it), in working days
        # from placement; written with the order, not after it.
        from shop.personalization.selectors import line_quote

        placed = kwargs.get("date_placed") or timezone.now()
        lead = max((line_quote(line).lead_days for line in basket.all_lines()), default=0)
        kwargs["date_placed"] = placed
        kwargs["promised_dispatch_date"] = dispatch_date(extra_days=lead, now=placed)
        self._personalized_lines = []
        order = super().place_order(basket, *args, **kwargs)
        # Every line's personalization in one insert, once the lines exist.
        order_lines_personalization_snapshot(lines=self._personalized_lines)
        return order

    def create_line_models(self, order, basket_line, extra_line_fields=None):
        extra_line_fields = dict(extra_line_fields or {})
        stockrecord = basket_line.stockrecord
        if stockrecord is not None:
            extra_line_fields.setdefault("unit_cost_price", stockrecord.cost_price)
        return super().create_line_models(order, basket_line, extra_line_fields)

    def create_additional_line_models(self, order, order_line, basket_line):
        super().create_additional_line_models(order, order_line, basket_line)
        self._personalized_lines.append((order_line, basket_line))
