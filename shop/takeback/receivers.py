"""How the take-back scheme hears from the apps below it (connected in TakeBackConfig.ready):
an order's status changes (cancelled or refunded: its open take-backs are voided; paid: a
pre-loved piece in it is sold), and the refund of an order (credit already paid for one of
its items is held back)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def order_status_changed(sender: Any, *, order: Any, old_status: str, new_status: str, **kwargs):
    from shop.takeback.services import preloved_sold_for_order, takeback_void_for_order

    takeback_void_for_order(order=order, new_status=new_status)
    preloved_sold_for_order(order=order, new_status=new_status)


def refund_deduction(order: Any) -> tuple[Decimal, str]:
    from shop.takeback.selectors import takeback_refund_deduction

    return takeback_refund_deduction(order=order)


def refund_deduction_connect() -> None:
    from shop.order.holds import refund_deduction_register

    refund_deduction_register("takeback", refund_deduction)
