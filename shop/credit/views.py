"""The customer's store credit: balance and history, in the account area."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from shop.credit.selectors import credit_balance, credit_history


@login_required
@require_GET
def credit_view(request):
    return render(
        request,
        "shop/credit/history.html",
        {
            "balance": credit_balance(user=request.user),
            "entries": credit_history(user=request.user)[:200],
            "active_tab": "credit",
            "page_title": "Store credit",
        },
    )
