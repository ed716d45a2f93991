"""Oscar's customer order-line URL (/accounts/orders/<number>/<line>/), repaired. Oscar has no
page for a line (its view's template, order/line_detail.html, does not exist), so a GET, or a
POST with an action other than `reorder` (which falls back to the GET), was a 500; and a line
id of another of the customer's orders was a DoesNotExist, also a 500. Here the line must be
one of the customer's own order's (404 otherwise), a GET goes to the order's page, and an
unknown action comes back there with Oscar's 'Invalid form submission'. Mounted before Oscar's
patterns in config/urls.py."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, redirect
from oscar.core.loading import get_class, get_model

OscarOrderLineView = get_class("customer.views", "OrderLineView")
Order = get_model("order", "Order")


class OrderLineView(OscarOrderLineView):
    def get_object(self, queryset=None):
        order = get_object_or_404(Order, user=self.request.user, number=self.kwargs["order_number"])
        return get_object_or_404(order.lines, id=self.kwargs["line_id"])

    def get(self, request, *args, **kwargs):
        self.get_object()  # another customer's line is a 404, as Oscar's order page is
        return redirect("customer:order", self.kwargs["order_number"])
