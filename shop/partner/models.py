from django.db import models
from django.utils.translation import gettext_lazy as _
from oscar.apps.partner.abstract_models import AbstractStockRecord


class StockRecord(AbstractStockRecord):
    # Oscar 4 dropped cost price; the reports need it. The order line snapshots it at placement.
    cost_price = models.DecimalField(
        _("Cost price"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("What one unit costs the workshop to make (materials and labour), in GBP."),
    )

    class Meta(AbstractStockRecord.Meta):
        pass


from oscar.apps.partner.models import *  # noqa: E402,F403
