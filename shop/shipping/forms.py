from decimal import Decimal

from django import forms
from django.utils import timezone

from shop.shipping.selectors import shipping_methods


class ParcelCostForm(forms.Form):
    shipping_code = forms.ChoiceField(label="Shipping method", choices=())
    cost = forms.DecimalField(
        label="Cost of one parcel (GBP excl. VAT)",
        min_value=Decimal("0"),
        max_digits=8,
        decimal_places=2,
    )
    valid_from = forms.DateField(
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        initial=timezone.localdate,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shipping_code"].choices = shipping_methods()
