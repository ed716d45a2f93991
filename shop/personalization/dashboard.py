"""Dashboard screens for personalization offers: list, create, edit with values, delete.

Staff say, per product class or per product, which kinds of personalization are offered,
at what surcharge, workshop cost and extra lead time, and with which values. Orders already
placed are never touched: each keeps its own snapshot (OrderLinePersonalization).

Access follows Oscar's dashboard rule (active staff); the menu entries are in
settings.OSCAR_DASHBOARD_NAVIGATION. Views are thin: forms validate, one save function writes.
"""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.core.validators import RegexValidator
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods
from oscar.views.decorators import permissions_required

from shop.catalogue.models import Product, ProductClass
from shop.common.oscar_views import IdProductSelect
from shop.common.parsing import money_ok, parse_id
from shop.personalization.models import (
    KIND_GROUPS,
    Kind,
    PersonalizationOffer,
    PersonalizationValue,
    ValueGroup,
)

# Oscar's dashboard rule: active staff. Anonymous visitors go to the dashboard login,
# signed-in customers get 403.
staff_required = permissions_required(["is_staff"], login_url=reverse_lazy("dashboard:login"))

MAX_LEAD_DAYS = 60
MONEY_ERRORS = {
    "invalid": "Enter an amount in pounds and pence, e.g. 12.50.",
    "min_value": "Enter an amount of zero or more.",
    "max_digits": "That amount is too large.",
    "max_whole_digits": "That amount is too large.",
    "max_decimal_places": "Use at most 2 decimal places (pounds and pence).",
}
LEAD_DAYS_ERRORS = {
    "invalid": "Enter a whole number of working days.",
    "min_value": "Enter zero or more working days.",
    "max_value": f"Enter at most {MAX_LEAD_DAYS} working days.",
}
HEX_VALIDATOR = RegexValidator(
    r"^#[0-9A-Fa-f]{6}\Z", "Enter a colour as # and six hex digits, e.g. #6B2C2C."
)


class MoneyField(forms.DecimalField):
    """A DecimalField that refuses NaN, sNaN and Infinity as it reads them. Django's refuses
    them only when validating, after a formset has asked each blank row whether it changed:
    comparing the initial 0.00 with Decimal("sNaN") raised InvalidOperation (a 500 on
    `values-4-surcharge=sNaN`)."""

    def to_python(self, value):
        amount = super().to_python(value)
        if amount is not None and not money_ok(amount):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return amount


def _money(label: str, help_text: str = "") -> forms.DecimalField:
    return MoneyField(
        label=label,
        help_text=help_text,
        min_value=Decimal("0"),
        max_digits=10,
        decimal_places=2,
        initial=Decimal("0.00"),
        error_messages=MONEY_ERRORS,
    )


def _lead_days(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=0,
        max_value=MAX_LEAD_DAYS,
        initial=0,
        error_messages=LEAD_DAYS_ERRORS,
    )


# --- Forms ---------------------------------------------------------------------------------


class OfferFilterForm(forms.Form):
    product_class = forms.ModelChoiceField(
        queryset=ProductClass.objects.order_by("name"), required=False, label="Product class"
    )
    q = forms.CharField(required=False, max_length=100, label="Product (title or UPC)")
    kind = forms.ChoiceField(choices=[("", "Any kind"), *Kind.choices], required=False)
    active = forms.ChoiceField(
        choices=[("", "Active or not"), ("yes", "Active"), ("no", "Inactive")], required=False
    )


class OfferMoneyFieldsMixin(forms.ModelForm):
    surcharge = _money(
        "Surcharge (GBP, incl. VAT)", "What the shopper pays for this kind of personalization."
    )
    cost = _money("Workshop cost (GBP)", "What it costs the workshop (for margin reports).")
    lead_days = _lead_days("Extra lead time (working days)")


class OfferCreateForm(OfferMoneyFieldsMixin):
    """A new offer, for a product class or for one product (exactly one of the two)."""

    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(parent__isnull=True),
        required=False,
        widget=IdProductSelect,
        label="or one product",
        help_text="An offer on a product overrides its class's offer of the same kind "
        "(colour variants take their parent's offers).",
    )

    class Meta:
        model = PersonalizationOffer
        fields = ("product_class", "product", "kind", "is_active", "surcharge", "cost", "lead_days")
        labels = {"product_class": "For a product class", "is_active": "Active"}

    def clean(self):
        cleaned = super().clean()
        product_class, product = cleaned.get("product_class"), cleaned.get("product")
        kind = cleaned.get("kind")
        if product_class and product:
            self.add_error(
                "product",
                "Choose a product class or one product, not both: an offer belongs to one.",
            )
        elif not product_class and not product:
            if "product" not in self.errors and "product_class" not in self.errors:
                self.add_error("product_class", "Choose the product class or the product.")
        elif kind:
            owner = {"product_class": product_class, "product__isnull": True}
            if product:
                owner = {"product": product, "product_class__isnull": True}
            if PersonalizationOffer.objects.filter(kind=kind, **owner).exists():
                self.add_error(
                    "kind",
                    f"{product or product_class} already has a {Kind(kind).label.lower()} "
                    "offer: edit that one instead.",
                )
        return cleaned


class OfferUpdateForm(OfferMoneyFieldsMixin):
    """An existing offer: its owner and kind stay; make a new offer to change them."""

    class Meta:
        model = PersonalizationOffer
        fields = ("is_active", "surcharge", "cost", "lead_days")
        labels = {"is_active": "Active"}


class ValueForm(forms.ModelForm):
    surcharge = _money("Extra surcharge (GBP)")
    cost = _money("Extra cost (GBP)")
    lead_days = _lead_days("Extra lead days")
    hex = forms.CharField(
        required=False, max_length=7, validators=[HEX_VALIDATOR], label="Preview colour"
    )
    display_order = forms.IntegerField(min_value=0, max_value=999, initial=0, label="Order")

    class Meta:
        model = PersonalizationValue
        fields = (
            "group",
            "code",
            "label",
            "hex",
            "surcharge",
            "cost",
            "lead_days",
            "is_active",
            "display_order",
        )
        labels = {"is_active": "Active"}
        error_messages = {
            "code": {
                "invalid": "Use lowercase letters, numbers, hyphens or underscores (no spaces)."
            }
        }

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        groups = KIND_GROUPS.get(Kind(kind), ())
        group = self.fields["group"]
        group.choices = [(g.value, g.label) for g in groups]
        if len(groups) == 1:
            # Untouched blank rows then post the initial value and stay "unchanged".
            group.initial = groups[0].value
        else:
            group.choices = [("", "Choose…"), *group.choices]
        self.fields["code"].widget.attrs.update({"size": 12, "placeholder": "code"})
        self.fields["hex"].widget.attrs.update({"size": 8, "placeholder": "#RRGGBB"})

    def clean_code(self):
        return self.cleaned_data["code"].strip().lower()

    def clean_hex(self):
        return self.cleaned_data["hex"].upper()


class BaseValueFormSet(BaseInlineFormSet):
    def clean(self):
        if any(self.errors):
            return
        seen: dict[tuple[str, str], forms.Form] = {}
        duplicates = []
        for form in self.forms:
            if not form.cleaned_data or self._should_delete_form(form):
                continue
            key = (form.cleaned_data["group"], form.cleaned_data["code"])
            if key in seen:
                label = ValueGroup(key[0]).label.lower()
                form.add_error(
                    "code", f"The code “{key[1]}” is already used by another {label} value."
                )
                duplicates.append(f"“{key[1]}” ({label})")
            else:
                seen[key] = form
        if duplicates:
            raise forms.ValidationError(
                "Each value needs its own code; used twice: " + ", ".join(duplicates) + "."
            )
        super().clean()


def value_formset(*, offer: PersonalizationOffer, data=None):
    has_values = bool(KIND_GROUPS.get(Kind(offer.kind)))
    formset_class = inlineformset_factory(
        PersonalizationOffer,
        PersonalizationValue,
        form=ValueForm,
        formset=BaseValueFormSet,
        extra=3 if has_values else 0,
        max_num=200,
        validate_max=True,
        can_delete=True,
    )
    return formset_class(
        data,
        instance=offer,
        prefix="values",
        form_kwargs={"kind": offer.kind},
        queryset=PersonalizationValue.objects.filter(offer=offer).order_by(
            "group", "display_order", "pk"
        ),
    )


# --- Writes --------------------------------------------------------------------------------


class OfferConflict(Exception):
    """Someone else saved a clashing offer or value at the same moment."""


def personalization_offer_save(*, form: forms.ModelForm, formset=None) -> PersonalizationOffer:
    """Save an offer (and its values) in one transaction. The database's constraints are the
    last word: a clash that slipped past validation (two staff at once) is an OfferConflict."""
    try:
        with transaction.atomic():
            offer = form.save()
            if formset is not None:
                formset.instance = offer
                formset.save()
    except IntegrityError as exc:
        raise OfferConflict(str(exc)) from exc
    return offer


# --- Views ---------------------------------------------------------------------------------


def offers_filtered(*, data: dict) -> tuple[OfferFilterForm, object]:
    form = OfferFilterForm(data or None)
    offers = (
        PersonalizationOffer.objects.select_related("product_class", "product")
        .annotate(value_count=Count("values"))
        .order_by(F("product__title").asc(nulls_first=True), "product_class__name", "kind", "pk")
    )
    if form.is_valid():
        if form.cleaned_data["product_class"]:
            pc = form.cleaned_data["product_class"]
            offers = offers.filter(Q(product_class=pc) | Q(product__product_class=pc))
        if q := form.cleaned_data["q"].strip():
            offers = offers.filter(Q(product__title__icontains=q) | Q(product__upc__iexact=q))
        if form.cleaned_data["kind"]:
            offers = offers.filter(kind=form.cleaned_data["kind"])
        if form.cleaned_data["active"]:
            offers = offers.filter(is_active=form.cleaned_data["active"] == "yes")
    return form, offers


@staff_required
@require_http_methods(["GET"])
def offer_list(request):
    form, offers = offers_filtered(data=request.GET)
    page = Paginator(offers, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "shop/dashboard/personalization/offer_list.html",
        {
            "form": form,
            "page_obj": page,
            "paginator": page.paginator,
            "offers": page.object_list,
            "is_filtered": any(request.GET.get(k) for k in form.fields),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def offer_create(request):
    if request.method == "POST":
        form = OfferCreateForm(request.POST)
        if form.is_valid():
            try:
                offer = personalization_offer_save(form=form)
            except OfferConflict:
                form.add_error(None, "That offer was just created by someone else.")
            else:
                messages.success(request, f"Offer created: {offer}. Now add its values.")
                return redirect("personalization-dashboard:offer-update", pk=offer.pk)
    else:
        initial = {}
        for name, model in (("product_class", ProductClass), ("product", Product)):
            value = parse_id(request.GET.get(name, ""))
            if value is not None and model.objects.filter(pk=value).exists():
                initial[name] = value
        form = OfferCreateForm(initial=initial)
    return render(request, "shop/dashboard/personalization/offer_create.html", {"form": form})


@staff_required
@require_http_methods(["GET", "POST"])
def offer_update(request, pk: int):
    offer = get_object_or_404(
        PersonalizationOffer.objects.select_related("product_class", "product"), pk=pk
    )
    if request.method == "POST":
        form = OfferUpdateForm(request.POST, instance=offer)
        formset = value_formset(offer=offer, data=request.POST)
        if form.is_valid() and formset.is_valid():
            try:
                offer = personalization_offer_save(form=form, formset=formset)
            except OfferConflict:
                form.add_error(None, "Someone else changed these values at the same time.")
            else:
                messages.success(request, f"Saved: {offer}.")
                return redirect("personalization-dashboard:offer-update", pk=offer.pk)
    else:
        form = OfferUpdateForm(instance=offer)
        formset = value_formset(offer=offer)
    return render(
        request,
        "shop/dashboard/personalization/offer_update.html",
        {"offer": offer, "form": form, "formset": formset},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def offer_delete(request, pk: int):
    offer = get_object_or_404(
        PersonalizationOffer.objects.select_related("product_class", "product"), pk=pk
    )
    if request.method == "POST":
        label = str(offer)
        offer.delete()
        messages.success(request, f"Deleted: {label}. Orders already placed are unchanged.")
        return redirect("personalization-dashboard:offer-list")
    return render(request, "shop/dashboard/personalization/offer_delete.html", {"offer": offer})
