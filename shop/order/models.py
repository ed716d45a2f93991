from django.db import models
from django.utils.translation import gettext_lazy as _
from oscar.apps.order.abstract_models import AbstractLine


class Line(AbstractLine):
    # Snapshot of the stock record's cost price when the order was placed, so that later
    # cost changes never rewrite history. Null when the stock record had no cost recorded.
    unit_cost_price = models.DecimalField(
        _("Unit cost price"), max_digits=12, decimal_places=2, null=True, blank=True
    )

    class Meta(AbstractLine.Meta):
        pass


from oscar.apps.order.models import *  # noqa: E402,F403
