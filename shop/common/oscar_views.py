"""Small repairs to Oscar's dashboard views, shared by the apps that override one of them
in config/urls.py (see there): parsing only, through shop.common.parsing."""

from __future__ import annotations

from shop.common.parsing import parse_ids


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
