"""Oscar fork of dashboard.catalogue.forms: the stock record form (the product page's "Stock
and pricing" tab) also edits the cost price, which the reports read (every change is kept with
its date in the cost price history, shop.reports). Everything else is Oscar's."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from oscar.apps.dashboard.catalogue.forms import *  # noqa: F403 (the module Oscar loads)
from oscar.apps.dashboard.catalogue.forms import StockRecordForm as OscarStockRecordForm


class StockRecordForm(OscarStockRecordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["cost_price"]
        field.widget.attrs.update(min="0", step="0.01")
        field.validators.append(
            MinValueValidator(Decimal("0"), message="A cost price cannot be negative.")
        )

    class Meta(OscarStockRecordForm.Meta):
        fields = [*OscarStockRecordForm.Meta.fields, "cost_price"]
