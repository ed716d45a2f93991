from django import template

from shop.order.selectors import order_is_late, order_timeline

register = template.Library()


@register.simple_tag
def timeline_for(order, public=True):
    """{% timeline_for order public=True as timeline %}"""
    return order_timeline(order=order, public=public)


@register.filter
def is_late(order) -> bool:
    return order_is_late(order=order)
