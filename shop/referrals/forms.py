"""Forms of the referral staff page."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from shop.common.parsing import parse_money
from shop.referrals.services import CREDIT_MAX


class CreditField(forms.DecimalField):
    """Pounds and pence as typed on a keyboard: ASCII digits only (no "1e3", "NaN" or other
    scripts' digits), 0 to CREDIT_MAX, at most two decimal places."""

    def __init__(self, **kwargs):
        super().__init__(
            min_value=Decimal("0.00"),
            max_value=CREDIT_MAX,
            max_digits=8,
            decimal_places=2,
            **kwargs,
        )

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if parse_money(text[:32]) is None or len(text) > 32:
            raise forms.ValidationError("Enter an amount in pounds, such as 10 or 7.50.")
        return super().to_python(text)


class ProgrammeForm(forms.Form):
    enabled = forms.BooleanField(
        required=False,
        label="Programme on",
        help_text="Off: share links still lead to the shop, but nobody new joins or is credited.",
    )
    friend_credit = CreditField(label="Credit for the friend (£)")
    referrer_credit = CreditField(label="Credit for the customer who invited them (£)")
