"""Reads for orders: the staff's dispatch list and an order's timeline."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import BooleanField, Case, Count, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from shop.common.workdays import dispatch_date
from shop.order import pipeline
from shop.order.holds import open_work_annotation
from shop.order.models import Line, Order

# What the customer reads for each status.
PUBLIC_TITLES = {
    pipeline.PENDING_PAYMENT: "Waiting for your bank to confirm the payment",
    pipeline.PAID: "Payment received",
    pipeline.IN_WORKSHOP: "Being made in our Walsall workshop",
    pipeline.READY_TO_SHIP: "Packed and ready to go",
    pipeline.SHIPPED: "Shipped",
    pipeline.DELIVERED: "Delivered",
    pipeline.CANCELLED: "Cancelled",
    pipeline.REFUNDED: "Refunded",
}


def orders_to_dispatch(
    *,
    statuses: tuple[str, ...] = pipeline.OPEN_STATUSES,
    late_only: bool = False,
    today: date | None = None,
    query: str = "",
) -> QuerySet:
    """Orders staff still have to send, the latest against their promise first (earliest
    promised dispatch date), with `is_late`, `personalized` and `open_jobs` annotated."""
    today = today or timezone.localdate()
    qs = Order.objects.filter(status__in=statuses)
    if late_only:
        qs = qs.filter(promised_dispatch_date__lt=today)
    if query:
        qs = qs.filter(
            Q(number__icontains=query)
            | Q(guest_email__icontains=query)
            | Q(user__email__icontains=query)
            | Q(shipping_address__last_name__icontains=query)
        )
    return (
        qs.select_related("user", "shipping_address")
        .annotate(
            is_late=Case(
                When(promised_dispatch_date__lt=today, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            personalized=Exists(
                Line.objects.filter(pipeline.PERSONALIZED_LINE, order=OuterRef("pk"))
            ),
            open_jobs=open_work_annotation(),
            item_count=Count("lines", distinct=True),
        )
        .order_by("promised_dispatch_date", "date_placed", "pk")
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # placed, status, email, payment, refund, note, failure, waiting
    title: str
    detail: str = ""
    who: str = ""
    staff_only: bool = False
    amount: Decimal | None = None
    ref: Any = None


def _who(user: Any, source: str = "") -> str:
    if user is not None:
        return user.get_full_name() or user.get_username()
    return {"payment": "Payment", "system": "Automatic", "customer": "Customer"}.get(source, "")


def order_timeline(*, order: Order, public: bool) -> list[TimelineEntry]:
    """Everything that happened to the order, oldest first. `public` leaves out what only
    staff see (internal notes, who moved it, failed tasks, messages waiting to be sent)."""
    from shop.common.models import OutboxMessage, TaskFailure

    entries = [TimelineEntry(at=order.date_placed, kind="placed", title="Order placed")]
    for change in order.status_changes.select_related("actor").order_by("date_created", "pk"):
        title = (
            PUBLIC_TITLES.get(change.new_status, change.new_status)
            if public
            else (f"{change.old_status or '—'} → {change.new_status}")
        )
        detail = ""
        if change.new_status == pipeline.SHIPPED and order.tracking_number:
            detail = f"Tracking number {order.tracking_number}"
        if not public and change.note:
            detail = f"{detail} · {change.note}" if detail else change.note
        entries.append(
            TimelineEntry(
                at=change.date_created,
                kind="status",
                title=title,
                detail=detail,
                who="" if public else _who(change.actor, change.source),
            )
        )
    for event in order.communication_events.select_related("event_type"):
        entries.append(
            TimelineEntry(
                at=event.date_created,
                kind="email",
                title=f"Email sent: {event.event_type.name}",
            )
        )
    for event in order.payment_events.select_related("event_type"):
        name = event.event_type.name
        entries.append(
            TimelineEntry(
                at=event.date_created,
                kind="refund" if name == "Refunded" else "payment",
                title="Refund" if name == "Refunded" else f"Payment {name.lower()}",
                detail="" if public else event.reference,
                amount=event.amount,
            )
        )
    if not public:
        for note in order.notes.select_related("user"):
            entries.append(
                TimelineEntry(
                    at=note.date_created,
                    kind="note",
                    title=f"Note ({note.note_type})",
                    detail=note.message,
                    who=_who(note.user),
                    staff_only=True,
                )
            )
        subject = f"order:{order.pk}"
        for failure in TaskFailure.objects.filter(subject=subject):
            entries.append(
                TimelineEntry(
                    at=failure.failed_at,
                    kind="failure",
                    title=f"Task failed: {failure.task.rsplit('.', 1)[-1]}",
                    detail=failure.error + (" (sent again)" if failure.retried_at else ""),
                    staff_only=True,
                    ref=failure,
                )
            )
        for message in OutboxMessage.objects.filter(subject=subject, sent_at__isnull=True):
            entries.append(
                TimelineEntry(
                    at=message.created_at,
                    kind="waiting",
                    title=f"Waiting to be queued: {message.task.rsplit('.', 1)[-1]}",
                    detail=message.last_error,
                    staff_only=True,
                )
            )
    order_of_kind = {"placed": 0, "payment": 1, "status": 2, "email": 3}
    return sorted(entries, key=lambda e: (e.at, order_of_kind.get(e.kind, 9)))


def order_is_late(*, order: Order, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    return bool(
        order.status in pipeline.OPEN_STATUSES
        and order.promised_dispatch_date
        and order.promised_dispatch_date < today
    )


def promised_dispatch_date(*, placed: datetime, lead_days: Iterable[int | None]) -> date:
    """The dispatch date promised for pieces ordered at `placed` whose personalisation adds
    `lead_days` working days each (None or none: stock pieces): the longest lead counts, in
    working days from placement (shop.common.workdays). The one rule behind the order's
    promised dispatch date and each workshop job's due date."""
    longest = max((days or 0 for days in lead_days), default=0)
    return dispatch_date(extra_days=longest, now=placed)
