"""Dashboard > Fulfilment > Parcel costs: what a parcel costs us per shipping method, with its
history (the profitability report reads the cost in effect on each sale's day). Staff with
`shipping.view_parcelcost` see it; adding a cost needs `shipping.add_parcelcost`."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from oscar.views.decorators import permissions_required

from shop.shipping import selectors, services
from shop.shipping.forms import ParcelCostForm

LOGIN = reverse_lazy("dashboard:login")


@permissions_required(["is_staff", "shipping.view_parcelcost"], login_url=LOGIN)
def parcel_costs(request: HttpRequest) -> HttpResponse:
    can_edit = request.user.has_perm("shipping.add_parcelcost")
    form = ParcelCostForm()
    if request.method == "POST":
        if not can_edit:
            return HttpResponse("You may not change parcel costs.", status=403)
        form = ParcelCostForm(request.POST)
        if form.is_valid():
            services.parcel_cost_set(user=request.user, **form.cleaned_data)
            messages.success(request, "Parcel cost saved.")
            return redirect("shipping-dashboard:parcel-costs")
    return render(
        request,
        "shop/shipping/parcel_costs.html",
        {
            "form": form,
            "can_edit": can_edit,
            "current": selectors.parcel_costs_current(),
            "history": selectors.parcel_cost_history(),
        },
    )
