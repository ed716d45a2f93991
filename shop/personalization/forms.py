"""The personalization fields, built from what the product offers; rules in rules.py."""

from django import forms

from shop.personalization import selectors
from shop.personalization.models import Kind, ValueGroup
from shop.personalization.rules import MAX_GIFT_MESSAGE, Choices, PersonalizationError, quote
from shop.personalization.services import personalization_validate

FIELDS = ("initials", "style", "position", "thread", "finish", "gift_message")


def _choices(offer, group: str, blank: str) -> list[tuple[str, str]]:
    values = offer.values.get(group, {}).values() if offer else ()
    return [("", blank)] + [(v.code, v.label) for v in values]


class PersonalizationFieldsMixin:
    """Adds the personalization fields a product offers to a form; validates them with the
    shop's rules in `clean()` and leaves the result in `self.choices`."""

    def add_personalization_fields(self, product, initial: Choices | None = None) -> None:
        self.personalization_product = product
        self.offers = selectors.offers_for_product(product=product)
        self.choices = Choices()
        initial = initial or Choices()
        monogram = self.offers.get(Kind.MONOGRAM)
        if monogram:
            self.fields["initials"] = forms.CharField(
                label="Monogram initials",
                required=False,
                max_length=12,
                initial=initial.initials,
                help_text="Up to 3 letters, A to Z.",
                widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": 5, "size": 5}),
            )
            self.fields["style"] = forms.ChoiceField(
                label="Monogram style",
                required=False,
                initial=initial.style,
                choices=_choices(monogram, ValueGroup.STYLE, "Choose a style"),
            )
            if monogram.values.get(ValueGroup.POSITION):
                self.fields["position"] = forms.ChoiceField(
                    label="Position",
                    required=False,
                    initial=initial.position,
                    choices=_choices(monogram, ValueGroup.POSITION, "Choose a position"),
                )
        if Kind.THREAD in self.offers:
            self.fields["thread"] = forms.ChoiceField(
                label="Thread colour",
                required=False,
                initial=initial.thread,
                choices=_choices(self.offers[Kind.THREAD], ValueGroup.COLOUR, "Natural (standard)"),
            )
        if Kind.HARDWARE in self.offers:
            self.fields["finish"] = forms.ChoiceField(
                label="Hardware finish",
                required=False,
                initial=initial.finish,
                choices=_choices(self.offers[Kind.HARDWARE], ValueGroup.FINISH, "Standard"),
            )
        if Kind.GIFT_MESSAGE in self.offers:
            self.fields["gift_message"] = forms.CharField(
                label="Gift message",
                required=False,
                max_length=MAX_GIFT_MESSAGE * 3,  # the rules give the exact message
                initial=initial.gift_message,
                help_text=f"Printed on a card, up to {MAX_GIFT_MESSAGE} characters.",
                widget=forms.Textarea(attrs={"rows": 3, "maxlength": MAX_GIFT_MESSAGE}),
            )
        if self.offers:
            self.fields["quoted_surcharge"] = forms.CharField(
                required=False, max_length=20, widget=forms.HiddenInput()
            )

    @property
    def is_personalizable(self) -> bool:
        return bool(self.offers)

    def clean_personalization(self) -> None:
        if not self.offers:
            return
        data = {name: self.data.get(name, "") for name in FIELDS}
        try:
            self.choices = personalization_validate(
                product=self.personalization_product,
                data=data,
                quoted_surcharge=self.data.get("quoted_surcharge", ""),
            )
        except PersonalizationError as exc:
            for name, message in exc.errors.items():
                field = name if name in self.fields else None
                self.add_error(field, message)

    def personalization_quote(self):
        return quote(offers=self.offers, choices=self.choices)


class LinePersonalizationForm(PersonalizationFieldsMixin, forms.Form):
    """Change the choices on a basket line."""

    def __init__(self, *args, product, initial_choices: Choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_personalization_fields(product, initial=initial_choices)

    def clean(self):
        cleaned = super().clean()
        self.clean_personalization()
        return cleaned
