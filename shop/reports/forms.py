"""Report filters: a date range from a preset or custom dates, and the staff-set figures."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone

from shop.common.parsing import clamp_date

PRESETS = (
    ("this_month", "This month"),
    ("last_30", "Last 30 days"),
    ("this_quarter", "This quarter"),
    ("last_quarter", "Last quarter"),
    ("this_year", "This year"),
    ("last_year", "Last year"),
    ("custom", "Custom dates"),
)
MAX_DAYS = 366 * 5
MAX_DAYS_BY_DAY = 370


def preset_range(preset: str, today: date) -> tuple[date, date]:
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    if preset == "this_month":
        return today.replace(day=1), today
    if preset == "last_30":
        return today - timedelta(days=29), today
    if preset == "this_quarter":
        return quarter_start, today
    if preset == "last_quarter":
        end = quarter_start - timedelta(days=1)
        return date(end.year, 3 * ((end.month - 1) // 3) + 1, 1), end
    if preset == "last_year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    return date(today.year, 1, 1), today  # this_year


class RangeForm(forms.Form):
    preset = forms.ChoiceField(choices=PRESETS, required=False, initial="this_year")
    start = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    default_preset = "this_year"

    def clean(self):
        data = super().clean()
        preset = data.get("preset") or (
            "custom" if data.get("start") or data.get("end") else self.default_preset
        )
        today = timezone.localdate()
        if preset == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError("Choose both a start and an end date.")
            # Year 9999 and the like: the reports add days to the end (an overflow).
            start, end = clamp_date(start), clamp_date(end)
        else:
            start, end = preset_range(preset, today)
        if start > end:
            raise forms.ValidationError("The start date is after the end date.")
        if (end - start).days > MAX_DAYS:
            raise forms.ValidationError("Choose a range of at most five years.")
        data.update(preset=preset, start=start, end=end)
        return data

    def range(self) -> tuple[date, date]:
        """The chosen range, or the default preset's when the form is not valid."""
        if self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        return preset_range(self.default_preset, timezone.localdate())


class ShareForm(RangeForm):
    bucket = forms.ChoiceField(
        choices=(("day", "Day"), ("week", "Week"), ("month", "Month")),
        required=False,
        initial="month",
    )

    def clean(self):
        data = super().clean()
        bucket = data.get("bucket") or "month"
        if bucket == "day" and (data["end"] - data["start"]).days > MAX_DAYS_BY_DAY:
            raise forms.ValidationError("By day, choose a range of at most a year.")
        data["bucket"] = bucket
        return data


class BaselineForm(RangeForm):
    baseline = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"type": "month"}),
        help_text="The month costs are compared with (YYYY-MM).",
    )

    def clean_baseline(self):
        raw = self.cleaned_data.get("baseline")
        if not raw:
            return None
        try:
            year, month = (int(part) for part in raw.split("-")[:2])
            return date(year, month, 1)
        except ValueError as exc:
            raise forms.ValidationError("Enter a month as YYYY-MM.") from exc


class TargetForm(forms.Form):
    share_percent = forms.DecimalField(
        label="Target online share of revenue (%)",
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        decimal_places=2,
    )
    valid_from = forms.DateField(
        label="From",
        # An <input type="date"> shows only an ISO value (the locale's format left it blank).
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        initial=timezone.localdate,
    )


class ProjectionForm(forms.Form):
    month = forms.CharField(label="Month", widget=forms.TextInput(attrs={"type": "month"}))
    revenue = forms.DecimalField(
        label="Projected Evergreen revenue (GBP excl. VAT)",
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=2,
    )

    def clean_month(self):
        try:
            year, month = (int(part) for part in self.cleaned_data["month"].split("-")[:2])
            return date(year, month, 1)
        except ValueError as exc:
            raise forms.ValidationError("Enter a month as YYYY-MM.") from exc


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV file")
    skip_bad_rows = forms.BooleanField(
        required=False,
        label="Skip bad rows",
        help_text="Import the good rows even if some rows have errors (they are listed).",
    )
