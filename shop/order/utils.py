from django.db.models import Max
from oscar.apps.order.utils import OrderCreator as CoreOrderCreator
from oscar.apps.order.utils import OrderNumberGenerator  # noqa: F401

from shop.common.workdays import dispatch_date


class OrderCreator(CoreOrderCreator):
    def place_order(self, *args, **kwargs):
        order = super().place_order(*args, **kwargs)
        # The date promised at checkout: stock lead time plus the longest personalization
        # lead time among the lines, in working days from placement.
        lead = order.lines.aggregate(days=Max("personalizations__lead_days"))["days"] or 0
        order.promised_dispatch_date = dispatch_date(extra_days=lead, now=order.date_placed)
        order.save(update_fields=["promised_dispatch_date"])
        return order

    def create_line_models(self, order, basket_line, extra_line_fields=None):
        extra_line_fields = dict(extra_line_fields or {})
        stockrecord = basket_line.stockrecord
        if stockrecord is not None:
            extra_line_fields.setdefault("unit_cost_price", stockrecord.cost_price)
        return super().create_line_models(order, basket_line, extra_line_fields)

    def create_additional_line_models(self, order, order_line, basket_line):
        super().create_additional_line_models(order, order_line, basket_line)
        from shop.personalization.services import order_line_personalization_snapshot

        order_line_personalization_snapshot(order_line=order_line, basket_line=basket_line)
