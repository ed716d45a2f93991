from django import forms
from oscar.apps.basket.forms import *  # noqa: F403
from oscar.apps.basket.forms import AddToBasketForm as CoreAddToBasketForm
from oscar.apps.basket.forms import SimpleAddToBasketMixin
from oscar.forms import widgets

from shop.catalogue.models import Product, ProductAttributeValue
from shop.personalization.forms import PersonalizationFieldsMixin
from shop.personalization.services import personalization_line_options


class AddToBasketForm(PersonalizationFieldsMixin, CoreAddToBasketForm):
    """Oscar's add-to-basket form plus the product's priced personalization."""

    def __init__(self, basket, product, *args, **kwargs):
        super().__init__(basket, product, *args, **kwargs)
        self.add_personalization_fields(product)

    def _create_parent_product_fields(self, product):
        """The colour picker, in three queries whatever the number of colours (Oscar's
        builds an attribute summary and a stock lookup per child)."""
        children = list(
            Product.objects.filter(parent=product, is_public=True)
            .prefetch_related("stockrecords")
            .order_by("pk")
        )
        colours = dict(
            ProductAttributeValue.objects.filter(
                product__in=children, attribute__code="colour"
            ).values_list("product_id", "value_text")
        )
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

    def clean(self):
        cleaned = super().clean()
        self.clean_personalization()
        return cleaned

    def cleaned_options(self):
        return super().cleaned_options() + personalization_line_options(self.choices)


class SimpleAddToBasketForm(SimpleAddToBasketMixin, AddToBasketForm):
    pass
