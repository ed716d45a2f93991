"""The order status pipeline: which status may follow which, and the rules that depend on
the order (pure functions; the service `order_status_change` applies them under a lock).

    Pending payment → Paid → In workshop (personalized orders only) → Ready to ship
        → Shipped → Delivered;  Cancelled and Refunded end it.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q

from shop.common.statemachine import Refusal, StateMachine

PENDING_PAYMENT = "Pending payment"
PAID = "Paid"
IN_WORKSHOP = "In workshop"
READY_TO_SHIP = "Ready to ship"
SHIPPED = "Shipped"
DELIVERED = "Delivered"
CANCELLED = "Cancelled"
REFUNDED = "Refunded"

STATUSES = (
    PENDING_PAYMENT,
    PAID,
    IN_WORKSHOP,
    READY_TO_SHIP,
    SHIPPED,
    DELIVERED,
    CANCELLED,
    REFUNDED,
)

PIPELINE: dict[str, tuple[str, ...]] = {
    PENDING_PAYMENT: (PAID, CANCELLED),
    PAID: (IN_WORKSHOP, READY_TO_SHIP, CANCELLED, REFUNDED),
    IN_WORKSHOP: (READY_TO_SHIP, CANCELLED, REFUNDED),
    # Back to the workshop when a piece fails its final check.
    READY_TO_SHIP: (SHIPPED, IN_WORKSHOP, CANCELLED, REFUNDED),
    SHIPPED: (DELIVERED, REFUNDED),
    DELIVERED: (REFUNDED,),
    CANCELLED: (),
    REFUNDED: (),
}

MACHINE = StateMachine.of(PIPELINE)
# An order in one of these has ended (nothing moves it any more; its credit comes back).
END_STATUSES = MACHINE.ends()
# Orders staff still have to get out of the door.
OPEN_STATUSES = (PAID, IN_WORKSHOP, READY_TO_SHIP)
# Money taken: these orders were paid.
PAID_STATUSES = (PAID, IN_WORKSHOP, READY_TO_SHIP, SHIPPED, DELIVERED, REFUNDED)
# Moves staff make with a plain status choice (no extra input, no money moved).
MANUAL = (IN_WORKSHOP, READY_TO_SHIP, DELIVERED)

TRACKING_RE = re.compile(r"^[A-Z0-9][A-Z0-9 -]{6,38}[A-Z0-9]$")


def ended_before_dispatch(*, status: str, shipped_at: Any) -> bool:
    """An order that ended (cancelled or refunded) before it left the workshop: its goods
    never went out and are back on the shelf."""
    return status in END_STATUSES and shipped_at is None


class OrderTransitionError(ValueError):
    """A status change the pipeline does not allow; the message is for staff."""


def normalise_tracking_number(value: str) -> str:
    return " ".join((value or "").upper().split())


def transition_error(
    *,
    from_status: str,
    to_status: str,
    personalized: bool,
    open_jobs: int = 0,
    tracking_number: str = "",
) -> str:
    """Why the move is refused, or "" when it is allowed."""
    refusal = MACHINE.refusal(from_status, to_status)
    if refusal is Refusal.UNKNOWN:
        return f"“{to_status}” is not an order status."
    if refusal is Refusal.SAME:
        return f"The order is already {to_status.lower()}."
    if refusal is Refusal.ENDED:
        return f"A {from_status.lower()} order cannot change any more."
    if refusal is Refusal.NOT_ALLOWED:
        return f"An order that is {from_status.lower()} cannot be moved to {to_status.lower()}."
    if to_status == IN_WORKSHOP and not personalized:
        return "Only orders with personalized pieces go to the workshop."
    if to_status == READY_TO_SHIP and personalized and from_status == PAID:
        return "This order has personalized pieces: it goes to the workshop first."
    if to_status == READY_TO_SHIP and open_jobs:
        return (
            f"{open_jobs} workshop job{'s are' if open_jobs != 1 else ' is'} not done yet; "
            "finish them in the workshop list first."
        )
    if to_status == SHIPPED:
        tracking = normalise_tracking_number(tracking_number)
        if not tracking:
            return "Enter the parcel's tracking number to mark the order shipped."
        if not TRACKING_RE.match(tracking):
            return (
                "That does not look like a tracking number (8 to 40 letters, digits, spaces "
                "or dashes)."
            )
    return ""


# The personalised-line rule (a line with any personalisation recorded on it): the one place
# it is written; the dispatch list and the workshop filter lines with it.
PERSONALIZED_LINE = Q(personalizations__isnull=False)


def is_personalized(*, order: Any) -> bool:
    return order.lines.filter(PERSONALIZED_LINE).exists()


def manual_statuses(*, order: Any) -> list[str]:
    """Statuses staff may pick for this order in a plain status form, in pipeline order."""
    if not order.pk:
        return []
    from shop.order.holds import open_work

    personalized = is_personalized(order=order)
    open_jobs = open_work(order=order)
    return [
        status
        for status in MANUAL
        if MACHINE.can_move(order.status, status)
        and not transition_error(
            from_status=order.status,
            to_status=status,
            personalized=personalized,
            open_jobs=open_jobs,
        )
    ]
