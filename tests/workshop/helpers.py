"""Orders with personalized lines, placed the real way (basket + strategy + OrderCreator)."""

from datetime import datetime

from django.forms import BooleanField
from oscar.test.factories import create_order

from shop.basket.models import Basket
from shop.catalogue.models import Product
from shop.order.models import Order
from shop.partner.strategy import UKStrategy
from shop.personalization.rules import Choices
from shop.personalization.services import basket_add_personalized

# A tote in colour variants (bag offers: monogram with positions, hardware; class offers:
# thread and gift message) and a plain standalone product for unpersonalized lines.
TOTE = "MV-EG-TOT"
PLAIN = "MV-EG-CHF"

FULL = Choices(
    initials="MV",
    style="foil",
    position="front",
    thread="navy",
    finish="brass",
    gift_message="Happy 40th, Jo & Sam!\nWith love — from all of us",
)


def tote_variant() -> Product:
    return Product.objects.get(upc=TOTE).children.order_by("pk").first()


def plain_product() -> Product:
    return Product.objects.get(upc=PLAIN)


def place_order(
    *,
    lines: list[tuple[Product, Choices, int]],
    date_placed: datetime | None = None,
    **kwargs,
) -> Order:
    """Place an order for (product, choices, quantity) lines through OrderCreator."""
    basket = Basket.objects.create()
    basket.strategy = UKStrategy()
    for product, choices, quantity in lines:
        basket_add_personalized(basket=basket, product=product, quantity=quantity, choices=choices)
    if date_placed is not None:
        kwargs["date_placed"] = date_placed
    return create_order(basket=basket, **kwargs)


def place_personalized_order(choices: Choices = FULL, **kwargs) -> Order:
    return place_order(lines=[(tote_variant(), choices, 1)], **kwargs)


def form_post_data(*forms_or_formsets) -> dict[str, str]:
    """What a browser would post back for these (bound or unbound) forms and formsets."""
    data: dict[str, str] = {}
    for item in forms_or_formsets:
        forms = [item]
        if hasattr(item, "management_form"):
            forms = item.forms
            management = item.management_form
            for name in management.fields:
                data[management.add_prefix(name)] = str(management[name].value())
        for form in forms:
            for name, field in form.fields.items():
                value = form[name].value()
                key = form.add_prefix(name)
                if isinstance(field, BooleanField):
                    if value:
                        data[key] = "on"
                elif value is not None:
                    data[key] = str(value)
                else:
                    data[key] = ""
    return data
