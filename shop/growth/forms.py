"""The funnel report's filters: the business reports' date range (last 30 days by default),
source, device, new or returning, RFM segment, and the dimension of the breakdown. Anything
forged is left out of the filter (the report shows everything) rather than refused."""

from __future__ import annotations

from django import forms

from shop.growth.landing import REFERRER_MAX, clean_value
from shop.growth.models import Visitor
from shop.growth.selectors import (
    DIMENSIONS,
    NO_PAID_ORDER,
    NOT_SIGNED_IN,
    VISITOR_KINDS,
    FunnelFilters,
)
from shop.reports.forms import RangeForm
from shop.reports.selectors import RFM_SEGMENT_NAMES

ANY = ("", "All")
SEGMENT_CHOICES = (*RFM_SEGMENT_NAMES, NO_PAID_ORDER, NOT_SIGNED_IN)


class FunnelFilterForm(RangeForm):
    default_preset = "last_30"

    source = forms.CharField(required=False, max_length=1000)
    device = forms.ChoiceField(required=False, choices=[ANY, *Visitor.Device.choices])
    visitor_kind = forms.ChoiceField(
        required=False,
        label="New or returning",
        choices=[ANY, *((kind, kind.capitalize()) for kind in VISITOR_KINDS)],
    )
    segment = forms.ChoiceField(
        required=False,
        label="RFM segment",
        choices=[ANY, *((name, name) for name in SEGMENT_CHOICES)],
    )
    by = forms.ChoiceField(
        required=False, label="Breakdown by", choices=list(DIMENSIONS.items()), initial="source"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preset"].initial = "last_30"
        for name in ("device", "visitor_kind", "segment", "by"):
            self.fields[name].widget.attrs["class"] = "form-control"

    def clean_source(self) -> str:
        # Sources are stored clean (shop.growth.landing): a value that is not, cannot match.
        return clean_value(self.cleaned_data.get("source") or "", REFERRER_MAX)

    def _valid(self, name: str) -> str:
        """A field's value when it is valid ("" otherwise: that filter is left out)."""
        self.is_valid()
        return getattr(self, "cleaned_data", {}).get(name) or ""

    def filters(self) -> FunnelFilters:
        start, end = self.range()
        return FunnelFilters(
            start=start,
            end=end,
            source=self._valid("source"),
            device=self._valid("device"),
            visitor_kind=self._valid("visitor_kind"),
            segment=self._valid("segment"),
        )

    def breakdown_by(self) -> str:
        return self._valid("by") or "source"
