"""Reads for lifecycle emails: consent, each campaign's candidates (the database finds them),
whether a queued email still has something to say, and the staff page's figures (the
database counts and sums)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from shop.basket.models import Basket
from shop.lifecycle.models import Campaign, ConsentChange, MarketingConsent, Send
from shop.order import pipeline
from shop.order.models import Line, Order

# An email is attributed the orders its recipient paid within this long after it was sent.
ATTRIBUTION_WINDOW = timedelta(days=7)
# Baskets left longer than the wait plus this are not chased (a basket abandoned months ago
# is not "still in your basket" news), nor orders delivered longer than the wait plus
# REVIEW_WINDOW ago asked for a review.
ABANDONED_WINDOW = timedelta(days=7)
REVIEW_WINDOW = timedelta(days=30)
RECENT_DAYS = 30


# --- Consent -------------------------------------------------------------------------------


def consent_given(*, user_id: int) -> bool:
    """Has the customer agreed to marketing email (and not withdrawn it)?"""
    return MarketingConsent.objects.filter(user_id=user_id, opted_in=True).exists()


def consent_for(*, user: Any) -> MarketingConsent | None:
    return MarketingConsent.objects.filter(user=user).first()


def consent_history(*, user: Any) -> QuerySet[ConsentChange]:
    return ConsentChange.objects.filter(user=user).order_by("-created_at", "-pk")


def _consenting(user_field: str) -> Exists:
    return Exists(MarketingConsent.objects.filter(user_id=OuterRef(user_field), opted_in=True))


# --- Candidates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """Something a campaign should email a customer about; `key` is unique per campaign."""

    key: str
    user_id: int
    basket_id: int | None = None
    order_id: int | None = None
    line_id: int | None = None


def abandoned_wait(*, campaign: Campaign) -> timedelta:
    """How long a basket must be untouched: the campaign's hours, or for a demo or a
    browser journey the LIFECYCLE_ABANDONED_AFTER_SECONDS setting when it is set."""
    seconds = getattr(settings, "LIFECYCLE_ABANDONED_AFTER_SECONDS", None)
    if seconds is not None:
        return timedelta(seconds=seconds)
    return timedelta(hours=campaign.wait)


def abandoned_basket_candidates(
    *, campaign: Campaign, now: datetime, limit: int
) -> list[Candidate]:
    """Open baskets of signed-in customers who consented, with lines, none of them touched
    (added or changed) for the wait, and not emailed about before (once per basket)."""
    cutoff = now - abandoned_wait(campaign=campaign)
    rows = (
        Basket.objects.filter(status=Basket.OPEN, owner__isnull=False)
        .filter(_consenting("owner_id"))
        .exclude(Exists(Send.objects.filter(campaign=campaign, basket_id=OuterRef("pk"))))
        .annotate(last_touch=Max("lines__date_updated"))
        .filter(last_touch__lte=cutoff, last_touch__gt=cutoff - ABANDONED_WINDOW)
        .order_by("pk")
        .values_list("pk", "owner_id")[:limit]
    )
    return [Candidate(key=f"basket:{pk}", user_id=user_id, basket_id=pk) for pk, user_id in rows]


def _last_paid_orders() -> QuerySet[Order]:
    """Each customer's last paid order (PostgreSQL's DISTINCT ON)."""
    return (
        Order.objects.filter(user__isnull=False, paid_at__isnull=False)
        .order_by("user_id", "-paid_at", "-pk")
        .distinct("user_id")
    )


def win_back_candidates(*, campaign: Campaign, now: datetime, limit: int) -> list[Candidate]:
    """Customers who consented and whose last paid order is older than the wait, in one of
    the campaign's RFM segments (shop.reports' one definition); once per last order."""
    cutoff = now - timedelta(days=campaign.wait)
    rows = list(
        Order.objects.filter(pk__in=Subquery(_last_paid_orders().values("pk")))
        .filter(paid_at__lte=cutoff)
        .filter(_consenting("user_id"))
        .exclude(
            Exists(
                Send.objects.filter(
                    campaign=campaign, user_id=OuterRef("user_id"), order_id=OuterRef("pk")
                )
            )
        )
        .order_by("pk")
        .values_list("pk", "user_id")
    )
    if not rows:
        return []
    from shop.reports.selectors import customer_segments

    segments = customer_segments(
        user_ids=[user_id for _, user_id in rows], on=timezone.localdate(now)
    )
    wanted = set(campaign.segments or [])
    # The segment is read for all of them before the limit: customers outside the segments
    # are never queued, so a limit taken first could be filled by them at every sweep.
    return [
        Candidate(key=f"user:{user_id}:order:{pk}", user_id=user_id, order_id=pk)
        for pk, user_id in rows
        if segments.get(user_id) in wanted
    ][:limit]


def _lines_with_units_left() -> QuerySet[Line]:
    """Order lines of orders the customer holds (take-back's own rule), with units not yet
    registered for a take-back."""
    from shop.takeback.models import TakeBack
    from shop.takeback.selectors import returnable_order_q

    return (
        Line.objects.filter(returnable_order_q(prefix="order__"), order__user__isnull=False)
        .annotate(
            registered=Count("takebacks", filter=~Q(takebacks__status=TakeBack.Status.EXPIRED))
        )
        .filter(quantity__gt=F("registered"))
    )


def takeback_reminder_candidates(
    *, campaign: Campaign, now: datetime, limit: int
) -> list[Candidate]:
    """Order lines delivered (or, never confirmed, shipped) more than the wait ago, to
    customers who consented, with a unit not taken back yet; once per line."""
    cutoff = now - timedelta(days=campaign.wait)
    rows = (
        _lines_with_units_left()
        .annotate(reached=Coalesce("order__delivered_at", "order__shipped_at"))
        .filter(reached__lte=cutoff)
        .filter(_consenting("order__user_id"))
        .exclude(Exists(Send.objects.filter(campaign=campaign, line_id=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", "order_id", "order__user_id")[:limit]
    )
    return [
        Candidate(key=f"line:{pk}", user_id=user_id, order_id=order_id, line_id=pk)
        for pk, order_id, user_id in rows
    ]


def review_request_candidates(*, campaign: Campaign, now: datetime, limit: int) -> list[Candidate]:
    """Orders of customers who consented, Delivered at least the wait ago (and not long
    before that); once per order."""
    cutoff = now - timedelta(days=campaign.wait)
    rows = (
        Order.objects.filter(
            status=pipeline.DELIVERED,
            user__isnull=False,
            delivered_at__lte=cutoff,
            delivered_at__gt=cutoff - REVIEW_WINDOW,
        )
        .filter(_consenting("user_id"))
        .exclude(Exists(Send.objects.filter(campaign=campaign, order_id=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", "user_id")[:limit]
    )
    return [Candidate(key=f"order:{pk}", user_id=user_id, order_id=pk) for pk, user_id in rows]


CANDIDATES = {
    Campaign.Kind.ABANDONED_BASKET: abandoned_basket_candidates,
    Campaign.Kind.WIN_BACK: win_back_candidates,
    Campaign.Kind.TAKEBACK_REMINDER: takeback_reminder_candidates,
    Campaign.Kind.REVIEW_REQUEST: review_request_candidates,
}


def campaign_candidates(*, campaign: Campaign, now: datetime, limit: int) -> list[Candidate]:
    return CANDIDATES[campaign.kind](campaign=campaign, now=now, limit=limit)


# --- At send time --------------------------------------------------------------------------


def send_irrelevance(*, send: Send, now: datetime) -> str:
    """Why a queued email has nothing to say any more ("" when it still has)."""
    kind = send.campaign.kind
    if kind == Campaign.Kind.ABANDONED_BASKET:
        basket = Basket.objects.filter(pk=send.basket_id, owner_id=send.user_id).first()
        if basket is None or basket.status != Basket.OPEN:
            return "The basket was ordered or closed."
        last_touch = basket.lines.aggregate(at=Max("date_updated"))["at"]
        if last_touch is None:
            return "The basket is empty."
        if last_touch > now - abandoned_wait(campaign=send.campaign):
            return "The customer came back to the basket."
        return ""
    if kind == Campaign.Kind.WIN_BACK:
        last = _last_paid_orders().filter(user_id=send.user_id).values_list("pk", flat=True)
        if list(last) != [send.order_id]:
            return "The customer has ordered since."
        return ""
    if kind == Campaign.Kind.TAKEBACK_REMINDER:
        if not _lines_with_units_left().filter(pk=send.line_id).exists():
            return "The piece was taken back, or the order cancelled or refunded."
        return ""
    if kind == Campaign.Kind.REVIEW_REQUEST:
        if not Order.objects.filter(pk=send.order_id, status=pipeline.DELIVERED).exists():
            return "The order is no longer delivered (refunded)."
        return ""
    return f"Unknown campaign {kind}."


# --- The staff page ------------------------------------------------------------------------


def campaign_send_counts(*, now: datetime) -> dict[int, dict[str, int]]:
    """Per campaign: emails sent, queued and skipped, in the last 30 days and all time."""
    since = now - timedelta(days=RECENT_DAYS)
    S = Send.Status
    rows = Send.objects.values("campaign_id").annotate(
        sent=Count("pk", filter=Q(status=S.SENT)),
        sent_recent=Count("pk", filter=Q(status=S.SENT, sent_at__gte=since)),
        queued=Count("pk", filter=Q(status=S.QUEUED)),
        skipped=Count("pk", filter=Q(status=S.SKIPPED)),
        skipped_recent=Count("pk", filter=Q(status=S.SKIPPED, skipped_at__gte=since)),
    )
    return {row.pop("campaign_id"): row for row in rows}


def campaign_skip_reasons(*, now: datetime) -> dict[int, list[dict[str, Any]]]:
    """Per campaign: skipped emails by reason (label, last 30 days, all time)."""
    since = now - timedelta(days=RECENT_DAYS)
    rows = (
        Send.objects.filter(status=Send.Status.SKIPPED)
        .values("campaign_id", "reason")
        .annotate(total=Count("pk"), recent=Count("pk", filter=Q(skipped_at__gte=since)))
        .order_by("campaign_id", "reason")
    )
    labels = dict(Send.Reason.choices)
    result: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        result.setdefault(row["campaign_id"], []).append(
            {**row, "code": row["reason"], "reason": labels.get(row["reason"], row["reason"])}
        )
    return result


ZERO = Decimal("0.00")


def attributed_orders(*, since: datetime | None = None) -> dict[int, dict[str, Any]]:
    """Orders attributed per campaign: each paid order (not cancelled or refunded) of a
    customer goes to the last email sent to them in the ATTRIBUTION_WINDOW before it was
    paid (an order counts once, for one campaign). `since`: orders paid since then only.
    Rows: {campaign id: {"orders": n, "revenue": Decimal}}."""
    last_email = Send.objects.filter(
        status=Send.Status.SENT,
        user_id=OuterRef("user_id"),
        sent_at__lte=OuterRef("paid_at"),
        sent_at__gte=OuterRef("paid_at") - ATTRIBUTION_WINDOW,
    ).order_by("-sent_at", "-pk")
    orders = Order.objects.filter(user__isnull=False, paid_at__isnull=False).exclude(
        status__in=(pipeline.CANCELLED, pipeline.REFUNDED)
    )
    if since is not None:
        orders = orders.filter(paid_at__gte=since)
    rows = (
        orders.annotate(lifecycle_campaign=Subquery(last_email.values("campaign_id")[:1]))
        .filter(lifecycle_campaign__isnull=False)
        .values("lifecycle_campaign")
        .annotate(
            orders=Count("pk"),
            revenue=Coalesce(Sum("total_incl_tax"), Value(ZERO), output_field=DecimalField()),
        )
        .order_by()
    )
    return {
        row["lifecycle_campaign"]: {"orders": row["orders"], "revenue": row["revenue"]}
        for row in rows
    }


@dataclass
class CampaignRow:
    campaign: Campaign
    counts: dict[str, int]
    skipped_by_reason: list[dict[str, Any]]
    attributed: dict[str, Any]
    attributed_recent: dict[str, Any]
    recent_sends: list[Send]


def campaign_overview(*, now: datetime | None = None, recent: int = 20) -> list[CampaignRow]:
    """Everything the staff page shows, per campaign."""
    now = now or timezone.now()
    counts = campaign_send_counts(now=now)
    reasons = campaign_skip_reasons(now=now)
    attributed = attributed_orders()
    attributed_recent = attributed_orders(since=now - timedelta(days=RECENT_DAYS))
    empty_counts = {"sent": 0, "sent_recent": 0, "queued": 0, "skipped": 0, "skipped_recent": 0}
    empty_attr = {"orders": 0, "revenue": ZERO}
    rows = []
    for campaign in Campaign.objects.select_related("updated_by").order_by("pk"):
        sends = list(
            Send.objects.filter(campaign=campaign)
            .select_related("user")
            .order_by("-created_at", "-pk")[:recent]
        )
        rows.append(
            CampaignRow(
                campaign=campaign,
                counts=counts.get(campaign.pk, empty_counts),
                skipped_by_reason=reasons.get(campaign.pk, []),
                attributed=attributed.get(campaign.pk, empty_attr),
                attributed_recent=attributed_recent.get(campaign.pk, empty_attr),
                recent_sends=sends,
            )
        )
    return rows
