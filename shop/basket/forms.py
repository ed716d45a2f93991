from oscar.apps.basket.forms import *  # noqa: F403
from oscar.apps.basket.forms import AddToBasketForm as CoreAddToBasketForm
from oscar.apps.basket.forms import SimpleAddToBasketMixin

from shop.personalization.forms import PersonalizationFieldsMixin
from shop.personalization.services import personalization_line_options


class AddToBasketForm(PersonalizationFieldsMixin, CoreAddToBasketForm):
    """Oscar's add-to-basket form plus the product's priced personalization."""

    def __init__(self, basket, product, *args, **kwargs):
        super().__init__(basket, product, *args, **kwargs)
        self.add_personalization_fields(product)

    def clean(self):
        cleaned = super().clean()
        self.clean_personalization()
        return cleaned

    def cleaned_options(self):
        return super().cleaned_options() + personalization_line_options(self.choices)


class SimpleAddToBasketForm(SimpleAddToBasketMixin, AddToBasketForm):
    pass
