"""Reads for the take-back scheme: rules and estimates, the customer's and staff's lists,
the timeline, and the report queries (the database aggregates)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import (
    Count,
    DecimalField,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from shop.credit.models import CreditEntry
from shop.takeback.models import (
    CONDITION_GRADES,
    CreditRule,
    PreLovedPiece,
    ProductWeight,
    ResaleRule,
    TakeBack,
    TakeBackEvent,
    TakeBackPolicy,
)

ZERO = Decimal("0.00")
PRELOVED_CATEGORY = "Pre-loved"


def takeback_policy() -> TakeBackPolicy:
    """The scheme's time limits (the row is made from settings the first time)."""
    policy, _ = TakeBackPolicy.objects.get_or_create(
        pk=1,
        defaults={
            "reminder_days": settings.TAKEBACK_REMINDER_DAYS,
            "expiry_days": settings.TAKEBACK_EXPIRY_DAYS,
            "offer_days": settings.TAKEBACK_OFFER_DAYS,
        },
    )
    return policy


def credit_rule_for(*, product: Any, grade: str) -> CreditRule | None:
    """The most specific rule for the product and grade: the product's (or its parent's),
    then its product class's, then the default."""
    q = Q(product__isnull=True, product_class__isnull=True)
    ranks = {}
    if product is not None:
        ids = [product.pk] + ([product.parent_id] if product.parent_id else [])
        q |= Q(product_id__in=ids)
        product_class = product.get_product_class()
        if product_class is not None:
            q |= Q(product_class=product_class)
        ranks = {pid: i for i, pid in enumerate(ids)}
    rules = list(CreditRule.objects.filter(q, grade=grade))

    def rank(rule: CreditRule) -> tuple[int, int]:
        if rule.product_id:
            return (0, ranks.get(rule.product_id, 9))
        if rule.product_class_id:
            return (1, 0)
        return (2, 0)

    return min(rules, key=rank) if rules else None


def takeback_estimate(*, product: Any, condition: str) -> tuple[Decimal, Decimal]:
    """The credit range a customer can expect for the product in the described condition:
    from the lowest grade the condition suggests (its rule's minimum) to the best (maximum)."""
    best, worst = CONDITION_GRADES[condition]
    high_rule = credit_rule_for(product=product, grade=best)
    low_rule = credit_rule_for(product=product, grade=worst)
    low = low_rule.min_amount if low_rule else ZERO
    high = high_rule.max_amount if high_rule else ZERO
    return min(low, high), max(low, high)


def leather_weight(*, product: Any) -> Decimal:
    if product is not None:
        ids = [product.pk] + ([product.parent_id] if product.parent_id else [])
        weights = dict(
            ProductWeight.objects.filter(product_id__in=ids).values_list("product_id", "leather_kg")
        )
        for pid in ids:
            if pid in weights:
                return weights[pid]
    return Decimal(settings.TAKEBACK_DEFAULT_LEATHER_KG)


# --- What may be taken back (the one place of this rule) ---


def returnable_order_q(*, prefix: str = "", now: datetime | None = None) -> Q:
    """Orders whose goods the customer holds: delivered, or shipped at least
    TAKEBACK_SHIPPED_DAYS ago (delivery never confirmed). `prefix` reaches the order from
    another model ("order__" from a line)."""
    from shop.order import pipeline

    cutoff = (now or timezone.now()) - timedelta(days=settings.TAKEBACK_SHIPPED_DAYS)
    return Q(**{f"{prefix}status": pipeline.DELIVERED}) | Q(
        **{f"{prefix}status": pipeline.SHIPPED, f"{prefix}shipped_at__lte": cutoff}
    )


def order_takeback_refusal(*, order: Any, now: datetime | None = None) -> str:
    """Why the order's items cannot be taken back yet, or "" when they can."""
    from shop.order import pipeline

    now = now or timezone.now()
    if order.status == pipeline.DELIVERED:
        return ""
    days = settings.TAKEBACK_SHIPPED_DAYS
    if order.status == pipeline.SHIPPED:
        if order.shipped_at and order.shipped_at <= now - timedelta(days=days):
            return ""
        return (
            f"Order {order.number} is on its way: its items can be taken back once delivered "
            f"(or {days} days after it shipped)."
        )
    if order.status in (pipeline.CANCELLED, pipeline.REFUNDED):
        return f"Order {order.number} is {order.status.lower()}: its items cannot be taken back."
    return (
        f"Order {order.number} has not been delivered yet: its items can be taken back once "
        "they reach you."
    )


def takeback_refund_deduction(*, order: Any) -> tuple[Decimal, str]:
    """Store credit already issued for items of the order (credited take-backs): the order's
    refunds hold it back, so an item is never paid for twice. Returns (amount, reason)."""
    credited = TakeBack.objects.filter(
        line__order=order,
        credit_issued_at__isnull=False,
        status__in=(TakeBack.Status.CREDIT_ISSUED, TakeBack.Status.CLOSED),
    )
    rows = list(credited.order_by("pk").values_list("reference", "credit_amount"))
    total = sum((amount or ZERO for _, amount in rows), ZERO)
    if not total:
        return ZERO, ""
    refs = ", ".join(f"{ref} (£{amount})" for ref, amount in rows)
    return total, f"£{total} of store credit was paid for items taken back: {refs}."


# --- Customers ---


def customer_takebacks(*, customer: Any) -> QuerySet[TakeBack]:
    return TakeBack.objects.filter(customer=customer).select_related("line__order")


def customer_takeback_get(*, customer: Any, pk: int) -> TakeBack | None:
    """The customer's own take-back, or None (someone else's is as good as missing)."""
    if not getattr(customer, "is_authenticated", False):
        return None
    return customer_takebacks(customer=customer).filter(pk=pk).first()


def customer_returnable_lines(*, customer: Any) -> list[Any]:
    """The customer's order lines with units not yet registered, newest order first; each
    line carries `units_left`."""
    from shop.order.models import Line

    lines = (
        Line.objects.filter(returnable_order_q(prefix="order__"), order__user=customer)
        .annotate(
            registered=Count("takebacks", filter=~Q(takebacks__status=TakeBack.Status.EXPIRED))
        )
        .select_related("order", "product", "product__parent")
        .order_by("-order__date_placed", "pk")
    )
    result = []
    for line in lines:
        line.units_left = line.quantity - line.registered
        if line.units_left > 0:
            result.append(line)
    return result


@dataclass
class TimelineStep:
    status: str
    label: str
    state: str  # "done", "current", "todo"
    at: datetime | None = None


def takeback_timeline(*, takeback: TakeBack) -> list[TimelineStep]:
    """The customer's timeline: registered → label issued → in transit → received → graded
    → credit issued → closed, with when each step happened; a rejected or expired take-back
    ends at that step."""
    reached: dict[str, datetime] = {}
    for event in takeback.events.all():
        reached.setdefault(event.status, event.created_at)
    order = list(TakeBack.TIMELINE)
    status = takeback.status
    ended = status in (TakeBack.Status.REJECTED, TakeBack.Status.EXPIRED, TakeBack.Status.VOIDED)
    # Offers and approvals belong to the "graded" step of the customer's timeline.
    if status in (TakeBack.Status.OFFERED, TakeBack.Status.APPROVED):
        status = TakeBack.Status.GRADED
    if ended:
        current = max((i for i, step in enumerate(order) if step in reached), default=0)
    else:
        current = order.index(status)
    steps = []
    for i, step in enumerate(order):
        if (
            step == TakeBack.Status.CREDIT_ISSUED
            and status == TakeBack.Status.CLOSED
            and takeback.credit_issued_at is None
        ):
            continue  # closed without credit: the customer declined the offer
        if i < current or (i == current and (ended or status == TakeBack.Status.CLOSED)):
            state = "done"
        elif i == current:
            state = "current"
        elif ended:
            break
        else:
            state = "todo"
        steps.append(TimelineStep(step, TakeBack.Status(step).label, state, reached.get(step)))
    if ended:
        label, at = takeback.get_status_display(), reached.get(takeback.status)
        steps.append(TimelineStep(takeback.status, label, "ended", at))
    return steps


# --- Staff ---


def staff_queue(
    *,
    status: str = "",
    age_days: int | None = None,
    product: str = "",
    condition: str = "",
    q: str = "",
) -> QuerySet[TakeBack]:
    """The dashboard queue, oldest first, with the filters staff use. `q` searches the
    customer (name, email), the tracking number and the reference."""
    qs = TakeBack.objects.select_related("customer")
    if status == "open":
        qs = qs.exclude(status__in=TakeBack.FINAL)
    elif status:
        qs = qs.filter(status=status)
    if age_days:
        qs = qs.filter(created_at__lte=timezone.now() - timedelta(days=age_days))
    if product:
        qs = qs.filter(product_title__icontains=product)
    if condition:
        qs = qs.filter(condition=condition)
    if q:
        term = q.strip()
        compact = "".join(term.upper().split())
        qs = qs.filter(
            Q(tracking_number=compact)
            | Q(reference__iexact=term)
            | Q(customer__email__icontains=term)
            | Q(customer__first_name__icontains=term)
            | Q(customer__last_name__icontains=term)
        )
    return qs.order_by("created_at", "pk")


def takeback_audit_log(*, takeback: TakeBack) -> QuerySet[TakeBackEvent]:
    return takeback.events.select_related("actor").order_by("created_at", "pk")


# --- Reports (the database aggregates) ---


def _range(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(start, time.min), tz),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz),
    )


def takebacks_per_month(*, start: date, end: date) -> QuerySet:
    """Take-backs registered per month (store time zone) and current status."""
    since, until = _range(start, end)
    return (
        TakeBack.objects.filter(created_at__gte=since, created_at__lt=until)
        .annotate(month=TruncMonth("created_at"))
        .values("month", "status")
        .annotate(count=Count("pk"))
        .order_by("month", "status")
    )


def takeback_credit_totals(*, start: date, end: date) -> dict[str, Decimal]:
    """Credit issued by take-backs and credit redeemed at checkout (net of restorations) in
    the range, and the redemption rate (redeemed / issued)."""
    since, until = _range(start, end)
    sums = CreditEntry.objects.filter(created_at__gte=since, created_at__lt=until).aggregate(
        issued=Coalesce(
            Sum("amount", filter=Q(kind=CreditEntry.Kind.ISSUED)),
            Value(ZERO),
            output_field=DecimalField(),
        ),
        spent=Coalesce(
            Sum("amount", filter=Q(kind__in=(CreditEntry.Kind.SPENT, CreditEntry.Kind.RESTORED))),
            Value(ZERO),
            output_field=DecimalField(),
        ),
    )
    issued, redeemed = sums["issued"], -sums["spent"]
    rate = (redeemed / issued * 100).quantize(Decimal("0.1")) if issued else None
    return {"issued": issued, "redeemed": redeemed, "redemption_rate": rate}


def takeback_routes_share(*, start: date, end: date) -> QuerySet:
    """Graded take-backs per end-of-life route (resell / repair and return / recycle)."""
    since, until = _range(start, end)
    return (
        TakeBack.objects.filter(graded_at__gte=since, graded_at__lt=until)
        .exclude(route="")
        .values("route")
        .annotate(count=Count("pk"), leather_kg=Sum("leather_kg"))
        .order_by("route")
    )


def takeback_landfill_kg(*, start: date, end: date) -> Decimal:
    """Leather kept out of landfill: the weight of items received and graded in the range
    (every route keeps it out: resold, repaired or recycled with a partner)."""
    since, until = _range(start, end)
    total = TakeBack.objects.filter(graded_at__gte=since, graded_at__lt=until).aggregate(
        kg=Sum("leather_kg")
    )["kg"]
    return total or Decimal("0.000")


def takeback_credits_per_customer(*, start: date, end: date) -> QuerySet:
    """Store credit per customer in [start, end] (store time zone): `issued` by take-backs
    (and goodwill), `redeemed` at checkout net of credit given back for orders not placed.
    Rows: user_id, email, issued, redeemed (both positive Decimals). For customer
    profitability, credit is a cost of the customer."""
    since, until = _range(start, end)
    return (
        CreditEntry.objects.filter(created_at__gte=since, created_at__lt=until)
        .values(user_id=F("account__user_id"), email=F("account__user__email"))
        .annotate(
            issued=Coalesce(
                Sum("amount", filter=Q(kind=CreditEntry.Kind.ISSUED)),
                Value(ZERO),
                output_field=DecimalField(),
            ),
            redeemed=Coalesce(
                -Sum(
                    "amount",
                    filter=Q(kind__in=(CreditEntry.Kind.SPENT, CreditEntry.Kind.RESTORED)),
                ),
                Value(ZERO),
                output_field=DecimalField(),
            ),
        )
        .order_by("user_id")
    )


def estimates_by_condition(*, product: Any) -> list[tuple[str, str, Decimal, Decimal]]:
    """(condition, label, low, high) for each condition, for the registration page."""
    from shop.takeback.models import Condition

    rows = []
    for value, label in Condition.choices:
        low, high = takeback_estimate(product=product, condition=value)
        rows.append((value, label.split(":")[0], low, high))
    return rows


def takebacks_per_month_table(*, start: date, end: date) -> list[dict]:
    """takebacks_per_month pivoted for display: one row per month, a count per status."""
    rows: dict[Any, dict] = {}
    for row in takebacks_per_month(start=start, end=end):
        month = timezone.localtime(row["month"]).date() if row["month"] else None
        entry = rows.setdefault(month, {"month": month, "total": 0, "by_status": {}})
        entry["by_status"][row["status"]] = row["count"]
        entry["total"] += row["count"]
    return [rows[m] for m in sorted(rows)]


# --- Pre-loved ---


def product_new_price(*, product: Any) -> Decimal | None:
    """The product's current shelf price (incl. VAT) from its stock record; for a parent, the
    lowest of its children's."""
    from shop.partner.models import StockRecord

    if product is None:
        return None
    records = StockRecord.objects.filter(Q(product=product) | Q(product__parent=product))
    return records.order_by("price").values_list("price", flat=True).first()


def preloved_price_limits(*, product: Any, grade: str) -> tuple[Decimal, Decimal, Decimal]:
    """(lowest, highest, new price): the prices the resale rule allows for a piece of
    `product` in `grade`, in pounds and pence. TakeBackRefused when there is no rule for the
    grade or no new price."""
    from decimal import ROUND_CEILING, ROUND_FLOOR

    from shop.takeback.services import TakeBackRefused

    rule = ResaleRule.objects.filter(grade=grade).first()
    if rule is None:
        raise TakeBackRefused(f"There is no resale price rule for grade {grade}.")
    new_price = product_new_price(product=product)
    if not new_price or new_price <= 0:
        raise TakeBackRefused("The original product has no current price to price it from.")
    penny = Decimal("0.01")
    low = (new_price * rule.min_share / 100).quantize(penny, rounding=ROUND_CEILING)
    high = (new_price * rule.max_share / 100).quantize(penny, rounding=ROUND_FLOOR)
    return low, high, new_price


def preloved_piece_for(*, takeback: TakeBack) -> PreLovedPiece | None:
    return (
        PreLovedPiece.objects.filter(takeback=takeback)
        .select_related("product", "sold_line__order")
        .first()
    )


def preloved_publish_offer(*, takeback: TakeBack) -> dict | None:
    """What the publish form shows (the price limits and the proposal), or None when the
    take-back cannot be published (the service says why if asked anyway)."""
    from shop.takeback.models import RESALE_GRADES
    from shop.takeback.services import PUBLISHABLE_STATUSES, TakeBackRefused

    if (
        takeback.grade not in RESALE_GRADES
        or takeback.route != "resell"
        or takeback.status not in PUBLISHABLE_STATUSES
        or takeback.received_at is None
        or PreLovedPiece.objects.filter(takeback=takeback).exists()
    ):
        return None
    try:
        low, high, new_price = preloved_price_limits(product=takeback.product, grade=takeback.grade)
    except TakeBackRefused as exc:
        return {"error": str(exc)}
    return {"low": low, "high": high, "new_price": new_price}


@dataclass
class ProvenanceStep:
    what: str
    at: datetime | None
    detail: str
    url: str = ""


def piece_provenance(*, takeback: TakeBack) -> list[ProvenanceStep]:
    """The piece's history, oldest first: its first sale, each take-back, each listing as
    pre-loved and each resale, across the take-backs of the same physical piece."""
    from django.urls import reverse

    chain: list[TakeBack] = []
    seen: set[int] = set()
    current: TakeBack | None = takeback
    while current is not None and current.pk not in seen:  # back to the first sale
        seen.add(current.pk)
        chain.insert(0, current)
        earlier = (
            PreLovedPiece.objects.filter(product_id=current.product_id)
            .select_related("takeback")
            .first()
            if current.product_id
            else None
        )
        current = earlier.takeback if earlier else None
    current = takeback
    while True:  # on to later take-backs of the piece
        piece = PreLovedPiece.objects.filter(takeback=current).first()
        if piece is None or piece.sold_line_id is None:
            break
        later = (
            TakeBack.objects.filter(line_id=piece.sold_line_id)
            .exclude(status=TakeBack.Status.EXPIRED)
            .order_by("pk")
            .first()
        )
        if later is None or later.pk in seen:
            break
        seen.add(later.pk)
        chain.append(later)
        current = later
    steps: list[ProvenanceStep] = []
    for i, step_tb in enumerate(chain):
        line = step_tb.line
        if i == 0 and line is not None:
            steps.append(
                ProvenanceStep(
                    "Sold new",
                    line.order.date_placed,
                    f"Order {line.order.number} · {line.title}",
                    reverse("dashboard:order-detail", kwargs={"number": line.order.number}),
                )
            )
        credit = f", £{step_tb.credit_amount} credit" if step_tb.credit_issued_at else ""
        steps.append(
            ProvenanceStep(
                "Taken back",
                step_tb.created_at,
                f"{step_tb.reference} from {step_tb.customer.email}"
                + (f", grade {step_tb.grade}" if step_tb.grade else "")
                + credit
                + f" · {step_tb.staff_status_label}",
                reverse("takeback-dashboard:detail", kwargs={"pk": step_tb.pk}),
            )
        )
        piece = preloved_piece_for(takeback=step_tb)
        if piece is None:
            continue
        steps.append(
            ProvenanceStep(
                "Listed pre-loved",
                piece.listed_at,
                f"{piece.product.title}, £{piece.price}",
                reverse("dashboard:catalogue-product", kwargs={"pk": piece.product_id}),
            )
        )
        if piece.sold_line is not None:
            order = piece.sold_line.order
            steps.append(
                ProvenanceStep(
                    "Resold",
                    piece.sold_at,
                    f"Order {order.number}",
                    reverse("dashboard:order-detail", kwargs={"number": order.number}),
                )
            )
    return steps


def preloved_category() -> Any:
    from shop.catalogue.models import Category

    return Category.objects.filter(name=PRELOVED_CATEGORY, depth=1).first()


def preloved_on_sale(*, limit: int = 4) -> Any:
    """Pre-loved pieces on sale, newest first, as product cards (the catalogue's listing)."""
    from shop.catalogue.selectors import product_list

    category = preloved_category()
    if category is None:
        return []
    return product_list(category=category, sort="newest")[:limit]


def preloved_piece_of_product(*, product: Any) -> PreLovedPiece | None:
    """The piece a pre-loved listing sells, or None for any other product."""
    if product is None or not product.pk or not product.is_standalone:
        return None
    return PreLovedPiece.objects.filter(product_id=product.pk).first()


def preloved_from(*, product: Any) -> dict | None:
    """For an original's page: its pre-loved pieces on sale (listed, not sold), the lowest
    price and the cheapest piece; None when there are none."""
    from django.db.models import Min

    if product is None or not product.pk:
        return None
    base_id = product.parent_id if product.is_child else product.pk
    on_sale = PreLovedPiece.objects.filter(
        original_id=base_id,
        sold_at__isnull=True,
        product__is_public=True,
    )
    summary = on_sale.aggregate(lowest=Min("price"), count=Count("pk"))
    if not summary["count"]:
        return None
    cheapest = on_sale.order_by("price", "pk").select_related("product").first()
    return {"lowest": summary["lowest"], "count": summary["count"], "piece": cheapest}


# --- Pre-loved figures for the report (the database aggregates) ---


def preloved_report(*, start: date, end: date) -> dict[str, Any]:
    """Pieces listed and sold in the range, the average days from listing to sale, resale
    revenue (the sold order lines, excl. VAT: what the shop keeps) and its margin against
    the credit paid for those pieces."""
    from django.db.models import Avg, DurationField, ExpressionWrapper

    since, until = _range(start, end)
    listed = PreLovedPiece.objects.filter(listed_at__gte=since, listed_at__lt=until).count()
    sold = PreLovedPiece.objects.filter(
        sold_at__gte=since, sold_at__lt=until, sold_line__isnull=False
    ).aggregate(
        count=Count("pk"),
        revenue=Coalesce(
            Sum("sold_line__line_price_excl_tax"), Value(ZERO), output_field=DecimalField()
        ),
        credit=Coalesce(Sum("credit_paid"), Value(ZERO), output_field=DecimalField()),
        time_to_sell=Avg(
            ExpressionWrapper(F("sold_at") - F("listed_at"), output_field=DurationField())
        ),
    )
    days = sold["time_to_sell"]
    return {
        "listed": listed,
        "sold": sold["count"],
        "days_to_sell": (
            Decimal(days.total_seconds() / 86400).quantize(Decimal("0.1"))
            if days is not None
            else None
        ),
        "revenue": sold["revenue"],
        "credit_paid": sold["credit"],
        "margin": sold["revenue"] - sold["credit"],
        "on_sale": PreLovedPiece.objects.filter(
            sold_at__isnull=True, product__is_public=True
        ).count(),
    }


def scheme_net_cost_by_month(*, start: date, end: date) -> list[dict[str, Any]]:
    """Per month (store time zone): take-back credit issued, resale revenue (excl. VAT) and
    the scheme's net cost = credit issued − resale revenue (negative: the scheme paid for
    itself that month)."""
    since, until = _range(start, end)
    credit = (
        CreditEntry.objects.filter(
            created_at__gte=since,
            created_at__lt=until,
            kind=CreditEntry.Kind.ISSUED,
            takeback__isnull=False,
        )
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(total=Sum("amount"))
    )
    resale = (
        PreLovedPiece.objects.filter(sold_at__gte=since, sold_at__lt=until, sold_line__isnull=False)
        .annotate(month=TruncMonth("sold_at"))
        .values("month")
        .annotate(total=Sum("sold_line__line_price_excl_tax"))
    )
    months: dict[Any, dict[str, Any]] = {}
    for key, rows in (("credit", credit), ("revenue", resale)):
        for row in rows:
            month = timezone.localtime(row["month"]).date()
            entry = months.setdefault(month, {"month": month, "credit": ZERO, "revenue": ZERO})
            entry[key] = row["total"] or ZERO
    result = [months[m] for m in sorted(months)]
    for entry in result:
        entry["net_cost"] = entry["credit"] - entry["revenue"]
    return result


def leather_kept_and_recycled(*, start: date, end: date) -> dict[str, Decimal]:
    """Leather (kg) of items graded in the range: kept in use (resold or repaired and
    returned) apart from recycled with a partner."""
    since, until = _range(start, end)
    weights = TakeBack.objects.filter(graded_at__gte=since, graded_at__lt=until).aggregate(
        kept=Coalesce(
            Sum("leather_kg", filter=Q(route__in=("resell", "repair_return"))),
            Value(Decimal("0.000")),
            output_field=DecimalField(),
        ),
        recycled=Coalesce(
            Sum("leather_kg", filter=Q(route="recycle")),
            Value(Decimal("0.000")),
            output_field=DecimalField(),
        ),
    )
    return {"kept_kg": weights["kept"], "recycled_kg": weights["recycled"]}
