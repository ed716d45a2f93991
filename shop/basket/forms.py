from django import forms
from django.db.models import OuterRef, Subquery
from oscar.apps.basket.forms import *  # noqa: F403
from oscar.apps.basket.forms import AddToBasketForm as CoreAddToBasketForm
from oscar.apps.basket.forms import SimpleAddToBasketMixin
from oscar.forms import widgets

from shop.catalogue.models import Product, ProductAttributeValue
from shop.personalization.forms import PersonalizationFieldsMixin
from shop.personalization.selectors import offers_for_products
from shop.personalization.services import personalization_line_options


class AddToBasketForm(PersonalizationFieldsMixin, CoreAddToBasketForm):
    """Oscar's add-to-basket form plus the product's priced personalization."""

    def __init__(self, basket, product, *args, **kwargs):
        super().__init__(basket, product, *args, **kwargs)
        if hasattr(basket, "offers_memo"):  # the basket's lines may know this product's offers
            offers_for_products(products=[product], memo=basket.offers_memo)
        self.add_personalization_fields(product)

    def _create_parent_product_fields(self, product):
        """The colour picker, in two queries whatever the number of colours (Oscar's
        builds an attribute summary and a stock lookup per child)."""
        colour = ProductAttributeValue.objects.filter(
            product=OuterRef("pk"), attribute__code="colour"
        ).values("value_text")[:1]
        children = list(
            Product.objects.filter(parent=product, is_public=True)
            .annotate(colour_label=Subquery(colour))
            .prefetch_related("stockrecords")
            .order_by("pk")
        )
        colours = {child.pk: child.colour_label for child in children}
        self._public_children = {child.pk: child for child in children}
        choices, disabled = [], []
        for child in children:
            child.parent = product
            if not self.basket.strategy.fetch_for_product(child).availability.is_available_to_buy:
                disabled.append(child.pk)
            choices.append((child.pk, colours.get(child.pk) or child.get_title()))
        self.fields["child_id"] = forms.ChoiceField(
            choices=tuple(choices),
            label="Colour",
            widget=widgets.AdvancedSelect(disabled_values=disabled),
        )

    def clean_child_id(self):
        """The chosen colour, from the children the picker loaded (with their stock
        records): Oscar reads it again, then its stock."""
        try:
            child = self._public_children[int(self.cleaned_data["child_id"])]
        except (KeyError, TypeError, ValueError):
            raise forms.ValidationError("Please select a valid product") from None
        self.child_product = child
        return self.cleaned_data["child_id"]

    def clean(self):
        cleaned = super().clean()
        self.clean_personalization()
        return cleaned

    def cleaned_options(self):
        # Oscar's own options only when the product has any (the add view annotates it).
        own = super().cleaned_options() if self.parent_product.has_options else []
        return own + personalization_line_options(self.choices)


class SimpleAddToBasketForm(SimpleAddToBasketMixin, AddToBasketForm):
    pass
