"""Oscar's `sorting_tags` library (the `anchor` tag heading every sortable dashboard column),
repaired: a `?dir=` other than asc or desc (`?dir=-1`, `?dir=²`) was a KeyError, a 500 on the
order, partner and other sorted lists. Any other direction is read as none. The link's query
string is escaped as an attribute (Oscar marked it safe). Put in Oscar's own library in
place of its `anchor` by DashboardConfig.ready(), so `{% load sorting_tags %}` in every Oscar
template gets it (a second library of the same name is a templates.W003 warning, which
`check --deploy` fails on)."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import mark_safe
from oscar.templatetags.sorting_tags import sort_directions


def anchor(context, field, title=None):
    field = field.strip()
    title = (field.capitalize() if title is None else title).strip()
    request = context["request"]
    get_vars = request.GET.copy()
    sort_field = get_vars.pop("sort", [None])[0]
    icon = ""
    if sort_field == field:
        # Sorting on this field already: the link asks for the other direction.
        direction = get_vars.pop("dir", [""])[0]
        known = sort_directions.get(direction, sort_directions[""])
        get_vars["dir"] = known["inverse"]
        icon = known["icon"]  # Oscar's setting: markup by design
    href = f"{request.path}?{'sort=' + field}"
    if get_vars:
        href += "&" + get_vars.urlencode()
    if icon:
        return format_html('<a href="{}">{} {}</a>', href, title, mark_safe(icon))
    return format_html('<a href="{}">{}</a>', href, title)
