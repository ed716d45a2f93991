"""The experiment form: plain text only, a strict "key:weight" list of variants."""

from __future__ import annotations

import re

from django import forms
from django.utils import timezone

from shop.experiments.models import (
    CONTROL,
    KEY_MAX,
    NAME_MAX,
    SLUG_RE,
    WEIGHT_MAX,
    Experiment,
)
from shop.experiments.services import VariantSpec
from shop.reports.selectors import RFM_SEGMENT_NAMES

MAX_VARIANTS = 6
# HTML, control characters (NUL included) and the invisible direction marks (RTL overrides).
_NOT_PLAIN = re.compile(r"[<>\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SLUG = re.compile(SLUG_RE)
_LINE = re.compile(r"^([^:]*):\s*([0-9]{1,4})\s*(?::(.*))?$")
PLAIN_ERROR = "Use plain text: no HTML, control characters or direction marks."
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


def plain(value: str) -> str:
    if _NOT_PLAIN.search(value):
        raise forms.ValidationError(PLAIN_ERROR)
    return value.strip()


def parse_variants(text: str) -> list[VariantSpec]:
    """One variant a line, "key:weight" or "key:weight:label", control first."""
    lines = [line.strip() for line in text.replace("\r", "").split("\n") if line.strip()]
    if len(lines) < 2:
        raise forms.ValidationError("Give the control and at least one variant, one a line.")
    if len(lines) > MAX_VARIANTS:
        raise forms.ValidationError(f"At most {MAX_VARIANTS} variants.")
    specs: list[VariantSpec] = []
    for number, line in enumerate(lines, start=1):
        match = _LINE.match(line)
        if not match:
            raise forms.ValidationError(
                f"Line {number}: write key:weight (e.g. promise:50), optionally :label."
            )
        key, weight, label = match.group(1).strip(), int(match.group(2)), match.group(3) or ""
        if len(key) > KEY_MAX or not _SLUG.match(key):
            raise forms.ValidationError(
                f"Line {number}: a key is up to {KEY_MAX} lower-case letters, digits and hyphens."
            )
        if not 1 <= weight <= WEIGHT_MAX:
            raise forms.ValidationError(
                f"Line {number}: a weight is a whole number from 1 to {WEIGHT_MAX}."
            )
        if _NOT_PLAIN.search(label) or len(label) > 80:
            raise forms.ValidationError(
                f"Line {number}: a label is up to 80 characters of plain text."
            )
        if key in {spec.key for spec in specs}:
            raise forms.ValidationError(f"Line {number}: the key {key} is there twice.")
        specs.append(VariantSpec(key=key, weight=weight, label=label.strip()))
    if specs[0].key != CONTROL:
        raise forms.ValidationError("The first line must be the control: control:<weight>.")
    return specs


def variants_text(experiment: Experiment) -> str:
    return "\n".join(
        f"{v.key}:{v.weight}" + (f":{v.label}" if v.label else "")
        for v in experiment.variants.all()
    )


class ExperimentForm(forms.Form):
    name = forms.CharField(
        max_length=NAME_MAX,
        help_text="Lower-case letters, digits and hyphens; templates ask for it by this name.",
    )
    title = forms.CharField(max_length=120)
    description = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    audience = forms.ChoiceField(choices=Experiment.Audience.choices)
    segment = forms.ChoiceField(
        choices=[("", "—"), *[(name, name) for name in RFM_SEGMENT_NAMES]],
        required=False,
        label="RFM segment",
        help_text="Only for the audience “Customers in one RFM segment”.",
    )
    goal = forms.ChoiceField(
        choices=Experiment._meta.get_field("goal").choices, label="Goal step of the funnel"
    )
    starts_at = forms.DateTimeField(
        required=False,
        input_formats=DATETIME_FORMATS,
        label="Start",
        help_text="Empty: when you press Start.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    ends_at = forms.DateTimeField(
        required=False,
        input_formats=DATETIME_FORMATS,
        label="Stop",
        help_text="Empty: when you press Stop.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    variants = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Variants with weights",
        help_text=(
            "One a line as key:weight or key:weight:label, the control first, e.g. "
            "“control:50:As today” then “promise:50:Promise shown”. Weights 1–1000."
        ),
    )

    LOCKED_WHEN_STARTED = ("name", "audience", "segment", "goal", "starts_at", "variants")

    def __init__(self, *args, experiment: Experiment | None = None, **kwargs):
        self.experiment = experiment
        if experiment is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": experiment.name,
                "title": experiment.title,
                "description": experiment.description,
                "audience": experiment.audience,
                "segment": experiment.segment,
                "goal": experiment.goal,
                "starts_at": experiment.starts_at and timezone.localtime(experiment.starts_at),
                "ends_at": experiment.ends_at and timezone.localtime(experiment.ends_at),
                "variants": variants_text(experiment),
            }
        super().__init__(*args, **kwargs)
        if experiment is not None and experiment.status != Experiment.Status.DRAFT:
            for name in self.LOCKED_WHEN_STARTED:
                self.fields[name].disabled = True
            if experiment.status == Experiment.Status.STOPPED:
                self.fields["ends_at"].disabled = True

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not _SLUG.match(name):
            raise forms.ValidationError(
                "Use lower-case letters, digits and single hyphens (e.g. takeback-promise)."
            )
        taken = Experiment.objects.filter(name=name)
        if self.experiment is not None:
            taken = taken.exclude(pk=self.experiment.pk)
        if taken.exists():
            raise forms.ValidationError("An experiment with this name exists already.")
        return name

    def clean_title(self) -> str:
        return plain(self.cleaned_data["title"])

    def clean_description(self) -> str:
        return plain(self.cleaned_data["description"])

    def _moment(self, name: str):
        value = self.cleaned_data.get(name)
        if value is not None and not 2000 <= value.year <= 2100:
            raise forms.ValidationError("Give a date between 2000 and 2100.")
        return value

    def clean_starts_at(self):
        return self._moment("starts_at")

    def clean_ends_at(self):
        return self._moment("ends_at")

    def clean_variants(self) -> list[VariantSpec]:
        return parse_variants(plain(self.cleaned_data["variants"]))

    def clean(self):
        data = super().clean()
        if data.get("audience") == Experiment.Audience.SEGMENT and not data.get("segment"):
            self.add_error("segment", "Choose the segment the test is for.")
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "The stop must come after the start.")
        return data
