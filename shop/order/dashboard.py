"""Staff screens for getting orders out of the door: /dashboard/fulfilment/, and Oscar's order
list (/dashboard/orders/) with a formula-safe CSV export, mounted in config/urls.py.

Thin: authorize, parse, call shop.order.services, report. Who may: active staff with
Oscar's order permissions (view and change); anonymous visitors go to the dashboard login,
signed-in customers get 403.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_POST
from oscar.core.loading import get_class
from oscar.views.decorators import permissions_required

from shop.common.oscar_views import ClampedDateRangeMixin, IdSafeBulkEditMixin
from shop.common.parsing import clean_text, parse_id, parse_ids
from shop.common.safe_csv import SafeCSVWriter
from shop.order import pipeline
from shop.order.models import Order
from shop.order.selectors import orders_to_dispatch
from shop.order.services import (
    OrderTransitionError,
    order_cancel,
    order_status_change,
    order_status_change_bulk,
)
from shop.payments.exceptions import PaymentError

OscarOrderSearchForm = get_class("dashboard.orders.forms", "OrderSearchForm")
OscarOrderListView = get_class("dashboard.orders.views", "OrderListView")
OscarOrderDetailView = get_class("dashboard.orders.views", "OrderDetailView")

order_staff_required = permissions_required(
    ["is_staff", "order.view_order", "order.change_order"],
    login_url=reverse_lazy("dashboard:login"),
)

BULK_TARGETS = (pipeline.IN_WORKSHOP, pipeline.READY_TO_SHIP, pipeline.SHIPPED, pipeline.DELIVERED)
FILTERS = {
    "open": pipeline.OPEN_STATUSES,
    "paid": (pipeline.PAID,),
    "workshop": (pipeline.IN_WORKSHOP,),
    "ready": (pipeline.READY_TO_SHIP,),
    "shipped": (pipeline.SHIPPED,),
    "pending": (pipeline.PENDING_PAYMENT,),
}


class FulfilmentFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            ("open", "To dispatch (paid, in workshop, ready)"),
            ("paid", "Paid"),
            ("workshop", "In workshop"),
            ("ready", "Ready to ship"),
            ("shipped", "Shipped, not yet delivered"),
            ("pending", "Waiting for payment"),
        ],
        required=False,
    )
    late = forms.BooleanField(required=False, label="Late only")
    q = forms.CharField(required=False, max_length=100, label="Order, email or name")

    def clean_q(self) -> str:
        return self.cleaned_data["q"].replace("\x00", "").strip()


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


def _back(request, default: str) -> str:
    target = request.POST.get("next") or ""
    return target if target.startswith("/dashboard/") else default


@order_staff_required
def fulfilment_list(request):
    if request.method == "POST":
        return _fulfilment_post(request)
    form = FulfilmentFilterForm(request.GET or None)
    key, late, query = "open", False, ""
    if form.is_valid():
        key = form.cleaned_data["status"] or "open"
        late = form.cleaned_data["late"]
        query = form.cleaned_data["q"]
    orders = orders_to_dispatch(statuses=FILTERS[key], late_only=late, query=query)
    page = Paginator(orders, 50).get_page(request.GET.get("page"))
    today = timezone.localdate()
    for order in page.object_list:
        order.days_late = (today - order.promised_dispatch_date).days if order.is_late else 0
    return render(
        request,
        "shop/dashboard/fulfilment.html",
        {
            "form": form,
            "page_obj": page,
            "orders": page.object_list,
            "bulk_targets": BULK_TARGETS,
            "late_count": orders_to_dispatch(late_only=True).count(),
            "query_string": request.GET.urlencode(),
        },
    )


def _fulfilment_post(request):
    back = _back(request, reverse("order-dashboard:fulfilment"))
    ship_one = request.POST.get("ship")
    if ship_one:
        pk = parse_id(ship_one)
        order = Order.objects.filter(pk=pk).first() if pk is not None else None
        if order is None:
            messages.error(request, "That order no longer exists.")
            return redirect(back)
        return _ship(request, order, _tracking(request, f"tracking-{order.pk}"), back)
    target = request.POST.get("to_status", "")
    ids = parse_ids(request.POST.getlist("selected"))
    if target not in BULK_TARGETS:
        messages.error(request, "Choose what to do with the selected orders.")
        return redirect(back)
    if ids is None:
        messages.error(request, "The selection holds something that is not an order.")
        return redirect(back)
    if not ids:
        messages.error(request, "Select at least one order.")
        return redirect(back)
    orders = list(Order.objects.filter(pk__in=ids))
    tracking = {order.pk: _tracking(request, f"tracking-{order.pk}") for order in orders}
    result = order_status_change_bulk(
        orders=orders, to_status=target, actor=request.user, tracking_numbers=tracking
    )
    if result.moved:
        messages.success(
            request,
            f"{len(result.moved)} order(s) moved to {target.lower()}: " + ", ".join(result.moved),
        )
    for refusal in result.refused:
        messages.error(request, refusal)
    return redirect(back)


def _tracking(request, name: str) -> str:
    return clean_text(request.POST.get(name, "")).strip()


def _ship(request, order: Order, tracking_number: str, back: str):
    try:
        order_status_change(
            order=order,
            to_status=pipeline.SHIPPED,
            actor=request.user,
            tracking_number=tracking_number,
        )
    except OrderTransitionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Order {order.number} shipped; the customer has been emailed.")
    return redirect(back)


@order_staff_required
@require_POST
def order_ship(request, number: str):
    order = get_object_or_404(Order, number=number)
    back = _back(request, reverse("dashboard:order-detail", kwargs={"number": number}))
    return _ship(request, order, _tracking(request, "tracking_number"), back)


@order_staff_required
@require_POST
def order_move(request, number: str):
    order = get_object_or_404(Order, number=number)
    back = _back(request, reverse("dashboard:order-detail", kwargs={"number": number}))
    target = request.POST.get("to_status", "")
    if target not in pipeline.MANUAL:
        messages.error(request, "Choose a status to move the order to.")
        return redirect(back)
    try:
        order_status_change(order=order, to_status=target, actor=request.user)
    except OrderTransitionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Order {order.number} moved to {target.lower()}.")
    return redirect(back)


@order_staff_required
@require_POST
def order_cancel_view(request, number: str):
    order = get_object_or_404(Order, number=number)
    back = _back(request, reverse("dashboard:order-detail", kwargs={"number": number}))
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason for cancelling (the customer is told it).")
        return redirect(back)
    try:
        order_cancel(order=order, actor=request.user, reason=form.cleaned_data["reason"])
    except OrderTransitionError as exc:
        messages.error(request, str(exc))
    except PaymentError as exc:
        messages.error(
            request,
            f"The refund could not be made, so the order was not cancelled: {exc.message}",
        )
    else:
        messages.success(
            request,
            f"Order {order.number} cancelled; its stock is released and any payment "
            "refunded in full.",
        )
    return redirect(back)


# --- Oscar's order list and order page, repaired (mounted in config/urls.py) ---------------


class OrderSearchForm(ClampedDateRangeMixin, OscarOrderSearchForm):
    """Oscar's order search with its dates held within 2000..2100 (year 9999 overflowed
    when Oscar adds a day to describe the filter)."""


class OrderListView(IdSafeBulkEditMixin, OscarOrderListView):
    """Oscar's order list: dates held in range, bulk ids parsed, and its CSV
    (`?response_format=csv`) through SafeCSVWriter, so a shipping name like
    `=HYPERLINK(...)` reaches the spreadsheet as text."""

    form_class = OrderSearchForm

    def download_selected_orders(self, request, orders):
        response = HttpResponse(content_type="text/csv")
        filename = self.get_download_filename(request)
        response["Content-Disposition"] = f"attachment; filename={filename}"
        if getattr(settings, "OSCAR_CSV_INCLUDE_BOM", False):
            response.write("\ufeff")  # as Oscar's UnicodeCSVWriter does, for Excel
        writer = SafeCSVWriter(response)
        writer.writerow(self.CSV_COLUMNS.values())
        for order in orders:
            values = self.get_row_values(order)
            writer.writerow([values.get(column, "") for column in self.CSV_COLUMNS])
        return response


class OrderDetailView(OscarOrderDetailView):
    def delete_note(self, request, order):
        # Oscar looks the note up with the raw value: "²" or "abc" was a 500.
        if parse_id(request.POST.get("note_id", "")) is None:
            messages.error(request, "Note cannot be deleted")
            return self.reload_page()
        return super().delete_note(request, order)
