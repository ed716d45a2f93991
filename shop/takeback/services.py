"""Writes for the take-back scheme. Each function validates, runs in one transaction with
the take-back row locked, moves the state machine (which refuses illegal moves), records a
TakeBackEvent (who, what, when) and enqueues its side effects through the outbox."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from shop.catalogue.services import search_refresh
from shop.common.outbox import outbox_enqueue
from shop.credit.services import credit_issue
from shop.order import pipeline
from shop.order.models import Line
from shop.takeback.models import (
    RESALE_GRADES,
    Condition,
    CreditRule,
    Grade,
    PreLovedPiece,
    ProductWeight,
    ResaleRule,
    Route,
    TakeBack,
    TakeBackEvent,
    TakeBackPhoto,
    TakeBackPolicy,
    TakeBackTransitionError,
    tracking_number_new,
)
from shop.takeback.photos import photo_check
from shop.takeback.selectors import (
    PRELOVED_CATEGORY,
    credit_rule_for,
    leather_weight,
    order_takeback_refusal,
    preloved_price_limits,
    takeback_estimate,
    takeback_policy,
)

logger = logging.getLogger(__name__)

__all__ = [
    "RegistrationItem",
    "TakeBackRefused",
    "TakeBackTransitionError",
    "credit_rule_save",
    "credit_rules_default_ensure",
    "preloved_publish",
    "preloved_sold_for_order",
    "resale_rule_save",
    "takeback_approve",
    "takeback_close",
    "takeback_credit_issue",
    "takeback_email_send",
    "takeback_grade",
    "takeback_mark_shipped",
    "takeback_offer_answer",
    "takeback_photos_add",
    "takeback_policy_update",
    "takeback_receive",
    "takeback_register",
    "takeback_reject",
    "takeback_sweep",
    "takeback_void_for_order",
]

TASKS = "shop.takeback.tasks"


class TakeBackRefused(ValueError):
    """A request the scheme's rules refuse; the message is for the customer or staff."""


@dataclass
class RegistrationItem:
    """One unit to take back: an order line, or a product bought in a boutique or as a gift."""

    condition: str
    line: Line | None = None
    product: Any = None
    source: str = TakeBack.Source.ONLINE
    purchase_year: int | None = None
    notes: str = ""
    photos: list[UploadedFile] = field(default_factory=list)


def _actor(user: Any) -> Any:
    return user if getattr(user, "pk", None) else None


def _event(
    takeback: TakeBack, kind: str, *, actor: Any = None, from_status: str = "", note: str = ""
) -> TakeBackEvent:
    return TakeBackEvent.objects.create(
        takeback=takeback,
        kind=kind,
        from_status=from_status,
        status=takeback.status,
        actor=_actor(actor),
        note=note.strip(),
    )


def _locked(takeback: TakeBack | int) -> TakeBack:
    pk = takeback if isinstance(takeback, int) else takeback.pk
    return TakeBack.objects.select_for_update().get(pk=pk)


def _move(takeback: TakeBack, status: str, kind: str, *, actor: Any, note: str = "", fields=()):
    old = takeback.transition_to(status)
    takeback.save(update_fields=["status", "updated_at", *fields])
    return _event(takeback, kind, actor=actor, from_status=old, note=note)


def _enqueue(task: str, takeback: TakeBack, *extra: Any) -> None:
    outbox_enqueue(
        task=f"{TASKS}.{task}", args=[takeback.pk, *extra], subject=f"takeback:{takeback.pk}"
    )


# --- Customers ---


def takeback_register(
    *, customer: Any, items: list[RegistrationItem], terms_accepted: bool
) -> list[TakeBack]:
    """Register one take-back per item, all or none. Online purchases take the next unit of
    the order line not yet taken back; a line whose units are all registered is refused.
    The label is issued and emailed by a task after commit."""
    if not terms_accepted:
        raise TakeBackRefused("Please accept the take-back terms to continue.")
    if not items:
        raise TakeBackRefused("Please choose at least one item to send back.")
    now = timezone.now()
    created: list[TakeBack] = []
    saved: list[TakeBackPhoto] = []
    try:
        with transaction.atomic():
            _register_all(customer=customer, items=items, now=now, created=created, saved=saved)
    except Exception:
        # Nothing registered: the photo files written so far go too (no orphans on disk).
        for photo in saved:
            photo.image.storage.delete(photo.image.name)
        raise
    return created


def _register_all(*, customer, items, now, created, saved) -> None:
    for item in items:
        if item.condition not in Condition.values:
            raise TakeBackRefused("Please describe the item's condition.")
        checked = [photo_check(photo) for photo in item.photos]
        if len(checked) > settings.TAKEBACK_PHOTOS_MAX:
            raise TakeBackRefused(
                f"Please send at most {settings.TAKEBACK_PHOTOS_MAX} photos per item."
            )
        takeback = _register_one(customer=customer, item=item, now=now)
        for photo, (ext, content_type) in zip(item.photos, checked, strict=True):
            saved.append(
                _photo_save(takeback, photo, ext, content_type, kind="customer", user=customer)
            )
        _event(takeback, TakeBackEvent.Kind.REGISTERED, actor=customer)
        _enqueue("issue_label", takeback)
        created.append(takeback)


def _register_one(*, customer: Any, item: RegistrationItem, now: datetime) -> TakeBack:
    line, unit = None, None
    if item.line is not None:
        line = (
            Line.objects.select_for_update(of=("self",))
            .select_related("order", "product")
            .filter(pk=item.line.pk, order__user=customer)
            .first()
        )
        if line is None:
            raise TakeBackRefused("We could not find that item in your orders.")
        refusal = order_takeback_refusal(order=line.order)
        if refusal:
            raise TakeBackRefused(refusal)
        used = set(
            line.takebacks.exclude(status=TakeBack.Status.EXPIRED).values_list("unit", flat=True)
        )
        free = [n for n in range(1, line.quantity + 1) if n not in used]
        if not free:
            what = "it" if line.quantity == 1 else f"all {line.quantity}"
            raise TakeBackRefused(
                f"“{line.title}” from order {line.order.number} is already registered for "
                f"take-back ({what}); each item can be taken back once."
            )
        unit = free[0]
        product, title, source = line.product, line.title, TakeBack.Source.ONLINE
        year = line.order.date_placed.year
    else:
        product = item.product
        if product is None:
            raise TakeBackRefused("Please choose the product you are sending back.")
        if item.source not in (TakeBack.Source.BOUTIQUE, TakeBack.Source.GIFT):
            raise TakeBackRefused("Please say where the item came from.")
        year = item.purchase_year
        if year is not None and not (1962 <= year <= now.year):
            raise TakeBackRefused(f"Please give a purchase year between 1962 and {now.year}.")
        title, source = product.get_title(), item.source
    low, high = takeback_estimate(product=product, condition=item.condition)
    try:
        with transaction.atomic():
            return TakeBack.objects.create(
                customer=customer,
                source=source,
                line=line,
                unit=unit,
                product=product,
                product_title=title[:255],
                purchase_year=year,
                condition=item.condition,
                condition_notes=item.notes.strip()[:2000],
                estimate_low=low,
                estimate_high=high,
                leather_kg=leather_weight(product=product),
                terms_accepted_at=now,
            )
    except IntegrityError as exc:  # a concurrent registration took the unit
        raise TakeBackRefused(
            f"“{title}” is already registered for take-back; each item can be taken back once."
        ) from exc


def _photo_save(takeback, upload, ext, content_type, *, kind, user) -> TakeBackPhoto:
    photo = TakeBackPhoto(
        takeback=takeback, kind=kind, content_type=content_type, uploaded_by=_actor(user)
    )
    upload.seek(0)
    photo.image.save(f"photo.{ext}", upload, save=False)
    photo.save()
    return photo


def takeback_mark_shipped(*, takeback: TakeBack, actor: Any) -> TakeBack:
    """The customer (or staff, or a carrier scan) says the parcel is on its way."""
    with transaction.atomic():
        takeback = _locked(takeback)
        takeback.shipped_at = timezone.now()
        _move(
            takeback,
            TakeBack.Status.IN_TRANSIT,
            TakeBackEvent.Kind.SHIPPED,
            actor=actor,
            fields=["shipped_at"],
        )
    return takeback


def takeback_offer_answer(
    *, takeback: TakeBack, customer: Any, accept: bool, decline_choice: str = ""
) -> TakeBack:
    """The customer accepts the lower offer (credit follows) or declines it (the item is
    sent back or recycled, as they choose; the take-back closes)."""
    with transaction.atomic():
        takeback = _locked(takeback)
        if takeback.customer_id != customer.pk:
            raise TakeBackRefused("This is not your take-back.")
        if takeback.status != TakeBack.Status.OFFERED:
            raise TakeBackRefused("This offer has already been answered.")
        if accept:
            _move(takeback, TakeBack.Status.APPROVED, TakeBackEvent.Kind.ACCEPTED, actor=customer)
            _enqueue("issue_credit", takeback)
        else:
            if decline_choice not in TakeBack.DeclineChoice.values:
                raise TakeBackRefused("Please choose whether we send the item back or recycle it.")
            takeback.decline_choice = decline_choice
            takeback.closed_at = timezone.now()
            takeback.reason = (
                f"Offer declined: {TakeBack.DeclineChoice(decline_choice).label.lower()}."
            )
            _move(
                takeback,
                TakeBack.Status.CLOSED,
                TakeBackEvent.Kind.DECLINED,
                actor=customer,
                note=takeback.reason,
                fields=["decline_choice", "closed_at", "reason"],
            )
    return takeback


# --- Staff ---


def takeback_receive(*, tracking_number: str, staff: Any, note: str = "") -> TakeBack:
    """Mark the parcel with this tracking number received (typed or scanned)."""
    number = "".join((tracking_number or "").upper().split())
    if not number:
        raise TakeBackRefused("Please enter or scan a tracking number.")
    with transaction.atomic():
        takeback = TakeBack.objects.select_for_update().filter(tracking_number=number).first()
        if takeback is None:
            raise TakeBackRefused(f"No take-back has the tracking number {number}.")
        if takeback.status == TakeBack.Status.RECEIVED:
            raise TakeBackRefused(f"{takeback.reference} ({number}) was already received.")
        takeback.received_at = timezone.now()
        _move(
            takeback,
            TakeBack.Status.RECEIVED,
            TakeBackEvent.Kind.RECEIVED,
            actor=staff,
            note=note,
            fields=["received_at"],
        )
    return takeback


def takeback_grade(
    *,
    takeback: TakeBack,
    grade: str,
    route: str,
    staff: Any,
    notes: str = "",
    photos: list[UploadedFile] | None = None,
) -> TakeBack:
    """Grade a received item (A–D), choose its end-of-life route and propose the credit:
    the top of the rule's range for the product and grade (staff approve or adjust it)."""
    if grade not in Grade.values:
        raise TakeBackRefused("Please choose a grade from A to D.")
    if route not in Route.values:
        raise TakeBackRefused("Please choose an end-of-life route.")
    checked = [photo_check(photo) for photo in photos or []]
    with transaction.atomic():
        takeback = _locked(takeback)
        rule = credit_rule_for(product=takeback.product, grade=grade)
        takeback.grade, takeback.route = grade, route
        takeback.grade_notes = notes.strip()
        takeback.graded_at = timezone.now()
        takeback.credit_min = rule.min_amount if rule else Decimal("0.00")
        takeback.credit_max = rule.max_amount if rule else Decimal("0.00")
        takeback.credit_amount = takeback.credit_max
        _move(
            takeback,
            TakeBack.Status.GRADED,
            TakeBackEvent.Kind.GRADED,
            actor=staff,
            note=f"Grade {grade}, {Route(route).label.lower()}. {notes}".strip(),
            fields=[
                "grade",
                "route",
                "grade_notes",
                "graded_at",
                "credit_min",
                "credit_max",
                "credit_amount",
            ],
        )
        for photo, (ext, content_type) in zip(photos or [], checked, strict=True):
            _photo_save(takeback, photo, ext, content_type, kind="grading", user=staff)
    return takeback


def takeback_approve(
    *, takeback: TakeBack, staff: Any, amount: Decimal | None = None, note: str = ""
) -> TakeBack:
    """Approve the graded credit, or an adjusted amount within the rule's range. At or above
    the customer's estimate the credit is issued (by a task); below it, the customer is
    offered it and may accept or decline (no answer in time: accepted)."""
    with transaction.atomic():
        takeback = _locked(takeback)
        if takeback.status != TakeBack.Status.GRADED:
            raise TakeBackTransitionError(
                f"Take-back {takeback.reference} is {takeback.get_status_display().lower()}: "
                "only a graded take-back's credit can be approved."
            )
        if amount is None:
            amount = takeback.credit_amount
        if not isinstance(amount, Decimal):
            raise TypeError("amount must be a Decimal")
        amount = amount.quantize(Decimal("0.01"))
        if not (takeback.credit_min <= amount <= takeback.credit_max):
            raise TakeBackRefused(
                f"The credit for grade {takeback.grade} must be between £{takeback.credit_min} "
                f"and £{takeback.credit_max}."
            )
        takeback.credit_amount = amount
        text = f"£{amount}. {note}".strip()
        if amount < takeback.estimate_low:
            policy = takeback_policy()
            takeback.offer_made_at = timezone.now()
            takeback.offer_expires_at = takeback.offer_made_at + timedelta(days=policy.offer_days)
            _move(
                takeback,
                TakeBack.Status.OFFERED,
                TakeBackEvent.Kind.OFFERED,
                actor=staff,
                note=text,
                fields=["credit_amount", "offer_made_at", "offer_expires_at"],
            )
            _enqueue("send_email", takeback, "offer")
        else:
            _move(
                takeback,
                TakeBack.Status.APPROVED,
                TakeBackEvent.Kind.APPROVED,
                actor=staff,
                note=text,
                fields=["credit_amount"],
            )
            _enqueue("issue_credit", takeback)
    return takeback


def takeback_credit_issue(*, takeback: TakeBack) -> TakeBack:
    """Issue the approved credit to the customer's store credit, once (idempotent: a second
    call finds it issued). A take-back that is not approved (rejected, expired, declined,
    not yet graded) cannot be credited."""
    with transaction.atomic():
        takeback = _locked(takeback)
        if takeback.status in (TakeBack.Status.CREDIT_ISSUED, TakeBack.Status.CLOSED) and (
            takeback.credit_issued_at is not None
        ):
            return takeback
        if takeback.status != TakeBack.Status.APPROVED:
            raise TakeBackTransitionError(
                f"Take-back {takeback.reference} is {takeback.get_status_display().lower()}: "
                "it cannot be credited."
            )
        if takeback.credit_amount and takeback.credit_amount > 0:
            credit_issue(
                user=takeback.customer,
                amount=takeback.credit_amount,
                takeback=takeback,
                note=f"Take-back {takeback.reference}: {takeback.product_title}"[:255],
            )
        takeback.credit_issued_at = timezone.now()
        _move(
            takeback,
            TakeBack.Status.CREDIT_ISSUED,
            TakeBackEvent.Kind.CREDIT_ISSUED,
            actor=None,
            note=f"£{takeback.credit_amount}",
            fields=["credit_issued_at"],
        )
        _enqueue("send_email", takeback, "credit")
    return takeback


def takeback_close(*, takeback: TakeBack, staff: Any, note: str = "") -> TakeBack:
    """The item has gone its way (resold, repaired and returned, recycled): close it."""
    with transaction.atomic():
        takeback = _locked(takeback)
        takeback.closed_at = timezone.now()
        _move(
            takeback,
            TakeBack.Status.CLOSED,
            TakeBackEvent.Kind.CLOSED,
            actor=staff,
            note=note,
            fields=["closed_at"],
        )
    return takeback


def takeback_reject(*, takeback: TakeBack, staff: Any, reason: str) -> TakeBack:
    """Refuse a take-back (not our product, unsafe, ...). It can never be credited."""
    reason = (reason or "").strip()
    if not reason:
        raise TakeBackRefused("Please give the customer a reason for the rejection.")
    with transaction.atomic():
        takeback = _locked(takeback)
        takeback.reason = reason
        takeback.closed_at = timezone.now()
        _move(
            takeback,
            TakeBack.Status.REJECTED,
            TakeBackEvent.Kind.REJECTED,
            actor=staff,
            note=reason,
            fields=["reason", "closed_at"],
        )
        _enqueue("send_email", takeback, "rejected")
    return takeback


def takeback_photos_add(
    *, takeback: TakeBack, photos: list[UploadedFile], user: Any, staff: bool = False
) -> int:
    """Add photos: the customer's own until the item arrives, staff's (grading) any time
    before the take-back ends. Each is checked by content; at most TAKEBACK_PHOTOS_MAX of
    each kind."""
    if not photos:
        raise TakeBackRefused("Please choose at least one photo.")
    checked = [photo_check(photo) for photo in photos]
    kind = TakeBackPhoto.Kind.GRADING if staff else TakeBackPhoto.Kind.CUSTOMER
    with transaction.atomic():
        takeback = _locked(takeback)
        if staff and takeback.is_final:
            raise TakeBackRefused(f"Take-back {takeback.reference} has ended.")
        if not staff and (
            takeback.customer_id != user.pk or takeback.status not in CUSTOMER_PHOTO_STATUSES
        ):
            raise TakeBackRefused("Photos can be added until the item reaches us.")
        if takeback.photos.filter(kind=kind).count() + len(photos) > settings.TAKEBACK_PHOTOS_MAX:
            raise TakeBackRefused(
                f"A take-back holds at most {settings.TAKEBACK_PHOTOS_MAX} photos from you."
            )
        for photo, (ext, content_type) in zip(photos, checked, strict=True):
            _photo_save(takeback, photo, ext, content_type, kind=kind, user=user)
        _event(takeback, TakeBackEvent.Kind.PHOTO_ADDED, actor=user, note=f"{len(photos)}")
    return len(photos)


CUSTOMER_PHOTO_STATUSES = (
    TakeBack.Status.REGISTERED,
    TakeBack.Status.LABEL_ISSUED,
    TakeBack.Status.IN_TRANSIT,
)


def credit_rule_save(
    *,
    grade: str,
    min_amount: Decimal,
    max_amount: Decimal,
    product: Any = None,
    product_class: Any = None,
) -> CreditRule:
    if product is not None and product_class is not None:
        raise TakeBackRefused("A rule is for one product or one product class, not both.")
    if min_amount < 0 or max_amount < min_amount:
        raise TakeBackRefused("The minimum must be at least 0 and no more than the maximum.")
    rule, _ = CreditRule.objects.update_or_create(
        product=product,
        product_class=product_class,
        grade=grade,
        defaults={"min_amount": min_amount, "max_amount": max_amount},
    )
    return rule


# The default credit per grade (any product): seeded by migration 0002, restored by this.
DEFAULT_RULES = {
    "A": (Decimal("20.00"), Decimal("30.00")),
    "B": (Decimal("12.00"), Decimal("20.00")),
    "C": (Decimal("6.00"), Decimal("12.00")),
    "D": (Decimal("2.00"), Decimal("5.00")),
}


def credit_rules_default_ensure() -> int:
    """Create the default rules that are missing (never changes existing ones); returns how
    many were created."""
    created = 0
    for grade, (low, high) in DEFAULT_RULES.items():
        _, made = CreditRule.objects.get_or_create(
            product=None,
            product_class=None,
            grade=grade,
            defaults={"min_amount": low, "max_amount": high},
        )
        created += made
    return created


def takeback_policy_update(
    *, staff: Any, reminder_days: int, expiry_days: int, offer_days: int
) -> TakeBackPolicy:
    if not (0 < reminder_days < expiry_days) or offer_days < 1:
        raise TakeBackRefused(
            "The reminder must come before the expiry, and every limit must be at least a day."
        )
    policy = takeback_policy()
    policy.reminder_days, policy.expiry_days, policy.offer_days = (
        reminder_days,
        expiry_days,
        offer_days,
    )
    policy.updated_by = _actor(staff)
    policy.save()
    return policy


# --- Orders (the order pipeline's status signal calls these) ---


def takeback_void_for_order(*, order: Any, new_status: str) -> int:
    """An order cancelled or refunded voids its take-backs not yet credited: no credit is
    issued for them (a voided take-back cannot move on; its label no longer scans in). A
    credited take-back stays: its credit is deducted from the order's refund (see
    `selectors.takeback_refund_deduction`). Returns how many were voided."""
    if new_status not in (pipeline.CANCELLED, pipeline.REFUNDED):
        return 0
    voided = 0
    with transaction.atomic():
        ids = list(
            TakeBack.objects.filter(line__order=order, status__in=TakeBack.VOIDABLE)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for takeback in TakeBack.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
            if takeback.status not in TakeBack.VOIDABLE:
                continue
            takeback.reason = f"Order {order.number} was {new_status.lower()}."
            takeback.closed_at = timezone.now()
            _move(
                takeback,
                TakeBack.Status.VOIDED,
                TakeBackEvent.Kind.VOIDED,
                actor=None,
                note=takeback.reason,
                fields=["reason", "closed_at"],
            )
            voided += 1
    if voided:
        logger.info("Order %s %s: %s take-back(s) voided", order.number, new_status, voided)
    return voided


# --- Background work (tasks call these; each is idempotent) ---


def takeback_label_issue(*, takeback: TakeBack) -> TakeBack:
    """Give the take-back its prepaid label (a tracking number) and email it, once."""
    with transaction.atomic():
        takeback = _locked(takeback)
        if takeback.status == TakeBack.Status.REGISTERED:
            takeback.tracking_number = _unique_tracking_number()
            takeback.label_issued_at = timezone.now()
            _move(
                takeback,
                TakeBack.Status.LABEL_ISSUED,
                TakeBackEvent.Kind.LABEL_ISSUED,
                actor=None,
                note=takeback.tracking_number,
                fields=["tracking_number", "label_issued_at"],
            )
        if takeback.tracking_number:
            _enqueue("send_email", takeback, "label")
    return takeback


def _unique_tracking_number() -> str:
    while True:
        number = tracking_number_new()
        if not TakeBack.objects.filter(tracking_number=number).exists():
            return number


EMAILS = {
    "label": "Your prepaid return label",
    "reminder": "A reminder: your take-back label is waiting",
    "expired": "Your take-back has expired",
    "offer": "Our offer for your take-back",
    "credit": "Your store credit has been added",
    "rejected": "About your take-back",
}


def takeback_email_send(*, takeback: TakeBack, kind: str) -> bool:
    """Send one of the take-back emails, once per take-back and kind (the audit log holds
    an "Email sent" row per kind). Returns True when it was sent now."""
    if kind not in EMAILS:
        raise ValueError(f"Unknown take-back email {kind!r}")
    with transaction.atomic():
        takeback = _locked(takeback)
        if takeback.events.filter(kind=TakeBackEvent.Kind.EMAILED, note=kind).exists():
            return False
        customer = takeback.customer
        if not customer.email:
            return False
        context = {"takeback": takeback, "customer": customer, "site_url": _site_url()}
        message = EmailMultiAlternatives(
            subject=f"{EMAILS[kind]} ({takeback.reference})",
            body=render_to_string(f"shop/takeback/email/{kind}.txt", context),
            to=[customer.email],
        )
        if kind == "label":
            from shop.takeback.label import label_pdf

            message.attach(
                f"label-{takeback.reference}.pdf", label_pdf(takeback=takeback), "application/pdf"
            )
        message.send()
        _event(takeback, TakeBackEvent.Kind.EMAILED, note=kind)
    return True


def _site_url() -> str:
    from django.contrib.sites.models import Site

    return f"https://{Site.objects.get_current().domain}"


def takeback_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic job: remind customers who have not posted their parcel, expire the
    take-backs never posted, and accept offers left unanswered. Safe to run at any time
    and any number of times (each take-back is reminded once and moved once)."""
    now = now or timezone.now()
    policy = takeback_policy()
    counts = {"reminded": 0, "expired": 0, "accepted": 0}
    expiry_cutoff = now - timedelta(days=policy.expiry_days)
    reminder_cutoff = now - timedelta(days=policy.reminder_days)
    waiting = TakeBack.objects.filter(status__in=TakeBack.AWAITING_PARCEL)
    expire = waiting.filter(
        Q(label_issued_at__lte=expiry_cutoff)
        | Q(label_issued_at__isnull=True, created_at__lte=expiry_cutoff)
    )
    for pk in expire.values_list("pk", flat=True):
        with transaction.atomic():
            takeback = TakeBack.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if takeback is None or takeback.status not in TakeBack.AWAITING_PARCEL:
                continue
            takeback.reason = f"Not posted within {policy.expiry_days} days of the label."
            takeback.closed_at = now
            _move(
                takeback,
                TakeBack.Status.EXPIRED,
                TakeBackEvent.Kind.EXPIRED,
                actor=None,
                note=takeback.reason,
                fields=["reason", "closed_at"],
            )
            _enqueue("send_email", takeback, "expired")
            counts["expired"] += 1
    remind = waiting.filter(
        status=TakeBack.Status.LABEL_ISSUED,
        label_issued_at__lte=reminder_cutoff,
        reminder_sent_at__isnull=True,
    )
    for pk in remind.values_list("pk", flat=True):
        with transaction.atomic():
            takeback = TakeBack.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if takeback is None or takeback.reminder_sent_at is not None:
                continue
            takeback.reminder_sent_at = now
            takeback.save(update_fields=["reminder_sent_at", "updated_at"])
            _event(takeback, TakeBackEvent.Kind.REMINDED)
            _enqueue("send_email", takeback, "reminder")
            counts["reminded"] += 1
    offers = TakeBack.objects.filter(status=TakeBack.Status.OFFERED, offer_expires_at__lte=now)
    for pk in offers.values_list("pk", flat=True):
        with transaction.atomic():
            takeback = TakeBack.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if takeback is None or takeback.status != TakeBack.Status.OFFERED:
                continue
            _move(
                takeback,
                TakeBack.Status.APPROVED,
                TakeBackEvent.Kind.AUTO_ACCEPTED,
                actor=None,
                note=f"No answer within {policy.offer_days} days.",
            )
            _enqueue("issue_credit", takeback)
            counts["accepted"] += 1
    if any(counts.values()):
        logger.info("Take-back sweep: %s", counts)
    return counts


# --- Pre-loved: from grade to listing ---

# A take-back whose credit is settled (or being issued) is ours to resell.
PUBLISHABLE_STATUSES = (
    TakeBack.Status.APPROVED,
    TakeBack.Status.CREDIT_ISSUED,
    TakeBack.Status.CLOSED,
)
PRELOVED_PHOTO_MAX_SIDE = 1600


def preloved_publish(
    *,
    takeback: TakeBack,
    staff: Any,
    price: Decimal | None = None,
    photo_ids: list[int] | None = None,
    repair_note: str = "",
) -> PreLovedPiece:
    """List a graded A/B take-back routed to resale as a one-off pre-loved product: a
    stand-alone sibling of the original (its facts, story and product class carried over),
    titled "…, pre-loved, grade B", priced from the resale rule (the top of its range unless
    staff choose a price within it), stock one, personalization switched off, the chosen
    photos published as resized copies without their metadata (the private originals stay
    where they are). Refused, with the reason: another grade, not received, not routed to
    resale, credit not approved, already published, a price outside the rule."""
    photo_ids = list(dict.fromkeys(photo_ids or []))
    repair_note = (repair_note or "").strip()[:2000]
    with transaction.atomic():
        takeback = _locked(takeback)
        _publish_check(takeback)
        original = takeback.product
        low, high, new_price = preloved_price_limits(product=original, grade=takeback.grade)
        if price is None:
            price = high
        if not isinstance(price, Decimal) or not price.is_finite():
            raise TakeBackRefused("Please enter a price in pounds.")
        if price <= 0:
            raise TakeBackRefused("The price must be more than £0.")
        if price != price.quantize(Decimal("0.01")):
            raise TakeBackRefused("Please give the price in pounds and pence.")
        if not (low <= price <= high):
            rule = ResaleRule.objects.get(grade=takeback.grade)
            raise TakeBackRefused(
                f"The price for grade {takeback.grade} must be between £{low} and £{high} "
                f"({rule.min_share}–{rule.max_share}% of the new price, £{new_price})."
            )
        photos = list(takeback.photos.filter(pk__in=photo_ids).order_by("pk"))
        if len(photos) != len(photo_ids):
            raise TakeBackRefused("Please choose photos of this take-back only.")
        product = _preloved_product(takeback=takeback, original=original, price=price)
        piece = PreLovedPiece.objects.create(
            takeback=takeback,
            product=product,
            original=original.parent if original.is_child else original,
            grade=takeback.grade,
            price=price,
            new_price=new_price,
            credit_paid=takeback.credit_amount or Decimal("0.00"),
            repair_note=repair_note,
            listed_at=timezone.now(),
            listed_by=_actor(staff),
        )
        # Its listing facts and search document now, in this transaction: the piece is on
        # the shop's listings the moment it is published, not when the refresh task runs.
        search_refresh(product_ids=[product.pk])
        written: list[str] = []
        try:
            for order, photo in enumerate(photos):
                written.append(_photo_publish(photo=photo, product=product, order=order))
            _event(
                takeback,
                TakeBackEvent.Kind.PUBLISHED,
                actor=staff,
                note=f"{product.title}, £{price} ({len(photos)} photo(s)).",
            )
        except Exception:
            from django.core.files.storage import default_storage

            for name in written:
                default_storage.delete(name)
            raise
    return piece


def _publish_check(takeback: TakeBack) -> None:
    ref = takeback.reference
    if PreLovedPiece.objects.filter(takeback=takeback).exists():
        raise TakeBackRefused(f"{ref} is already published as a pre-loved piece.")
    if takeback.received_at is None:
        raise TakeBackRefused(f"{ref} has not been received yet: there is nothing to publish.")
    if takeback.grade not in RESALE_GRADES:
        what = f"grade {takeback.grade}" if takeback.grade else "not graded yet"
        raise TakeBackRefused(f"{ref} is {what}: only grade A or B pieces are resold as pre-loved.")
    if takeback.route != Route.RESELL:
        raise TakeBackRefused(
            f"{ref} is routed to “{takeback.get_route_display().lower()}”: only pieces routed "
            "to resale are published."
        )
    if takeback.status not in PUBLISHABLE_STATUSES or (
        takeback.status == TakeBack.Status.CLOSED and takeback.credit_issued_at is None
    ):
        raise TakeBackRefused(
            f"{ref} is “{takeback.staff_status_label.lower()}”: a piece is published once "
            "its credit is approved."
        )
    if takeback.product is None:
        raise TakeBackRefused(f"{ref}'s product is no longer in the catalogue.")


def _preloved_product(*, takeback: TakeBack, original: Any, price: Decimal) -> Any:
    """The listing: a stand-alone product of the original's class, its attribute values (the
    facts) and story copied, in the Pre-loved category, one in stock, no personalization."""
    from shop.catalogue.models import Category, Product, ProductCategory
    from shop.partner.models import StockRecord
    from shop.personalization.models import Kind, PersonalizationOffer

    base = original.parent if original.is_child else original
    title = f"{original.get_title()}, pre-loved, grade {takeback.grade}"
    product = Product.objects.create(
        structure=Product.STANDALONE,
        product_class=base.get_product_class(),
        title=title[:255],
        upc=f"PL-{takeback.reference}",
        description=base.description,
        is_public=True,
        is_discountable=False,
    )
    for value in original.get_attribute_values():
        is_multi = value.attribute.type == value.attribute.MULTI_OPTION
        multi = list(value.value_multi_option.all()) if is_multi else []
        value.pk, value.id, value.product = None, None, product
        value._state.adding = True
        value.save()
        if multi:
            value.value_multi_option.set(multi)
    for category in base.get_categories():
        ProductCategory.objects.get_or_create(product=product, category=category)
    category = Category.objects.filter(name=PRELOVED_CATEGORY, depth=1).first()
    if category is None:
        category = Category.add_root(
            name=PRELOVED_CATEGORY,
            description="<p>One-off pieces, taken back, graded and made good in our workshop.</p>",
        )
    ProductCategory.objects.get_or_create(product=product, category=category)
    partner = (
        StockRecord.objects.filter(product=original).values_list("partner_id", flat=True).first()
        or StockRecord.objects.filter(product__parent=base)
        .values_list("partner_id", flat=True)
        .first()
    )
    if partner is None:
        raise TakeBackRefused("The original product has no stock record to sell it from.")
    StockRecord.objects.create(
        product=product,
        partner_id=partner,
        partner_sku=product.upc,
        price=price,
        price_currency=settings.OSCAR_DEFAULT_CURRENCY,
        num_in_stock=1,
        # The credit is a cost of the customer who earned it, not of the piece's buyer.
        cost_price=Decimal("0.00"),
    )
    PersonalizationOffer.objects.bulk_create(
        PersonalizationOffer(product=product, kind=kind, is_active=False) for kind in Kind.values
    )
    ProductWeight.objects.create(product=product, leather_kg=takeback.leather_kg)
    return product


def _photo_publish(*, photo: TakeBackPhoto, product: Any, order: int) -> str:
    """A public copy of a private photo: decoded, turned upright, at most
    PRELOVED_PHOTO_MAX_SIDE pixels a side, re-encoded as a JPEG with no EXIF or other
    metadata, under a new random name. Returns the stored name."""
    import io
    import secrets

    from django.core.files.base import ContentFile
    from PIL import Image, ImageOps

    from shop.catalogue.models import ProductImage

    with photo.image.open("rb") as handle, Image.open(handle) as source:
        image = ImageOps.exif_transpose(source).convert("RGB")
    image.thumbnail((PRELOVED_PHOTO_MAX_SIDE, PRELOVED_PHOTO_MAX_SIDE))
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    buffer = io.BytesIO()
    clean.save(buffer, "JPEG", quality=85, optimize=True)
    picture = ProductImage(product=product, display_order=order, caption=product.title[:200])
    picture.original.save(
        f"preloved-{secrets.token_hex(8)}.jpg", ContentFile(buffer.getvalue()), save=False
    )
    picture.save()
    return picture.original.name


def preloved_sold_for_order(*, order: Any, new_status: str) -> int:
    """The order's pre-loved pieces: sold when it is paid (the listing leaves the shop),
    back on sale when the order ends (cancelled or refunded) before it is dispatched.
    Returns how many changed."""
    if new_status == pipeline.PAID:
        lines = list(
            order.lines.filter(product__preloved_piece__isnull=False).values_list(
                "pk", "product_id"
            )
        )
        for line_id, product_id in lines:
            PreLovedPiece.objects.filter(product_id=product_id, sold_at__isnull=True).update(
                sold_at=order.paid_at or timezone.now(), sold_line_id=line_id
            )
            _product_public(product_id, False)
        return len(lines)
    if pipeline.ended_before_dispatch(status=new_status, shipped_at=order.shipped_at):
        pieces = list(PreLovedPiece.objects.filter(sold_line__order=order))
        for piece in pieces:
            PreLovedPiece.objects.filter(pk=piece.pk).update(sold_at=None, sold_line=None)
            _product_public(piece.product_id, True)
        return len(pieces)
    return 0


def _product_public(product_id: int, public: bool) -> None:
    # Saved (not updated) so the page cache hears of it: a sold piece leaves every page.
    from shop.catalogue.models import Product

    product = Product.objects.get(pk=product_id)
    if product.is_public != public:
        product.is_public = public
        product.save(update_fields=["is_public", "date_updated"])


# The resale price rules per grade: seeded by migration, restored by this.
DEFAULT_RESALE_RULES = {"A": (55, 70), "B": (40, 55)}


def resale_rule_save(*, grade: str, min_share: int, max_share: int) -> ResaleRule:
    if grade not in RESALE_GRADES:
        raise TakeBackRefused("Only grades A and B are resold.")
    if not (0 < min_share <= max_share <= 100):
        raise TakeBackRefused(
            "The shares are percentages of the new price: the lowest above 0, the highest at "
            "most 100 and not below the lowest."
        )
    rule, _ = ResaleRule.objects.update_or_create(
        grade=grade, defaults={"min_share": min_share, "max_share": max_share}
    )
    return rule


def resale_rules_default_ensure() -> int:
    created = 0
    for grade, (low, high) in DEFAULT_RESALE_RULES.items():
        _, made = ResaleRule.objects.get_or_create(
            grade=grade, defaults={"min_share": low, "max_share": high}
        )
        created += made
    return created
