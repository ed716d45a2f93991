"""Template helpers for basket lines (not `basket_tags`: that is Oscar's library)."""

from django import template

from shop.basket.selectors import line_picture as picture

register = template.Library()


@register.filter
def line_picture(line) -> str | None:
    """The file of a basket line's picture (read with the lines; see
    shop.basket.selectors.line_picture), or None: no query per line."""
    return picture(line)
