"""Reads for store credit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum
from django.db.models.functions import Abs

from shop.credit.models import CreditAccount, CreditEntry


def credit_balance(*, user: Any) -> Decimal:
    if user is None or not getattr(user, "is_authenticated", False):
        return Decimal("0.00")
    balance = CreditAccount.objects.filter(user=user).values_list("balance", flat=True).first()
    return balance if balance is not None else Decimal("0.00")


def credit_history(*, user: Any) -> QuerySet[CreditEntry]:
    return (
        CreditEntry.objects.filter(account__user=user)
        .select_related("takeback")
        .annotate(magnitude=Abs("amount"))
        .order_by("-created_at", "-pk")
    )


def credit_ledger_sum(*, user: Any) -> Decimal:
    """The balance recomputed from the ledger (for checks: it must equal the account's)."""
    total = CreditEntry.objects.filter(account__user=user).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0.00")
