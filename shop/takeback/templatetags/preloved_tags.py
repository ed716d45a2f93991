"""Pre-loved pieces on the shop's pages: a listing's grade and repair work, an original's
"also available pre-loved from £…"."""

from django import template

from shop.takeback import selectors

register = template.Library()


@register.simple_tag
def preloved_piece(product):
    return selectors.preloved_piece_of_product(product=product)


@register.simple_tag
def preloved_from(product):
    return selectors.preloved_from(product=product)
