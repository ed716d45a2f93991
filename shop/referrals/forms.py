"""Forms of the referral staff page."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from shop.referrals.services import CREDIT_MAX


class ProgrammeForm(forms.Form):
    enabled = forms.BooleanField(
        required=False,
        label="Programme on",
        help_text="Off: share links still lead to the shop, but nobody new joins or is credited.",
    )
    friend_credit = forms.DecimalField(
        label="Credit for the friend (£)",
        min_value=Decimal("0.00"),
        max_value=CREDIT_MAX,
        max_digits=8,
        decimal_places=2,
    )
    referrer_credit = forms.DecimalField(
        label="Credit for the customer who invited them (£)",
        min_value=Decimal("0.00"),
        max_value=CREDIT_MAX,
        max_digits=8,
        decimal_places=2,
    )
