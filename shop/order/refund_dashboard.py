"""Staff refund page for a card-paid order: /dashboard/payments/orders/<number>/refund/.

Thin: authorize, parse the form, call `order_refund`, render. Who may refund: active staff
with Oscar's order permissions (view and change, as for Oscar's order notes); superusers
have them all. Partner-only dashboard users cannot refund. Anonymous visitors go to the
dashboard login; signed-in customers get 403.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from oscar.views.decorators import permissions_required

from shop.order.holds import refund_deductions
from shop.order.models import Order
from shop.order.services import order_amount_refundable, order_refund
from shop.payments.exceptions import PaymentError, PaymentProviderUnavailable, RefundRefused
from shop.payments.models import PaymentIntentRecord

refund_permission_required = permissions_required(
    ["is_staff", "order.view_order", "order.change_order"],
    login_url=reverse_lazy("dashboard:login"),
)

UNREACHABLE = "Stripe can't be reached; nothing was refunded. Please try again in a moment."


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        error_messages={"min_value": "A refund must be more than 0."},
    )
    reason = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )
    # What was refunded already when the page was shown: sending the same form twice
    # refunds once.
    refunded_before = forms.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), widget=forms.HiddenInput
    )

    def __init__(self, *args, refundable: Decimal, **kwargs):
        super().__init__(*args, **kwargs)
        self.refundable = refundable

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount > self.refundable:
            raise forms.ValidationError(f"At most {self.refundable} can be refunded.")
        return amount


@refund_permission_required
def order_refund_view(request, order_number: str):
    order = get_object_or_404(Order, number=order_number)
    record = PaymentIntentRecord.objects.filter(order_number=order.number).first()
    refundable = order_amount_refundable(order=order) if record else Decimal("0")
    initial = {
        "amount": refundable,
        "refunded_before": record.amount_refunded if record else Decimal("0"),
    }
    form = RefundForm(request.POST or None, refundable=refundable, initial=initial)
    status = 200
    if request.method == "POST" and record is not None and form.is_valid():
        try:
            refund = order_refund(
                order=order,
                amount=form.cleaned_data["amount"],
                staff=request.user,
                reason=form.cleaned_data["reason"],
                refunded_before=form.cleaned_data["refunded_before"],
            )
        except PaymentProviderUnavailable:
            form.add_error(None, UNREACHABLE)
            status = 503
        except RefundRefused as exc:
            if exc.field is None:
                # Nothing to correct on this form (refunded meanwhile, sent twice): show
                # the figures as they are now.
                messages.warning(request, exc.message)
                return redirect(request.path)
            form.add_error(exc.field, exc.message)
        except PaymentError as exc:
            form.add_error(None, f"Stripe refused the refund: {exc.message} Nothing was refunded.")
        else:
            messages.success(
                request,
                f"Refunded {refund.amount} {refund.currency} of order {order.number} "
                f"({refund.refund_id}).",
            )
            return redirect(reverse("dashboard:order-detail", kwargs={"number": order.number}))
        record.refresh_from_db()
    return render(
        request,
        "shop/dashboard/payments/refund.html",
        {
            "order": order,
            "record": record,
            "form": form,
            "refundable": order_amount_refundable(order=order) if record else Decimal("0"),
            "deductions": refund_deductions(order=order),
            "refunds": record.refunds.order_by("created_at", "pk") if record else [],
        },
        status=status,
    )
