"""Writes for personalization: basket lines with choices, and the snapshot on order lines."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction

from shop.common.parsing import parse_money
from shop.partner.strategy import with_surcharge
from shop.personalization import selectors
from shop.personalization.models import (
    OrderLinePersonalization,
    PersonalizationOffer,
    PersonalizationValue,
)
from shop.personalization.rules import Choices, PersonalizationError, quote, validate


def personalization_validate(
    *, product, data: dict[str, str], quoted_surcharge: str = ""
) -> Choices:
    """Validate what the product page sent; refuse a price the page showed that is not ours.

    `quoted_surcharge` is the surcharge the page displayed (kept current by the page's
    script); when it is sent and differs from ours, the shopper is asked to check again.
    """
    offers = selectors.offers_for_product(product=product)
    choices = validate(offers=offers, data=data)
    if quoted_surcharge:
        expected = quote(offers=offers, choices=choices).surcharge
        # Not a plain amount (sNaN, NaN, Infinity, 1e999): as wrong as a different price.
        shown = parse_money(quoted_surcharge)
        if shown is None or shown != expected:
            raise PersonalizationError(
                {
                    "__all__": "The price shown does not match our price for these choices. "
                    "Please check the total and add it again."
                }
            )
    return choices


def personalization_line_options(choices: Choices) -> list[dict]:
    """The Oscar line options that carry these choices (none when nothing was chosen)."""
    if choices.is_empty():
        return []
    return [{"option": selectors.personalization_option(), "value": choices.as_line_value()}]


def basket_add_personalized(*, basket, product, quantity: int, choices: Choices):
    """Add a product with its choices: the same choices merge into one line, others don't."""
    return basket.add_product(product, quantity, options=personalization_line_options(choices))


def basket_line_personalize(*, basket, line, choices: Choices):
    """Change the choices on a basket line without losing it. If another line already holds
    the same product with the same choices, the two merge. Returns the line that remains."""
    with transaction.atomic():
        line = basket.lines.select_for_update().get(pk=line.pk)
        options = personalization_line_options(choices)
        reference = basket._create_line_reference(line.product, line.stockrecord, options)
        twin = basket.lines.filter(line_reference=reference).exclude(pk=line.pk).first()
        if twin is not None:
            twin.quantity += line.quantity
            twin.save(update_fields=["quantity"])
            line.delete()
            result = twin
        else:
            line.attributes.all().delete()
            for option in options:
                line.attributes.create(option=option["option"], value=option["value"])
            line.line_reference = reference
            # Record the new unit price, as Oscar does on adding, so no "price changed" notice.
            price = with_surcharge(
                basket.strategy.fetch_for_product(line.product),
                quote(
                    offers=selectors.offers_for_product(product=line.product), choices=choices
                ).surcharge,
            ).price
            line.price_excl_tax, line.price_incl_tax = price.excl_tax, price.incl_tax
            line.save(update_fields=["line_reference", "price_excl_tax", "price_incl_tax"])
            result = line
        basket.reset_offer_applications()
        basket._lines = None
    return result


def order_lines_personalization_snapshot(*, lines: Iterable[tuple[Any, Any]]) -> None:
    """Copy each (order line, basket line) pair's priced choices onto the order line as they
    stand now (never recomputed): one insert for all the order's lines."""
    OrderLinePersonalization.objects.bulk_create(
        OrderLinePersonalization(
            line=order_line,
            kind=item.kind,
            description=item.description,
            surcharge=item.surcharge,
            cost=item.cost,
            lead_days=item.lead_days,
            data=item.data,
        )
        for order_line, basket_line in lines
        for item in selectors.line_quote(basket_line).items
    )


def _offer_upsert(*, owner: dict, spec: dict) -> PersonalizationOffer:
    offer, _ = PersonalizationOffer.objects.update_or_create(
        **owner,
        kind=spec["kind"],
        defaults={
            "is_active": spec.get("is_active", True),
            "surcharge": Decimal(spec.get("surcharge", "0.00")),
            "cost": Decimal(spec.get("cost", "0.00")),
            "lead_days": spec.get("lead_days", 0),
        },
    )
    for order, value in enumerate(spec.get("values", [])):
        PersonalizationValue.objects.update_or_create(
            offer=offer,
            group=value["group"],
            code=value["code"],
            defaults={
                "label": value["label"],
                "hex": value.get("hex", ""),
                "surcharge": Decimal(value.get("surcharge", "0.00")),
                "cost": Decimal(value.get("cost", "0.00")),
                "lead_days": value.get("lead_days", 0),
                "is_active": value.get("is_active", True),
                "display_order": order,
            },
        )
    return offer


def personalization_offers_load(*, data: dict) -> int:
    """Upsert offers and values from fixtures/personalization.json's shape. Idempotent."""
    from shop.catalogue.models import Product, ProductClass

    count = 0
    with transaction.atomic():
        product_class = ProductClass.objects.get(slug=data["product_class"])
        for spec in data.get("class_offers", []):
            _offer_upsert(owner={"product_class": product_class, "product": None}, spec=spec)
            count += 1
        for slug, specs in data.get("category_offers", {}).items():
            products = Product.objects.filter(parent=None, categories__slug=slug).distinct()
            for product in products:
                for spec in specs:
                    _offer_upsert(owner={"product": product, "product_class": None}, spec=spec)
                    count += 1
        for upc, specs in data.get("product_offers", {}).items():
            product = Product.objects.get(upc=upc)
            for spec in specs:
                _offer_upsert(owner={"product": product, "product_class": None}, spec=spec)
                count += 1
    return count
