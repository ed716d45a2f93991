"""The customer's email preferences and the staff's campaign parameters."""

from __future__ import annotations

from django import forms
from django.core.validators import MaxValueValidator

from shop.lifecycle.models import Campaign
from shop.lifecycle.services import CONSENT_HELP, CONSENT_LABEL, WAIT_MAX


def consent_field() -> forms.BooleanField:
    """The opt-in checkbox (unticked unless the customer ticks it), the same words on the
    registration forms and the account page."""
    return forms.BooleanField(label=CONSENT_LABEL, help_text=CONSENT_HELP, required=False)


class WholeNumberField(forms.IntegerField):
    """A positive whole number in ASCII digits only ("٣", "³" or "1e3" are not numbers here)."""

    def to_python(self, value):
        if value not in self.empty_values:
            text = str(value).strip()
            if not text.isascii() or not text.isdigit() or len(text) > 9:
                raise forms.ValidationError("Enter a whole number.", code="invalid")
        return super().to_python(value)


class PreferencesForm(forms.Form):
    marketing_opt_in = consent_field()


class CampaignForm(forms.Form):
    """A campaign's parameters: the wait (a positive whole number, hours or days) and, for
    the win-back, the RFM segments it writes to. Anything else sent is ignored."""

    wait = WholeNumberField(min_value=1)
    segments = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Customer segments (RFM)",
        error_messages={"invalid_choice": "Choose from the customer segments listed."},
    )

    def __init__(self, *args, campaign: Campaign, **kwargs):
        from shop.reports.selectors import RFM_SEGMENT_NAMES

        self.campaign = campaign
        kwargs.setdefault("prefix", campaign.kind)
        kwargs.setdefault("initial", {"wait": campaign.wait, "segments": campaign.segments})
        super().__init__(*args, **kwargs)
        wait = self.fields["wait"]
        wait.label = campaign.wait_label
        wait.max_value = WAIT_MAX[campaign.wait_unit]
        wait.widget.attrs.update({"min": 1, "max": wait.max_value})
        wait.validators.append(MaxValueValidator(wait.max_value))
        if campaign.kind == Campaign.Kind.WIN_BACK:
            self.fields["segments"].choices = [(name, name) for name in RFM_SEGMENT_NAMES]
        else:
            del self.fields["segments"]

    def clean_segments(self) -> list[str]:
        segments = self.cleaned_data.get("segments") or []
        if not segments:
            raise forms.ValidationError("Choose one or more customer segments.")
        return segments
