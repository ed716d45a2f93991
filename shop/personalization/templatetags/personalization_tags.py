"""Template helpers for the personalisation screens: the leather colour the monogram preview
draws on, and the dispatch date of a basket line's current choices. No queries beyond the
ones the page already makes (offers are cached per product object)."""

from django import template

from shop.personalization.models import Kind
from shop.personalization.rules import makes_to_order

register = template.Library()

# Leather colours of the catalogue (fixtures/catalogue.json), for the preview's panel. A colour
# not listed falls back to chestnut, the workshop's house colour.
LEATHER_HEX = {
    "black": "#1B1A1C",
    "burgundy": "#4E1C22",
    "chestnut": "#8A4B2A",
    "cognac": "#9C5A2E",
    "dark brown": "#4B2E20",
    "forest": "#34503F",
    "havana": "#5A3622",
    "london tan": "#A86B3C",
    "natural": "#CFA172",
    "navy": "#27344B",
    "oxblood": "#5F2427",
    "tan": "#A8683C",
}
DEFAULT_LEATHER = LEATHER_HEX["chestnut"]


@register.filter
def leather_hex(value) -> str:
    """The preview colour for a leather colour name, or for a product's facts (see
    storefront_tags.product_facts): '#8A4B2A' for 'Chestnut'."""
    rows = getattr(value, "rows", None)
    if rows is not None:
        value = next((row["value"] for row in rows if row.get("code") == "colour"), "")
    return LEATHER_HEX.get(str(value or "").strip().lower(), DEFAULT_LEATHER)


@register.simple_tag
def line_lead_days(line) -> int:
    """Extra working days the basket line's current choices add (0 if none or no longer
    offered)."""
    from shop.personalization.rules import PersonalizationError
    from shop.personalization.selectors import line_quote

    try:
        return line_quote(line).lead_days
    except PersonalizationError:
        return 0


@register.filter
def made_to_order(choices) -> bool:
    """True when any of these choices makes the piece made to order (anything but a gift
    message). Takes order-line snapshots (OrderLinePersonalization) or the rows of
    storefront_tags.line_personalisation."""
    for choice in choices or ():
        kind = choice.get("kind") if isinstance(choice, dict) else getattr(choice, "kind", "")
        label = choice.get("label", "") if isinstance(choice, dict) else ""
        if kind and makes_to_order(kind) or not kind and label != Kind.GIFT_MESSAGE.label:
            return True
    return False


@register.simple_tag
def basket_made_to_order(basket) -> bool:
    """True when a line of the basket is personalised with more than a gift message (reads the
    lines' prefetched attributes)."""
    from shop.personalization.selectors import line_choices

    return any(line_choices(line).made_to_order for line in basket.all_lines())


@register.simple_tag
def order_made_to_order(order) -> bool:
    """True when a line of the order was personalised with more than a gift message (one
    query)."""
    from shop.personalization.selectors import order_made_to_order as made_to_order

    return made_to_order(order=order)
