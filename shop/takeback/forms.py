"""Forms for the take-back screens: they parse and check input; rules live in services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from shop.catalogue.models import Product
from shop.takeback.models import Condition, Grade, Route, TakeBack
from shop.takeback.photos import photo_check


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Zero or more photos, each a JPEG, PNG or WebP (by content) under the size limit."""

    widget = MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        files = [super(PhotosField, self).clean(f, initial) for f in files if f]
        if len(files) > settings.TAKEBACK_PHOTOS_MAX:
            raise ValidationError(f"Please send at most {settings.TAKEBACK_PHOTOS_MAX} photos.")
        errors = []
        for upload in files:
            try:
                photo_check(upload)
            except ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise ValidationError(errors)
        return files


CONDITION_CHOICES = [("", "Choose its condition")] + list(Condition.choices)


class OtherItemForm(forms.Form):
    """An item bought in a boutique or received as a gift (optional part of the page)."""

    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(
            structure__in=[Product.PARENT, Product.STANDALONE], is_public=True
        ).order_by("title"),
        required=False,
        empty_label="Choose the product",
        label="Product",
    )
    source = forms.ChoiceField(
        choices=[c for c in TakeBack.Source.choices if c[0] != TakeBack.Source.ONLINE],
        required=False,
        label="Where it came from",
    )
    purchase_year = forms.IntegerField(
        required=False,
        min_value=1962,
        label="Year bought (about)",
        help_text="An approximate year is fine.",
    )
    condition = forms.ChoiceField(choices=CONDITION_CHOICES, required=False, label="Condition")
    notes = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Anything we should know",
    )
    photos = PhotosField(
        label="Photos (optional)",
        help_text="Up to 6 JPEG, PNG or WebP photos, 8 MB each.",
    )

    def clean_purchase_year(self):
        year = self.cleaned_data.get("purchase_year")
        if year and year > timezone.now().year:
            raise ValidationError("That year has not happened yet.")
        return year

    def clean(self):
        data = super().clean()
        if data.get("product"):
            if not data.get("condition"):
                self.add_error("condition", "Please describe its condition.")
            if not data.get("source"):
                self.add_error("source", "Please say where it came from.")
        elif data.get("condition") or data.get("notes") or data.get("photos"):
            self.add_error("product", "Please choose the product you are sending back.")
        return data


class PhotosForm(forms.Form):
    photos = PhotosField(label="Add photos", help_text="JPEG, PNG or WebP, 8 MB each.")


class TermsForm(forms.Form):
    terms = forms.BooleanField(
        required=True,
        label="I accept the take-back terms",
        error_messages={"required": "Please accept the take-back terms to continue."},
    )


class OfferAnswerForm(forms.Form):
    answer = forms.ChoiceField(choices=[("accept", "Accept"), ("decline", "Decline")])
    decline_choice = forms.ChoiceField(
        choices=TakeBack.DeclineChoice.choices, required=False, widget=forms.RadioSelect
    )


# --- Staff ---


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("open", "Open (not finished)"), ("", "All")]
        + list(TakeBack.STAFF_LABELS.items()),
        required=False,
    )
    # Up to 100 years: beyond that the date it stands for does not exist.
    age_days = forms.IntegerField(
        required=False, min_value=1, max_value=36_500, label="Older than (days)"
    )
    product = forms.CharField(required=False, max_length=100)
    condition = forms.ChoiceField(choices=[("", "Any")] + list(Condition.choices), required=False)
    q = forms.CharField(required=False, max_length=100, label="Customer or tracking number")


class ReceiveForm(forms.Form):
    tracking_number = forms.CharField(max_length=40, label="Tracking number")
    note = forms.CharField(max_length=500, required=False)


class GradeForm(forms.Form):
    grade = forms.ChoiceField(choices=Grade.choices, widget=forms.RadioSelect)
    route = forms.ChoiceField(choices=Route.choices, label="End-of-life route")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    photos = PhotosField(label="Photos")


class ApproveForm(forms.Form):
    amount = forms.DecimalField(min_value=Decimal("0"), max_digits=10, decimal_places=2)
    note = forms.CharField(max_length=500, required=False)


class PublishForm(forms.Form):
    """Publish a graded take-back as a pre-loved piece: the price (within the resale rule;
    the service refuses anything else with the limits), the photos made public, the
    workshop's repair work."""

    price = forms.DecimalField(max_digits=10, decimal_places=2, label="Price (£, incl. VAT)")
    photos = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Photos to publish (copies, resized, without metadata)",
    )
    repair_note = forms.CharField(
        max_length=2000,
        required=False,
        label="Repaired in our workshop (shown to shoppers)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, takeback=None, **kwargs):
        super().__init__(*args, **kwargs)
        photos = takeback.photos.all() if takeback is not None else []
        self.fields["photos"].choices = [
            (photo.pk, f"{photo.get_kind_display()} photo {i}")
            for i, photo in enumerate(photos, start=1)
        ]


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class CloseForm(forms.Form):
    note = forms.CharField(max_length=500, required=False)


class BulkForm(forms.Form):
    ACTIONS = [
        ("receive", "Mark received"),
        ("approve", "Approve proposed credit"),
        ("close", "Close (credit issued)"),
        ("reject", "Reject"),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[])
    reason = forms.CharField(max_length=1000, required=False)

    def __init__(self, *args, ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].choices = [(i, i) for i in ids]

    def clean(self):
        data = super().clean()
        if data.get("action") == "reject" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Please give the customers a reason for the rejection.")
        return data


class ResaleRuleForm(forms.Form):
    grade = forms.ChoiceField(choices=[("A", "A — like new"), ("B", "B — refurbish")])
    min_share = forms.IntegerField(label="Lowest price (% of new)", min_value=1, max_value=100)
    max_share = forms.IntegerField(label="Highest price (% of new)", min_value=1, max_value=100)


class RuleForm(forms.Form):
    scope = forms.ChoiceField(
        choices=[("default", "Default"), ("class", "Product class"), ("product", "Product")]
    )
    product_class = forms.ModelChoiceField(queryset=None, required=False, label="Product class")
    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(
            structure__in=[Product.PARENT, Product.STANDALONE]
        ).order_by("title"),
        required=False,
    )
    grade = forms.ChoiceField(choices=Grade.choices)
    min_amount = forms.DecimalField(min_value=Decimal("0"), max_digits=10, decimal_places=2)
    max_amount = forms.DecimalField(min_value=Decimal("0"), max_digits=10, decimal_places=2)

    def __init__(self, *args, **kwargs):
        from shop.catalogue.models import ProductClass

        super().__init__(*args, **kwargs)
        self.fields["product_class"].queryset = ProductClass.objects.order_by("name")

    def clean(self):
        data = super().clean()
        scope = data.get("scope")
        if scope == "class" and not data.get("product_class"):
            self.add_error("product_class", "Choose the product class.")
        if scope == "product" and not data.get("product"):
            self.add_error("product", "Choose the product.")
        low, high = data.get("min_amount"), data.get("max_amount")
        if low is not None and high is not None and high < low:
            self.add_error("max_amount", "The maximum must be at least the minimum.")
        return data


class PolicyForm(forms.Form):
    reminder_days = forms.IntegerField(min_value=1, max_value=365)
    expiry_days = forms.IntegerField(min_value=2, max_value=365)
    offer_days = forms.IntegerField(min_value=1, max_value=365)

    def clean(self):
        data = super().clean()
        if data.get("reminder_days") and data.get("expiry_days"):
            if data["reminder_days"] >= data["expiry_days"]:
                self.add_error("expiry_days", "The expiry must come after the reminder.")
        return data


class WeightForm(forms.Form):
    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(
            structure__in=[Product.PARENT, Product.STANDALONE]
        ).order_by("title")
    )
    leather_kg = forms.DecimalField(min_value=Decimal("0.001"), max_digits=6, decimal_places=3)
