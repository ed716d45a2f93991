"""Small repairs to Oscar's dashboard views, shared by the apps that override one of them
in config/urls.py (see there): parsing only, through shop.common.parsing."""

from __future__ import annotations

from oscar.apps.dashboard.catalogue.widgets import ProductSelect

from shop.common.parsing import clamp_date, parse_id, parse_ids


class IdSafeBulkEditMixin:
    """Oscar's BulkEditMixin filters `pk__in` with whatever was posted as selected ("abc",
    "²", an id past PostgreSQL's integer: a 500). A selection that holds anything but ids
    selects nothing, so Oscar answers with its own "select some" message."""

    def get_selected_ids(self, request):
        select_across = request.POST.get(self.select_across_param, "").lower() == "1"
        if not select_across:
            posted = request.POST.getlist(f"selected_{self.get_checkbox_object_name()}")
            if parse_ids(posted) is None:
                return []
        return super().get_selected_ids(request)


class ClampedDateRangeMixin:
    """For an Oscar search form with `date_from` / `date_to`: both held within the range
    shop.common.parsing allows (Oscar adds a day to date_to; year 9999 overflowed)."""

    def clean_date_from(self):
        value = self.cleaned_data.get("date_from")
        return clamp_date(value) if value else value

    def clean_date_to(self):
        value = self.cleaned_data.get("date_to")
        return clamp_date(value) if value else value


class IdProductSelect(ProductSelect):
    """Oscar's product select, which looks the submitted value up to show it again: a value
    that is not an id ("abc", "²") is dropped instead of reaching the query (a 500)."""

    def optgroups(self, name, value, attrs=None):
        value = [v for v in value if parse_id(v) is not None]
        return super().optgroups(name, value, attrs=attrs)
