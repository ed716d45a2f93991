"""Reads for referrals: the programme, share codes, a customer's invitations, the staff
list, and the figures the funnel shows (the database aggregates them)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import (
    CharField,
    Count,
    DecimalField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Concat

from shop.credit.models import CreditEntry
from shop.referrals.models import (
    CODE_ALPHABET,
    CODE_LENGTH,
    REFERENCE_PREFIX,
    Referral,
    ReferralCode,
    ReferralEvent,
    ReferralProgramme,
)
from shop.reports.selectors import fetch_rows, range_bounds

ZERO = Decimal("0.00")
_CODE = re.compile(rf"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")


def referral_programme() -> ReferralProgramme:
    """The programme's settings (the row is made from settings the first time)."""
    programme, _ = ReferralProgramme.objects.get_or_create(
        pk=1,
        defaults={
            "enabled": True,
            "friend_credit": Decimal(settings.REFERRAL_FRIEND_CREDIT).quantize(Decimal("0.01")),
            "referrer_credit": Decimal(settings.REFERRAL_REFERRER_CREDIT).quantize(Decimal("0.01")),
        },
    )
    return programme


def code_parse(value: object) -> str | None:
    """A share code as typed or carried in a link or cookie, or None when it cannot be one
    (too long, wrong characters, HTML, NUL, anything forged): nothing else is looked up."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    code = value.strip().lower()
    return code if _CODE.fullmatch(code) else None


def referral_code_owner(*, code: object) -> Any | None:
    """The active customer whose share code this is, or None."""
    parsed = code_parse(code)
    if parsed is None:
        return None
    found = ReferralCode.objects.select_related("user").filter(code=parsed).first()
    if found is None or not found.user.is_active:
        return None
    return found.user


# --- a customer's invitations -----------------------------------------------------------


def referrals_of(*, user: Any) -> QuerySet[Referral]:
    """The friends who joined through the customer's link (newest first; no personal data
    of the friend is shown to the referrer, only when they joined and what became of it)."""
    return Referral.objects.filter(referrer=user).only(
        "created_at", "status", "reason", "referrer_credit", "decided_at"
    )


def referral_account_summary(*, user: Any) -> dict[str, Any]:
    """For the invite page: friends joined, first orders rewarded, and the credit the
    customer kept from referrals (issued less withdrawn, from the ledger)."""
    counts = Referral.objects.filter(referrer=user).aggregate(
        joined=Count("pk"),
        rewarded=Count("pk", filter=Q(status=Referral.Status.REWARDED)),
    )
    earned = CreditEntry.objects.filter(
        account__user=user,
        reference__startswith=REFERENCE_PREFIX,
        reference__endswith=":referrer",
        kind__in=(CreditEntry.Kind.ISSUED, CreditEntry.Kind.WITHDRAWN),
    ).aggregate(total=Sum("amount"))["total"]
    return {**counts, "earned": earned or ZERO}


# --- staff ------------------------------------------------------------------------------


def referral_list(*, status: str = "") -> QuerySet[Referral]:
    """Referrals for the staff page, with both customers, what of their credits was taken
    back (`withdrawn`, from the ledger; less than issued when some was spent already) and
    the note of their latest event (`last_note`: the refusal, or the shortfall)."""
    withdrawn = (
        CreditEntry.objects.filter(
            kind=CreditEntry.Kind.WITHDRAWN,
            reference__startswith=Concat(
                Value(REFERENCE_PREFIX),
                Cast(OuterRef("pk"), CharField()),
                Value(":"),
                output_field=CharField(),
            ),
        )
        .values("kind")
        .annotate(total=-Sum("amount"))
        .values("total")
    )
    last_note = (
        ReferralEvent.objects.filter(referral=OuterRef("pk")).order_by("-created_at", "-pk")
    ).values("note")[:1]
    referrals = (
        Referral.objects.select_related("referrer", "friend")
        .annotate(
            withdrawn=Coalesce(
                Subquery(withdrawn, output_field=DecimalField(max_digits=12, decimal_places=2)),
                ZERO,
                output_field=DecimalField(max_digits=12, decimal_places=2),
            ),
            last_note=Subquery(last_note),
        )
        .order_by("-created_at", "-pk")
    )
    if status in Referral.Status.values:
        referrals = referrals.filter(status=status)
    return referrals


# --- figures for the funnel -------------------------------------------------------------

# One row per local day of the range: friends joined, first orders rewarded, refused and
# withdrawn (state changes, from the event rows), and referral credit issued and withdrawn in
# money (from the ledger). Links shared and landings are not stored, so they are not here.
DAILY_SQL = """
WITH days AS (
    SELECT d::date AS day
      FROM generate_series(%(start)s::date, %(end)s::date, interval '1 day') d
),
ev AS (
    SELECT (created_at AT TIME ZONE %(tz)s)::date AS day,
           COUNT(*) FILTER (WHERE kind = 'joined') AS joined,
           COUNT(*) FILTER (WHERE kind = 'rewarded') AS rewarded,
           COUNT(*) FILTER (WHERE kind = 'refused') AS refused,
           COUNT(*) FILTER (WHERE kind = 'withdrawn') AS withdrawn
      FROM referrals_referralevent
     WHERE created_at >= %(start_at)s AND created_at < %(end_at)s AND referral_id IS NOT NULL
     GROUP BY 1
),
cr AS (
    SELECT (created_at AT TIME ZONE %(tz)s)::date AS day,
           COALESCE(SUM(amount) FILTER (WHERE kind = 'issued'), 0) AS credit_issued,
           COALESCE(-SUM(amount) FILTER (WHERE kind = 'withdrawn'), 0) AS credit_withdrawn
      FROM credit_creditentry
     WHERE created_at >= %(start_at)s AND created_at < %(end_at)s
       AND reference LIKE %(reference_like)s
     GROUP BY 1
),
daily AS (
    SELECT days.day,
           COALESCE(ev.joined, 0) AS joined,
           COALESCE(ev.rewarded, 0) AS rewarded,
           COALESCE(ev.refused, 0) AS refused,
           COALESCE(ev.withdrawn, 0) AS withdrawn,
           COALESCE(cr.credit_issued, 0)::numeric(12, 2) AS credit_issued,
           COALESCE(cr.credit_withdrawn, 0)::numeric(12, 2) AS credit_withdrawn
      FROM days LEFT JOIN ev USING (day) LEFT JOIN cr USING (day)
)
"""


def _daily_params(start: date, end: date) -> dict[str, Any]:
    return {**range_bounds(start, end), "reference_like": f"{REFERENCE_PREFIX}%"}


def referrals_by_day(*, start: date, end: date) -> list[dict[str, Any]]:
    """Per local day from `start` to `end` (inclusive; every day, zeros included): day,
    joined, rewarded, refused, withdrawn, credit_issued, credit_withdrawn (Decimal)."""
    if start > end:
        return []
    return fetch_rows(DAILY_SQL + "SELECT * FROM daily ORDER BY day", _daily_params(start, end))


def referral_summary(*, start: date, end: date) -> dict[str, Any]:
    """The range's referral figures for the funnel: friends joined, first orders rewarded,
    refused (with each reason and its count), withdrawn, and referral credit issued and
    withdrawn in money (net = issued − withdrawn, the programme's cost in the range)."""
    totals = {
        "joined": 0,
        "rewarded": 0,
        "refused": 0,
        "withdrawn": 0,
        "credit_issued": ZERO,
        "credit_withdrawn": ZERO,
    }
    params = _daily_params(start, end)
    if start <= end:
        row = fetch_rows(
            DAILY_SQL + "SELECT "
            "COALESCE(SUM(joined), 0)::int AS joined, COALESCE(SUM(rewarded), 0)::int AS rewarded,"
            " COALESCE(SUM(refused), 0)::int AS refused,"
            " COALESCE(SUM(withdrawn), 0)::int AS withdrawn,"
            " COALESCE(SUM(credit_issued), 0)::numeric(12, 2) AS credit_issued,"
            " COALESCE(SUM(credit_withdrawn), 0)::numeric(12, 2) AS credit_withdrawn FROM daily",
            params,
        )[0]
        totals.update(row)
    reasons = (
        Referral.objects.filter(
            events__kind="refused",
            events__created_at__gte=params["start_at"],
            events__created_at__lt=params["end_at"],
        )
        .values("reason")
        .annotate(count=Count("pk", distinct=True))
        .order_by("-count", "reason")
    )
    labels = dict(Referral.Reason.choices)
    totals["refused_reasons"] = [
        {"reason": r["reason"], "label": labels.get(r["reason"], r["reason"]), "count": r["count"]}
        for r in reasons
    ]
    totals["credit_net"] = totals["credit_issued"] - totals["credit_withdrawn"]
    return totals
