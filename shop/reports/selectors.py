"""Report queries. PostgreSQL does the work (CTEs, FILTER, window functions, percentiles);
Python only shapes the already-aggregated rows for the page.

Shared definitions (each page repeats the relevant ones in words):

* A *sale* online is an order that was paid: status Paid, In workshop, Ready to ship,
  Shipped, Delivered or Refunded (pending, cancelled and unpaid orders are not sales). It
  counts on the day it was paid (the placement day for orders without a payment time),
  in the store's time zone.
* Money is excluding VAT. Online revenue is the line price after discounts; offline revenue
  is the CSV's net amount.
* The sustainable line is the products whose "Line" attribute is Evergreen (on the product
  or its parent).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from shop.order.pipeline import OPEN_STATUSES, PAID_STATUSES, REFUNDED
from shop.reports.models import (
    Channel,
    CostPriceRecord,
    FactsRefresh,
    OnlineShareTarget,
    SustainableProjection,
)

SUSTAINABLE_LINE = "Evergreen"
VAT_DIVISOR = Decimal("1.20")  # personalization surcharges are recorded including VAT
BUCKETS = ("day", "week", "month")
ZERO = Decimal("0.00")


@contextmanager
def report_cursor() -> Iterator[Any]:
    """A cursor for report queries: PostgreSQL's JIT compilation costs these one-off queries
    more than it saves (seconds at scale), and their hashes and sorts want more memory."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '32MB'")
        yield cursor


def fetch_rows(sql: str, params: Mapping[str, Any]) -> list[dict]:
    with report_cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _json(value: Any) -> Any:
    """jsonb comes back as text through Django's cursor; numbers as Decimal."""
    return json.loads(value, parse_float=Decimal) if isinstance(value, str) else value


def percent_of(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """part ÷ whole in per cent, to one decimal place (None when there is no whole)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def range_bounds(start: date, end: date) -> dict[str, Any]:
    """Inclusive local dates to a half-open range of aware datetimes, plus shared params."""
    tz = timezone.get_default_timezone()
    return {
        "start": start,
        "end": end,
        "start_at": timezone.make_aware(datetime.combine(start, time.min), tz),
        "end_at": timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz),
        "tz": settings.TIME_ZONE,
        "paid_statuses": list(PAID_STATUSES),
        "refunded": REFUNDED,
        "line": SUSTAINABLE_LINE,
    }


# Order of a product: its own category (or its parent's, for variants) and whether it is in
# the sustainable line. One row per product.
PRODUCT_DIM = """
product_dim AS (
    SELECT p.id AS product_id,
           COALESCE(bool_or(ao.option = %(line)s), false) AS sustainable,
           (SELECT c.name FROM catalogue_productcategory pc
              JOIN catalogue_category c ON c.id = pc.category_id
             WHERE pc.product_id = COALESCE(p.parent_id, p.id)
             ORDER BY c.path LIMIT 1) AS category
      FROM catalogue_product p
      LEFT JOIN catalogue_productattributevalue v
             ON v.product_id IN (p.id, p.parent_id)
            AND v.attribute_id IN (SELECT id FROM catalogue_productattribute WHERE code = 'line')
      LEFT JOIN catalogue_attributeoption ao ON ao.id = v.value_option_id
     GROUP BY p.id
)"""

SOLD_AT = "COALESCE(o.paid_at, o.date_placed)"


# --- online share ----------------------------------------------------------------------------


@dataclass
class ShareReport:
    start: date
    end: date
    bucket: str
    channels: list[dict]  # code, name, is_online, revenue, units, revenue_share, units_share
    rows: list[dict]  # per bucket: bucket, per-channel revenue/units, online shares, lines
    total_revenue: Decimal
    total_units: int
    online_revenue_share: Decimal | None
    online_units_share: Decimal | None
    target_share: Decimal | None
    gap_to_target: Decimal | None
    sustainable_revenue: Decimal
    other_revenue: Decimal
    sustainable_units: int
    other_units: int
    projection: Decimal | None
    vs_projection: Decimal | None  # percent above (+) or below (-) the projection


def online_share_report(*, start: date, end: date, bucket: str = "month") -> ShareReport:
    """Revenue and units per channel and bucket, online share, sustainable line vs the rest
    and against its projection, and the gap to the latest target set on or before `end`."""
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {BUCKETS}")
    params = {**range_bounds(start, end), "bucket": bucket}
    sql = f"""
    WITH {PRODUCT_DIM},
    sales AS (
        SELECT ({SOLD_AT} AT TIME ZONE %(tz)s)::date AS day, 'online' AS channel,
               l.product_id, l.quantity AS units, l.line_price_excl_tax AS revenue
          FROM order_line l JOIN order_order o ON o.id = l.order_id
         WHERE o.status = ANY(%(paid_statuses)s)
           AND {SOLD_AT} >= %(start_at)s AND {SOLD_AT} < %(end_at)s
        UNION ALL
        SELECT s.day, c.code, s.product_id, s.quantity, s.net_amount
          FROM reports_offlinesale s JOIN reports_channel c ON c.id = s.channel_id
         WHERE s.day BETWEEN %(start)s AND %(end)s
    ),
    buckets AS (
        SELECT DISTINCT date_trunc(%(bucket)s, d)::date AS bucket
          FROM generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS d
    ),
    projection AS (
        SELECT date_trunc(%(bucket)s, d)::date AS bucket,
               SUM(p.revenue / extract(day FROM (p.month + interval '1 month - 1 day'))) AS amount
          FROM generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS d
          JOIN reports_sustainableprojection p ON p.month = date_trunc('month', d)::date
         GROUP BY 1
    ),
    agg AS (
        SELECT date_trunc(%(bucket)s, s.day)::date AS bucket,
               COALESCE(SUM(s.revenue) FILTER (WHERE s.channel = 'online'), 0) AS online_revenue,
               COALESCE(SUM(s.units) FILTER (WHERE s.channel = 'online'), 0) AS online_units,
               SUM(s.revenue) AS revenue, SUM(s.units) AS units,
               COALESCE(SUM(s.revenue) FILTER (WHERE pd.sustainable), 0) AS sustainable_revenue,
               COALESCE(SUM(s.units) FILTER (WHERE pd.sustainable), 0) AS sustainable_units
          FROM sales s JOIN product_dim pd ON pd.product_id = s.product_id
         GROUP BY 1
    ),
    per_channel AS (
        SELECT date_trunc(%(bucket)s, s.day)::date AS bucket, s.channel,
               SUM(s.revenue) AS revenue, SUM(s.units) AS units
          FROM sales s GROUP BY 1, 2
    ),
    channel_json AS (
        SELECT bucket, jsonb_object_agg(
                   channel, jsonb_build_object('revenue', revenue, 'units', units)) AS by_channel
          FROM per_channel GROUP BY bucket
    )
    SELECT b.bucket,
           COALESCE(a.revenue, 0) AS revenue, COALESCE(a.units, 0) AS units,
           COALESCE(a.online_revenue, 0) AS online_revenue,
           COALESCE(a.online_units, 0) AS online_units,
           ROUND(100 * a.online_revenue / NULLIF(a.revenue, 0), 1) AS online_revenue_share,
           ROUND(100.0 * a.online_units / NULLIF(a.units, 0), 1) AS online_units_share,
           COALESCE(a.sustainable_revenue, 0) AS sustainable_revenue,
           COALESCE(a.revenue, 0) - COALESCE(a.sustainable_revenue, 0) AS other_revenue,
           COALESCE(a.sustainable_units, 0) AS sustainable_units,
           COALESCE(a.units, 0) - COALESCE(a.sustainable_units, 0) AS other_units,
           ROUND(pr.amount, 2) AS projection,
           COALESCE(cj.by_channel, '{{}}'::jsonb) AS by_channel
      FROM buckets b
      LEFT JOIN agg a ON a.bucket = b.bucket
      LEFT JOIN channel_json cj ON cj.bucket = b.bucket
      LEFT JOIN projection pr ON pr.bucket = b.bucket
     ORDER BY b.bucket
    """
    rows = fetch_rows(sql, params)
    for row in rows:
        row["by_channel"] = _json(row["by_channel"])
    # Totals per channel: the per-bucket aggregates added up (a few hundred rows at most).
    sums: dict[str, list] = {}
    for row in rows:
        for code, cell in row["by_channel"].items():
            total = sums.setdefault(code, [ZERO, 0])
            total[0] += Decimal(cell["revenue"])
            total[1] += int(cell["units"])
    all_revenue = sum((t[0] for t in sums.values()), ZERO)
    all_units = sum(t[1] for t in sums.values())
    channel_totals = []
    for channel in Channel.objects.all():
        revenue, units = sums.get(channel.code, [ZERO, 0])
        channel_totals.append(
            {
                "code": channel.code,
                "name": channel.name,
                "is_online": channel.is_online,
                "revenue": revenue,
                "units": units,
                "revenue_share": percent_of(revenue, all_revenue),
                "units_share": percent_of(units, all_units),
            }
        )
    total_revenue = sum((c["revenue"] for c in channel_totals), ZERO)
    total_units = sum(c["units"] for c in channel_totals)
    online = next((c for c in channel_totals if c["is_online"]), None)
    online_share = online["revenue_share"] if online else None
    target = (
        OnlineShareTarget.objects.filter(valid_from__lte=end)
        .order_by("-valid_from")
        .values_list("share_percent", flat=True)
        .first()
    )
    sustainable_revenue = sum((r["sustainable_revenue"] for r in rows), ZERO)
    projections = [r["projection"] for r in rows if r["projection"] is not None]
    projection = sum(projections, ZERO) if projections else None
    for r in rows:
        r["target_share"] = target
    return ShareReport(
        start=start,
        end=end,
        bucket=bucket,
        channels=channel_totals,
        rows=rows,
        total_revenue=total_revenue,
        total_units=total_units,
        online_revenue_share=online_share,
        online_units_share=online["units_share"] if online else None,
        target_share=target,
        gap_to_target=(
            (target - online_share).quantize(Decimal("0.1"))
            if target is not None and online_share is not None
            else None
        ),
        sustainable_revenue=sustainable_revenue,
        other_revenue=sum((r["other_revenue"] for r in rows), ZERO),
        sustainable_units=sum(r["sustainable_units"] for r in rows),
        other_units=sum(r["other_units"] for r in rows),
        projection=projection,
        vs_projection=(
            ((sustainable_revenue - projection) * 100 / projection).quantize(Decimal("0.1"))
            if projection
            else None
        ),
    )


def channels() -> list[Channel]:
    return list(Channel.objects.all())


def projections() -> list[SustainableProjection]:
    return list(SustainableProjection.objects.order_by("-month")[:24])


# --- take-back credits -------------------------------------------------------------------------


def _credits_cte() -> str:
    """SQL for a `credits` CTE: store credit per customer key over the range, from the credit
    ledger (shop.credit, fed by the take-back scheme and referrals): `credits_issued` =
    credit issued to the customer's own account (for take-backs, goodwill, and referrals:
    the friend's welcome credit is the friend's cost, the thank-you credit the referrer's)
    less credit withdrawn from it (a referral whose order was cancelled or refunded; only
    what the balance still held, so spent credit stays a cost), each counted on the day of
    its ledger row; `credits_redeemed` = credit spent at checkout less credit given back for
    orders that were not placed. Empty when the apps are not installed."""
    if not credits_recorded():
        return """credits AS (
    SELECT NULL::text AS customer_key, NULL::numeric AS credits_issued,
           NULL::numeric AS credits_redeemed
     WHERE false
)"""
    return """credits AS (
    SELECT 'u:' || a.user_id AS customer_key,
           COALESCE(SUM(e.amount) FILTER (WHERE e.kind IN ('issued', 'withdrawn')), 0)
               AS credits_issued,
           COALESCE(-SUM(e.amount) FILTER (WHERE e.kind IN ('spent', 'restored')), 0)
               AS credits_redeemed
      FROM credit_creditentry e JOIN credit_creditaccount a ON a.id = e.account_id
     WHERE e.created_at >= %(start_at)s AND e.created_at < %(end_at)s
     GROUP BY a.user_id
)"""


def credits_recorded() -> bool:
    """Whether store credit figures exist to report (the take-back scheme is installed)."""
    return apps.is_installed("shop.credit") and apps.is_installed("shop.takeback")


def takeback_credits_by_customer(*, start: date, end: date) -> dict[str, dict[str, Decimal]]:
    """Store credit per customer key ("u:<user id>") over the range:
    {"issued": Decimal, "redeemed": Decimal}, read from the credit ledger in the database.

    The one definition of these figures is `_credits_cte`, which the customer profitability
    query joins too (issued credit is a cost in the contribution margin; redeemed credit is a
    means of payment, so the order's revenue is already whole). Returns an empty mapping
    when the take-back scheme (`shop.takeback`, with its ledger `shop.credit`) is not
    installed; the report then shows the columns as not recorded, never invented numbers.
    """
    if not credits_recorded():
        return {}
    rows = fetch_rows(f"WITH {_credits_cte()} SELECT * FROM credits", range_bounds(start, end))
    return {
        r["customer_key"]: {"issued": r["credits_issued"], "redeemed": r["credits_redeemed"]}
        for r in rows
    }


# --- customer profitability --------------------------------------------------------------------

CUSTOMER_KEY = (
    "CASE WHEN o.user_id IS NOT NULL THEN 'u:' || o.user_id ELSE 'e:' || lower(o.guest_email) END"
)

# Dispatch definitions shared by the Lead time page (live orders) and the personalization
# report (the order facts): both read rows with personalized, shipped, promised,
# shipped_day and status.
PERSONALIZED_ORDER = """EXISTS (SELECT 1 FROM order_line l
                  JOIN personalization_orderlinepersonalization p ON p.line_id = l.id
                 WHERE l.order_id = o.id)"""
# Orders refunded before dispatch never went out: left out of every lead-time figure.
LEAD_TIME_EXCLUDED = "(status = %(refunded)s AND shipped_at IS NULL)"
ON_TIME = "promised IS NOT NULL AND shipped AND shipped_day <= promised"
DUE = (
    "promised IS NOT NULL AND (shipped"
    " OR (status = ANY(%(open_statuses)s) AND promised < %(today)s))"
)

# The sources of the fact tables (rebuilt by services.report_facts_refresh): one row per paid
# order, all time, with its figures and contribution margin (see FORMULAS), and one per
# offline sale with a customer email.
ORDER_FACTS_SOURCE = f"""
WITH line_facts AS (
    SELECT l.order_id,
           SUM(l.quantity) AS units,
           SUM(l.line_price_before_discounts_excl_tax) AS gross,
           SUM(l.line_price_excl_tax) AS net,
           SUM(l.quantity * COALESCE(l.unit_cost_price, 0)) AS cogs,
           COUNT(*) FILTER (WHERE l.unit_cost_price IS NULL) AS lines_without_cost
      FROM order_line l GROUP BY l.order_id
),
returned AS (
    -- Refunded before dispatch: the goods never left and go back to stock, no parcel went.
    SELECT o.id AS order_id FROM order_order o
     WHERE o.status = %(refunded)s AND o.shipped_at IS NULL
),
pers_facts AS (
    SELECT l.order_id,
           SUM(ROUND(p.surcharge * l.quantity / {VAT_DIVISOR}, 2)) AS pers_revenue,
           SUM(p.cost * l.quantity) AS pers_cost
      FROM personalization_orderlinepersonalization p
      JOIN order_line l ON l.id = p.line_id
     GROUP BY l.order_id
)
SELECT o.id AS order_id, o.number, {CUSTOMER_KEY} AS customer_key, o.user_id,
       lower(COALESCE(u.email, o.guest_email)) AS email,
       {SOLD_AT} AS sold_at, o.status,
       lf.units, lf.gross, lf.gross - lf.net AS discounts, lf.net,
       CASE WHEN rt.order_id IS NULL THEN lf.cogs ELSE 0 END AS cogs,
       lf.lines_without_cost,
       COALESCE(pf.pers_revenue, 0) AS pers_revenue, COALESCE(pf.pers_cost, 0) AS pers_cost,
       o.shipping_excl_tax AS shipping_charged,
       CASE WHEN rt.order_id IS NULL THEN COALESCE(sr.cost, 0) ELSE 0 END AS shipping_cost,
       COALESCE(pi.fee, 0) AS fees,
       COALESCE(ROUND(pi.amount_refunded * o.total_excl_tax
                      / NULLIF(o.total_incl_tax, 0), 2), 0) AS refunds,
       lf.net + o.shipping_excl_tax - COALESCE(pf.pers_cost, 0)
         - CASE WHEN rt.order_id IS NULL THEN lf.cogs + COALESCE(sr.cost, 0) ELSE 0 END
         - COALESCE(pi.fee, 0)
         - COALESCE(ROUND(pi.amount_refunded * o.total_excl_tax
                          / NULLIF(o.total_incl_tax, 0), 2), 0) AS margin,
       o.paid_at, {PERSONALIZED_ORDER} AS personalized, o.promised_dispatch_date, o.shipped_at
  FROM order_order o
  JOIN line_facts lf ON lf.order_id = o.id
  LEFT JOIN returned rt ON rt.order_id = o.id
  LEFT JOIN pers_facts pf ON pf.order_id = o.id
  LEFT JOIN auth_user u ON u.id = o.user_id
  LEFT JOIN LATERAL (
        -- The parcel cost in effect on the sale day (the first one for earlier sales).
        SELECT pc.cost FROM shipping_parcelcost pc
         WHERE pc.shipping_code = o.shipping_code
         ORDER BY pc.valid_from <= ({SOLD_AT} AT TIME ZONE %(tz)s)::date DESC,
                  CASE WHEN pc.valid_from <= ({SOLD_AT} AT TIME ZONE %(tz)s)::date
                       THEN pc.valid_from END DESC NULLS LAST,
                  pc.valid_from LIMIT 1) sr ON true
  LEFT JOIN payments_paymentintentrecord pi
         ON pi.order_number = o.number AND o.number <> ''
 WHERE o.status = ANY(%(paid_statuses)s)
"""

# The cost price of a stock record in effect before a moment is the newest cost-history row
# before it (the latest id among rows of one moment), or the first row ever for a moment
# before the history starts (the catalogue's first cost). As periods: each row holds from its
# moment (exclusive; the first row from -infinity) to the next row's (inclusive), so a sale
# finds its cost by a hash join on the stock record and a range check.
COST_PERIODS = """
cost_periods AS (
    SELECT stockrecord_id, cost_price,
           CASE WHEN LAG(changed_at) OVER w IS NULL THEN '-infinity'::timestamptz
                ELSE changed_at END AS valid_from,
           COALESCE(LEAD(changed_at) OVER w, 'infinity'::timestamptz) AS valid_to
      FROM (SELECT DISTINCT ON (stockrecord_id, changed_at) stockrecord_id, changed_at,
                   cost_price
              FROM reports_costpricerecord
             ORDER BY stockrecord_id, changed_at, id DESC) h
    WINDOW w AS (PARTITION BY stockrecord_id ORDER BY changed_at)
)"""

# Join condition: cost period `h` of stock record `s` in effect before `moment`.
COST_PERIOD_OF = (
    "h.stockrecord_id = {stockrecord} AND h.valid_from < {moment} AND {moment} <= h.valid_to"
)

# An offline sale's unit cost: the cost in effect at the end of its day.
SALE_DAY_COST = COST_PERIOD_OF.format(
    stockrecord="s.stockrecord_id", moment="(s.day + 1)::timestamp AT TIME ZONE %(tz)s"
)

OFFLINE_FACTS_SOURCE = f"""
WITH {COST_PERIODS},
users_by_email AS (
    SELECT lower(email) AS email, MIN(id) AS id FROM auth_user WHERE email <> '' GROUP BY 1
)
SELECT s.id AS sale_id,
       COALESCE('u:' || u.id, 'e:' || lower(s.customer_email)) AS customer_key,
       lower(s.customer_email) AS email, s.day, s.quantity, s.net_amount,
       s.quantity * COALESCE(h.cost_price, 0) AS cogs
  FROM reports_offlinesale s
  LEFT JOIN users_by_email u ON u.email = lower(s.customer_email)
  LEFT JOIN cost_periods h ON {SALE_DAY_COST}
 WHERE s.customer_email <> ''
"""

# The fact tables with the range applied; `order_filter` / `offline_filter` narrow them.
ORDER_FACTS = """
order_facts AS (
    SELECT f.*,
           (f.sold_at >= %(start_at)s AND f.sold_at < %(end_at)s) AS in_range
      FROM reports_orderfact f WHERE true {order_filter}
),
offline_facts AS (
    SELECT f.*, (f.day BETWEEN %(start)s AND %(end)s) AS in_range
      FROM reports_offlinefact f WHERE true {offline_filter}
)"""

CUSTOMER_AGG = f"""
{ORDER_FACTS},
online_c AS (
    SELECT customer_key, MAX(email) AS email, MAX(user_id) AS user_id,
           COUNT(*) FILTER (WHERE in_range) AS orders,
           COALESCE(SUM(units) FILTER (WHERE in_range), 0) AS units,
           COALESCE(SUM(gross) FILTER (WHERE in_range), 0) AS gross_revenue,
           COALESCE(SUM(discounts) FILTER (WHERE in_range), 0) AS discounts,
           COALESCE(SUM(net) FILTER (WHERE in_range), 0) AS net_revenue,
           COALESCE(SUM(cogs) FILTER (WHERE in_range), 0) AS cogs,
           COALESCE(SUM(pers_revenue) FILTER (WHERE in_range), 0) AS pers_revenue,
           COALESCE(SUM(pers_cost) FILTER (WHERE in_range), 0) AS pers_cost,
           COALESCE(SUM(shipping_charged) FILTER (WHERE in_range), 0) AS shipping_charged,
           COALESCE(SUM(shipping_cost) FILTER (WHERE in_range), 0) AS shipping_cost,
           COALESCE(SUM(fees) FILTER (WHERE in_range), 0) AS fees,
           COALESCE(SUM(refunds) FILTER (WHERE in_range), 0) AS refunds,
           COALESCE(SUM(margin) FILTER (WHERE in_range), 0) AS online_margin,
           COALESCE(SUM(lines_without_cost) FILTER (WHERE in_range), 0) AS lines_without_cost,
           MIN(sold_at) AS first_order, MAX(sold_at) AS last_order,
           SUM(margin) FILTER (WHERE sold_at < %(end_at)s) AS lifetime_online_margin,
           COUNT(*) FILTER (WHERE sold_at < %(end_at)s) AS lifetime_orders
      FROM order_facts GROUP BY customer_key
),
offline_c AS (
    SELECT customer_key, MAX(email) AS email,
           COALESCE(SUM(quantity) FILTER (WHERE in_range), 0) AS offline_units,
           COALESCE(SUM(net_amount) FILTER (WHERE in_range), 0) AS offline_revenue,
           COALESCE(SUM(cogs) FILTER (WHERE in_range), 0) AS offline_cogs,
           SUM(net_amount - cogs) FILTER (WHERE day <= %(end)s) AS lifetime_offline_margin,
           MIN(day) AS first_offline, MAX(day) AS last_offline
      FROM offline_facts GROUP BY customer_key
),
{{credits_cte}},
customers AS (
    SELECT COALESCE(a.customer_key, b.customer_key) AS customer_key,
           COALESCE(a.email, b.email) AS email, a.user_id,
           COALESCE(a.orders, 0) AS orders,
           COALESCE(a.units, 0) AS units,
           COALESCE(a.gross_revenue, 0) AS gross_revenue,
           COALESCE(a.discounts, 0) AS discounts,
           COALESCE(a.net_revenue, 0) AS net_revenue,
           COALESCE(b.offline_units, 0) AS offline_units,
           COALESCE(b.offline_revenue, 0) AS offline_revenue,
           COALESCE(a.cogs, 0) + COALESCE(b.offline_cogs, 0) AS cogs,
           COALESCE(a.pers_revenue, 0) AS pers_revenue,
           COALESCE(a.pers_cost, 0) AS pers_cost,
           COALESCE(a.shipping_charged, 0) AS shipping_charged,
           COALESCE(a.shipping_cost, 0) AS shipping_cost,
           COALESCE(a.fees, 0) AS fees,
           COALESCE(a.refunds, 0) AS refunds,
           COALESCE(a.lines_without_cost, 0) AS lines_without_cost,
           cr.credits_issued, cr.credits_redeemed,
           COALESCE(a.online_margin, 0) + COALESCE(b.offline_revenue, 0)
             - COALESCE(b.offline_cogs, 0) - COALESCE(cr.credits_issued, 0) AS margin,
           COALESCE(a.net_revenue, 0) + COALESCE(b.offline_revenue, 0)
             + COALESCE(a.shipping_charged, 0) - COALESCE(a.refunds, 0) AS revenue_base,
           LEAST(a.first_order, b.first_offline::timestamp AT TIME ZONE %(tz)s) AS first_order,
           GREATEST(a.last_order, b.last_offline::timestamp AT TIME ZONE %(tz)s) AS last_order,
           COALESCE(a.lifetime_online_margin, 0) + COALESCE(b.lifetime_offline_margin, 0)
             AS lifetime_margin,
           COALESCE(a.lifetime_orders, 0) AS lifetime_orders
      FROM online_c a FULL OUTER JOIN offline_c b ON b.customer_key = a.customer_key
      LEFT JOIN credits cr ON cr.customer_key = COALESCE(a.customer_key, b.customer_key)
),
ranked AS (
    SELECT c.*,
           ROUND(100 * c.margin / NULLIF(c.revenue_base, 0), 1) AS margin_percent,
           ROUND((c.net_revenue + c.shipping_charged) / NULLIF(c.orders, 0), 2)
             AS average_order_value,
           ROW_NUMBER() OVER (ORDER BY c.margin DESC, c.customer_key) AS profit_rank
      FROM customers c
     WHERE c.orders > 0 OR c.offline_units > 0
)"""

CUSTOMER_COLUMNS = (
    ("customer_key", "Customer key"),
    ("email", "Email"),
    ("orders", "Orders"),
    ("units", "Units (online)"),
    ("offline_units", "Units (offline)"),
    ("gross_revenue", "Gross revenue"),
    ("discounts", "Discounts"),
    ("net_revenue", "Net revenue (online)"),
    ("offline_revenue", "Net revenue (offline)"),
    ("cogs", "Cost of goods"),
    ("pers_revenue", "Personalization revenue"),
    ("pers_cost", "Personalization cost"),
    ("shipping_charged", "Shipping charged"),
    ("shipping_cost", "Shipping cost (est.)"),
    ("fees", "Payment fees"),
    ("refunds", "Refunds"),
    ("credits_issued", "Store credit issued (take-backs, referrals)"),
    ("credits_redeemed", "Store credit redeemed"),
    ("margin", "Contribution margin"),
    ("margin_percent", "Margin %"),
    ("average_order_value", "Average order value"),
    ("first_order", "First order"),
    ("last_order", "Last order"),
    ("lifetime_orders", "Lifetime orders"),
    ("lifetime_margin", "Lifetime value (margin)"),
    ("profit_rank", "Profit rank"),
)
SORTABLE = {name for name, _ in CUSTOMER_COLUMNS}
# What the customers page shows (it fits a 1280px window); the CSV has every column.
CUSTOMER_PAGE_COLUMNS = tuple(
    (name, label)
    for name, label in CUSTOMER_COLUMNS
    if name
    in {
        "email", "orders", "net_revenue", "offline_revenue", "cogs", "refunds", "margin",
        "margin_percent", "lifetime_margin", "last_order", "profit_rank",
    }
)  # fmt: skip

FORMULAS = [
    ("Gross revenue", "Σ line price before discounts, excl. VAT (paid online orders)."),
    ("Discounts", "Gross revenue − Σ line price after discounts."),
    (
        "Net revenue",
        "Online: Σ line price after discounts, excl. VAT. Offline: the CSV's net amount.",
    ),
    (
        "Cost of goods",
        "Online: Σ quantity × unit cost price recorded on the order line at the sale (recorded)."
        " Offline: quantity × cost price in effect on the sale day, from the cost price history"
        " (recorded). Lines sold without a cost price count 0 and are flagged.",
    ),
    (
        "Personalization revenue / cost",
        "Σ surcharge × quantity ÷ 1.20 (surcharges are recorded incl. VAT; already part of net"
        " revenue, shown for insight) / Σ workshop cost × quantity, both recorded at placement.",
    ),
    ("Shipping charged", "The order's shipping charge excl. VAT (recorded)."),
    (
        "Shipping cost",
        "ESTIMATED: the cost of one parcel of the order's shipping method in effect on the day"
        " it was sold, from the parcel costs staff maintain (Dashboard > Fulfilment > Parcel "
        "costs, with their history). None for an order refunded before dispatch.",
    ),
    ("Payment fees", "Stripe's fee for the payment (recorded from Stripe, or from our rate)."),
    (
        "Refunds",
        "Amount refunded through Stripe × (order total excl. VAT ÷ incl. VAT), i.e. excl. VAT. "
        "Refunded BEFORE DISPATCH (status Refunded, never shipped): the goods never left and go "
        "back to stock, so the order carries no cost of goods and no parcel cost; its payment fee"
        " (Stripe keeps it) and any personalization cost (the workshop's work on a marked piece) "
        "stay. Refunded AFTER DISPATCH or delivery: the refund is deducted and the cost of goods,"
        " the parcel and the fee stay, since a piece that came back used is not resold as new "
        "(a take-back is counted by the take-back report).",
    ),
    (
        "VAT",
        "Prices are entered incl. VAT; the excl. VAT figures are those recorded on the order, "
        "rounded PER UNIT (Oscar: unit price excl. VAT × quantity), so 2 × £25.00 incl. VAT is "
        "£41.66 excl. VAT, not £41.67. We keep per-unit rounding: a unit has the same price excl."
        " VAT on every order, invoice and part refund (HMRC allows per-unit or per-line rounding "
        "used consistently); the reports read the recorded figures, so 1p gaps against a "
        "per-line calculation are expected.",
    ),
    (
        "Store credit (take-backs, referrals)",
        "From the credit ledger, in the period: credit issued (for take-backs, goodwill, or a"
        " referral: each credit is a cost of the account it went to) less credit withdrawn (a"
        " referral whose order was cancelled or refunded) is a cost; credit redeemed pays part"
        " of an order whose revenue is counted whole, so it is shown for information. Blank"
        " when the take-back scheme is not installed.",
    ),
    (
        "Contribution margin",
        "Net revenue + shipping charged − cost of goods − personalization cost − shipping cost"
        " − payment fees − refunds − store credit issued (offline sales: net amount − cost of"
        " goods).",
    ),
    ("Margin %", "Contribution margin ÷ (net revenue + shipping charged − refunds)."),
    ("Average order value", "(Online net revenue + shipping charged) ÷ online orders."),
    (
        "Lifetime value",
        "Contribution margin of all the customer's sales from their first up to the range's end.",
    ),
]


def _customer_params(start: date, end: date) -> dict[str, Any]:
    return range_bounds(start, end)


def _customer_sql(order_filter: str = "", offline_filter: str = "") -> str:
    return CUSTOMER_AGG.format(
        order_filter=order_filter, offline_filter=offline_filter, credits_cte=_credits_cte()
    )


@dataclass
class WhaleCurve:
    points: list[dict]  # customer_share (%), profit_share (%)
    customers: int
    total_margin: Decimal
    peak_customers: int  # customers up to the curve's peak (the profitable ones)
    peak_share: Decimal | None  # cumulative profit at the peak, % of total
    loss_customers: int
    loss_total: Decimal
    top_20_share: Decimal | None  # share of total profit earned by the top 20% of customers


# The whale curve, defined once and read from `ranked` (the customers page computes it in the
# statement that aggregates its customers, whale_curve on its own): customers ranked by margin
# against the running total of their margin, about %(max_points)s points of it, in one row
# `whale` whose columns start with `curve_` so that they can sit beside a customer's.
WHALE_CURVE_SQL = """
curve AS (
    SELECT profit_rank, margin,
           COUNT(*) OVER () AS n,
           SUM(margin) OVER () AS total,
           SUM(margin) OVER (ORDER BY profit_rank) AS cumulative
      FROM ranked
),
whale AS (
    SELECT MAX(n) AS curve_customers, MAX(total) AS curve_total,
           COUNT(*) FILTER (WHERE margin < 0) AS curve_loss_customers,
           COALESCE(SUM(margin) FILTER (WHERE margin < 0), 0) AS curve_loss_total,
           COUNT(*) FILTER (WHERE margin > 0) AS curve_peak_customers,
           MAX(cumulative) AS curve_peak,
           MAX(cumulative) FILTER (WHERE profit_rank <= CEIL(n * 0.2)) AS curve_top_20,
           COALESCE(
               (SELECT jsonb_agg(jsonb_build_array(
                           ROUND(100.0 * c.profit_rank / c.n, 2),
                           ROUND(100 * c.cumulative / NULLIF(c.total, 0), 2))
                       ORDER BY c.profit_rank)
                  FROM curve c
                 WHERE c.profit_rank = 1 OR c.profit_rank = c.n
                    OR c.profit_rank %% GREATEST(1, c.n / %(max_points)s) = 0),
               '[]'::jsonb) AS curve_points
      FROM curve
)"""


def _whale_curve(row: Mapping[str, Any]) -> WhaleCurve:
    """The curve from the `whale` row (see WHALE_CURVE_SQL)."""
    total = row["curve_total"] or ZERO

    def pct(value: Decimal | None) -> Decimal | None:
        if value is None or not total:
            return None
        return (value * 100 / total).quantize(Decimal("0.1"))

    return WhaleCurve(
        points=[{"x": p[0], "y": p[1]} for p in _json(row["curve_points"]) or []],
        customers=row["curve_customers"] or 0,
        total_margin=total,
        peak_customers=row["curve_peak_customers"] or 0,
        peak_share=pct(row["curve_peak"]),
        loss_customers=row["curve_loss_customers"] or 0,
        loss_total=row["curve_loss_total"] or ZERO,
        top_20_share=pct(row["curve_top_20"]),
    )


@dataclass
class CustomerPage:
    rows: list[dict]
    count: int
    page: int
    pages: int
    totals: dict
    curve: WhaleCurve  # of every customer in the range: a search narrows the rows only


def customer_profitability(
    *,
    start: date,
    end: date,
    sort: str = "margin",
    descending: bool = True,
    page: int = 1,
    per_page: int = 50,
    search: str = "",
    max_points: int = 200,
) -> CustomerPage:
    """One page of customers with every figure, sorted in the database, the totals and the
    whale curve: one statement, so that the customers are aggregated once for all three."""
    if sort not in SORTABLE:
        sort = "margin"
    direction = "DESC" if descending else "ASC"
    params = {
        **_customer_params(start, end),
        "limit": per_page,
        "offset": (page - 1) * per_page,
        "max_points": max_points,
    }
    where = ""
    if search:
        params["search"] = f"%{search.lower()}%"
        where = "WHERE r.email LIKE %(search)s"
    sql = f"""
    WITH {_customer_sql()},
    totals AS ({TOTALS_SQL}),
    {WHALE_CURVE_SQL},
    page AS (
        SELECT r.*, COUNT(*) OVER () AS full_count
          FROM ranked r {where}
         ORDER BY r.{sort} {direction} NULLS LAST, r.customer_key
         LIMIT %(limit)s OFFSET %(offset)s
    )
    SELECT page.*, to_jsonb(totals) AS totals, whale.*
      FROM totals CROSS JOIN whale LEFT JOIN page ON true
     ORDER BY page.{sort} {direction} NULLS LAST, page.customer_key
    """
    rows = fetch_rows(sql, params)  # at least one row: totals and whale are one row each
    totals = _json(rows[0]["totals"])
    for key in ("customers", "orders", "units", "offline_units", "lines_without_cost"):
        totals[key] = int(totals.get(key) or 0)
    curve = _whale_curve(rows[0])
    rows = [r for r in rows if r["customer_key"] is not None]
    for row in rows:
        del row["totals"]
        for name in [name for name in row if name.startswith("curve_")]:  # WHALE_CURVE_SQL
            del row[name]
    count = rows[0]["full_count"] if rows else 0
    return CustomerPage(
        rows=rows,
        count=count,
        page=page,
        pages=max(1, -(-count // per_page)),
        totals=totals,
        curve=curve,
    )


TOTALS_SQL = """
        SELECT COUNT(*) AS customers, SUM(orders) AS orders, SUM(units) AS units,
               SUM(offline_units) AS offline_units, SUM(gross_revenue) AS gross_revenue,
               SUM(discounts) AS discounts, SUM(net_revenue) AS net_revenue,
               SUM(offline_revenue) AS offline_revenue, SUM(cogs) AS cogs,
               SUM(pers_revenue) AS pers_revenue, SUM(pers_cost) AS pers_cost,
               SUM(shipping_charged) AS shipping_charged, SUM(shipping_cost) AS shipping_cost,
               SUM(fees) AS fees, SUM(refunds) AS refunds, SUM(margin) AS margin,
               ROUND(100 * SUM(margin) / NULLIF(SUM(revenue_base), 0), 1) AS margin_percent,
               SUM(lines_without_cost) AS lines_without_cost,
               SUM(credits_issued) AS credits_issued, SUM(credits_redeemed) AS credits_redeemed
          FROM ranked"""


def customer_profitability_rows(*, start: date, end: date) -> Iterator[dict]:
    """Every customer, ranked by profit, for the CSV export (fetched in chunks)."""
    with report_cursor() as cursor:
        cursor.execute(
            f"WITH {_customer_sql()} SELECT * FROM ranked ORDER BY profit_rank",
            _customer_params(start, end),
        )
        names = [c.name for c in cursor.description]
        while True:
            chunk = cursor.fetchmany(2000)
            if not chunk:
                break
            rows = [dict(zip(names, row, strict=True)) for row in chunk]
            yield from rows


def whale_curve(*, start: date, end: date, max_points: int = 200) -> WhaleCurve:
    """Cumulative share of contribution margin against customers ranked by margin, on its
    own (the customers page has it from customer_profitability, with the page)."""
    params = {**_customer_params(start, end), "max_points": max_points}
    return _whale_curve(
        fetch_rows(f"WITH {_customer_sql()}, {WHALE_CURVE_SQL} SELECT * FROM whale", params)[0]
    )


@dataclass
class CustomerDetail:
    figures: dict | None
    orders: list[dict]
    offline_sales: list[dict]


def customer_detail(*, customer_key: str, start: date, end: date) -> CustomerDetail:
    """One customer's figures over the range, their orders (all time) and offline sales."""
    params = {**_customer_params(start, end), "key": customer_key}
    order_filter = offline_filter = "AND f.customer_key = %(key)s"
    rows = fetch_rows(
        f"WITH {_customer_sql(order_filter, offline_filter)} SELECT * FROM ranked", params
    )
    figures = rows[0] if rows else None
    orders = fetch_rows(
        f"WITH {ORDER_FACTS.format(order_filter=order_filter, offline_filter=offline_filter)}"
        " SELECT * FROM order_facts ORDER BY sold_at DESC",
        params,
    )
    offline = fetch_rows(
        f"WITH {ORDER_FACTS.format(order_filter=order_filter, offline_filter=offline_filter)}"
        " SELECT * FROM offline_facts ORDER BY day DESC",
        params,
    )
    return CustomerDetail(figures=figures, orders=orders, offline_sales=offline)


# --- segments: RFM and cohorts -----------------------------------------------------------------

# The segments, by their R and F scores: the first rule that holds names the customer.
RFM_SEGMENT_RULES: tuple[tuple[str, str], ...] = (
    ("r >= 4 AND f >= 4", "Champions"),
    ("f >= 4", "Loyal, slipping"),
    ("r >= 4 AND f <= 2", "New or promising"),
    ("r <= 2 AND f >= 3", "At risk"),
    ("r <= 2", "Lost"),
)
RFM_SEGMENT_OTHERWISE = "Needs attention"
RFM_SEGMENT_NAMES: tuple[str, ...] = (
    *(name for _, name in RFM_SEGMENT_RULES),
    RFM_SEGMENT_OTHERWISE,
)
RFM_SEGMENTS = (
    "CASE "
    + " ".join(f"WHEN {rule} THEN '{name}'" for rule, name in RFM_SEGMENT_RULES)
    + f" ELSE '{RFM_SEGMENT_OTHERWISE}' END"
)


# The RFM scores of every customer up to the range's end (needs the `order_facts` CTE): one
# definition, read by the segments page and the personalization report.
RFM_SCORED = """base AS (
        SELECT customer_key,
               (%(end)s::date - MAX((sold_at AT TIME ZONE %(tz)s)::date)) AS recency_days,
               COUNT(*) AS frequency, SUM(net) AS monetary, SUM(margin) AS margin
          FROM order_facts WHERE sold_at < %(end_at)s GROUP BY customer_key
    ),
    scored AS (
        SELECT b.*,
               CEIL(5 * CUME_DIST() OVER (ORDER BY recency_days DESC))::int AS r,
               CASE WHEN frequency >= 6 THEN 5 WHEN frequency >= 4 THEN 4
                    ELSE frequency END AS f,
               CEIL(5 * CUME_DIST() OVER (ORDER BY monetary))::int AS m
          FROM base b
    )"""


def rfm_segments(*, start: date, end: date) -> dict[str, list[dict]]:
    """RFM scores of every customer who bought online up to `end` (all time to the range's
    end): R = quintile of days since last order (5 = most recent), F = number of orders
    (1, 2, 3, 4–5, 6+ → 1–5), M = quintile of net revenue (5 = highest).

    A quintile is ⌈5 × the share of customers at or below the customer's value⌉ (cumulative
    distribution), so the score follows the value: equal values score alike (customers who
    all ordered today all get R 5), and ties take the higher quintile."""
    params = _customer_params(start, end)
    sql = f"""
    WITH {ORDER_FACTS.format(order_filter="", offline_filter="")},
    {RFM_SCORED}
    SELECT {RFM_SEGMENTS} AS segment, COUNT(*) AS customers,
           ROUND(AVG(recency_days)) AS avg_recency_days,
           ROUND(AVG(frequency), 1) AS avg_orders,
           SUM(monetary) AS revenue, SUM(margin) AS margin,
           ROUND(SUM(margin) / NULLIF(COUNT(*), 0), 2) AS margin_per_customer
      FROM scored GROUP BY 1 ORDER BY SUM(margin) DESC
    """
    grid_sql = (
        sql.split("    SELECT " + RFM_SEGMENTS)[0]
        + """
    SELECT r, f, COUNT(*) AS customers, SUM(margin) AS margin
      FROM scored GROUP BY r, f ORDER BY r DESC, f DESC
    """
    )
    return {"segments": fetch_rows(sql, params), "grid": fetch_rows(grid_sql, params)}


def customer_segments(
    *, user_ids: Iterable[int] | None = None, on: date | None = None
) -> dict[int, str]:
    """The RFM segment (rfm_segments' names) of each customer account that bought online up
    to `on` (today by default), by user id; only these users when `user_ids` is given. Read
    from the fact tables (refreshed every 10 minutes), with the one RFM definition above."""
    end = on or timezone.localdate()
    params = _customer_params(end, end)
    user_filter = ""
    if user_ids is not None:
        params["user_ids"] = [int(pk) for pk in user_ids]
        if not params["user_ids"]:
            return {}
        user_filter = "AND f.user_id = ANY(%(user_ids)s)"
    # The scores rank every customer; only the answer is limited to the users asked for.
    sql = f"""
    WITH {ORDER_FACTS.format(order_filter="", offline_filter="")},
    {RFM_SCORED}
    SELECT DISTINCT f.user_id, {RFM_SEGMENTS} AS segment
      FROM scored s JOIN order_facts f ON f.customer_key = s.customer_key
     WHERE f.user_id IS NOT NULL {user_filter}
    """
    return {row["user_id"]: row["segment"] for row in fetch_rows(sql, params)}


def cohorts(*, start: date, end: date, months: int = 12) -> list[dict]:
    """Customers by the month of their first paid online order (cohorts starting within the
    range), the share of each cohort that bought again k = 1..months months later, and the
    cohort's contribution margin (all its orders up to the range's end)."""
    params = {**_customer_params(start, end), "months": months}
    sql = f"""
    WITH {ORDER_FACTS.format(order_filter="", offline_filter="")},
    dated AS (
        SELECT customer_key, margin,
               date_trunc('month', sold_at AT TIME ZONE %(tz)s)::date AS month
          FROM order_facts WHERE sold_at < %(end_at)s
    ),
    firsts AS (SELECT customer_key, MIN(month) AS cohort FROM dated GROUP BY customer_key),
    activity AS (
        SELECT DISTINCT d.customer_key, f.cohort,
               ((extract(year FROM d.month) * 12 + extract(month FROM d.month))
                - (extract(year FROM f.cohort) * 12 + extract(month FROM f.cohort)))::int AS k
          FROM dated d JOIN firsts f USING (customer_key)
    ),
    sizes AS (SELECT cohort, COUNT(*) AS customers FROM firsts GROUP BY cohort),
    margins AS (
        SELECT f.cohort, SUM(d.margin) AS margin
          FROM dated d JOIN firsts f USING (customer_key) GROUP BY f.cohort
    )
    SELECT s.cohort, s.customers, m.margin,
           ROUND(m.margin / s.customers, 2) AS margin_per_customer,
           COALESCE((SELECT jsonb_object_agg(a.k, a.n) FROM (
                SELECT k, COUNT(*) AS n FROM activity a
                 WHERE a.cohort = s.cohort AND a.k BETWEEN 1 AND %(months)s GROUP BY k) a),
               '{{}}'::jsonb) AS returning
      FROM sizes s JOIN margins m USING (cohort)
     WHERE s.cohort BETWEEN date_trunc('month', %(start)s::date) AND %(end)s
     ORDER BY s.cohort
    """
    rows = fetch_rows(sql, params)
    last_month = end.replace(day=1)
    for row in rows:
        row["returning"] = _json(row["returning"])
        available = (last_month.year - row["cohort"].year) * 12 + (
            last_month.month - row["cohort"].month
        )
        row["retention"] = [
            (
                (Decimal(row["returning"].get(str(k), 0)) * 100 / row["customers"]).quantize(
                    Decimal("0.1")
                )
                if k <= available
                else None
            )
            for k in range(1, months + 1)
        ]
    return rows


# --- lead time ----------------------------------------------------------------------------------


def lead_time_by_month(*, start: date, end: date) -> list[dict]:
    """Per month of payment and for personalized / not / all orders: payment → dispatch in
    days (median, 90th percentile, of shipped orders) and the share of due orders dispatched
    by the promised date. An order is *due* when it has a promised date and was shipped, or
    is still open (not shipped) after its promised date; open orders not yet due are not due.
    Orders refunded before dispatch are left out of every figure (they never went out)."""
    params = {
        **range_bounds(start, end),
        "open_statuses": list(OPEN_STATUSES),
        "today": timezone.localdate(),
    }
    sql = f"""
    WITH facts AS (
        SELECT date_trunc('month', o.paid_at AT TIME ZONE %(tz)s)::date AS month,
               {PERSONALIZED_ORDER} AS personalized,
               EXTRACT(EPOCH FROM (o.shipped_at - o.paid_at)) / 86400.0 AS days,
               o.shipped_at IS NOT NULL AS shipped,
               o.promised_dispatch_date AS promised,
               (o.shipped_at AT TIME ZONE %(tz)s)::date AS shipped_day,
               o.status
          FROM order_order o
         WHERE o.paid_at >= %(start_at)s AND o.paid_at < %(end_at)s
           AND o.status = ANY(%(paid_statuses)s)
           AND NOT {LEAD_TIME_EXCLUDED}
    )
    SELECT month,
           CASE WHEN GROUPING(personalized) = 1 THEN 'all'
                WHEN personalized THEN 'personalized' ELSE 'not personalized' END AS kind,
           COUNT(*) AS orders, COUNT(*) FILTER (WHERE shipped) AS shipped,
           ROUND((percentile_cont(0.5) WITHIN GROUP (ORDER BY days))::numeric, 2) AS median_days,
           ROUND((percentile_cont(0.9) WITHIN GROUP (ORDER BY days))::numeric, 2) AS p90_days,
           COUNT(*) FILTER (WHERE {ON_TIME}) AS on_time,
           COUNT(*) FILTER (WHERE {DUE}) AS due
      FROM facts
     GROUP BY GROUPING SETS ((month, personalized), (month))
     ORDER BY month, kind
    """
    rows = fetch_rows(sql, params)
    for row in rows:
        row["on_time_share"] = (
            (Decimal(row["on_time"]) * 100 / row["due"]).quantize(Decimal("0.1"))
            if row["due"]
            else None
        )
    return rows


# --- production cost ----------------------------------------------------------------------------


# The cost price of a product in effect before a moment: the newest cost-history row before
# it, or the first row ever for a moment before the history starts (the catalogue's first cost).
COST_BEFORE = """(
    SELECT h.cost_price FROM reports_costpricerecord h
      JOIN partner_stockrecord sr ON sr.id = h.stockrecord_id
     WHERE sr.product_id = {product}
     ORDER BY h.changed_at < {moment} DESC,
              CASE WHEN h.changed_at < {moment} THEN h.changed_at END DESC NULLS LAST,
              h.changed_at, h.id DESC LIMIT 1)"""

COST_TARGET_PERCENT = Decimal("-15")


def production_cost_default_baseline(*, start: date, end: date) -> date:
    """The month costs are compared with when staff have not chosen one: the first month of
    the range with a sale (online or offline), else the latest month before it with one, else
    the range's first month (nothing sold yet: nothing to compare)."""
    params = range_bounds(start, end)
    first_day = start.replace(day=1)
    params["month_start_at"] = range_bounds(first_day, first_day)["start_at"]
    # The first sale from the start's month on, else the latest sale: MIN / MAX over one scan
    # (no time zone arithmetic per row); only the answer is turned into its local month.
    sql = f"""
    WITH sales AS (
        SELECT {SOLD_AT} AS sold_at FROM order_order o
         WHERE o.status = ANY(%(paid_statuses)s) AND {SOLD_AT} < %(end_at)s
        UNION ALL
        SELECT s.day::timestamp AT TIME ZONE %(tz)s FROM reports_offlinesale s
         WHERE s.day <= %(end)s
    ),
    found AS (
        SELECT COALESCE(MIN(sold_at) FILTER (WHERE sold_at >= %(month_start_at)s),
                        MAX(sold_at)) AS sold_at
          FROM sales
    )
    SELECT date_trunc('month', sold_at AT TIME ZONE %(tz)s)::date AS month FROM found
    """
    month = fetch_rows(sql, params)[0]["month"]
    return month or start.replace(day=1)


def production_cost_by_month(*, start: date, end: date, baseline: date) -> list[dict]:
    """Production cost against the baseline month, per month, overall, per category and for
    the sustainable line vs the other lines. Two measures, kept apart:

    * **Like-for-like cost change** (the KPI against the −15 % target; Laspeyres): the cost
      of making the baseline month's basket (the units sold in the baseline month, all
      channels, per product) at the month's cost prices, against the same basket at the
      baseline month's cost prices: Σ q₀ × c(month) ÷ Σ q₀ × c(baseline) − 1. A product's
      cost in a month is its cost price in effect at the month's end (now, for the current
      month), from the cost price history. What sells does not move it; a cost cut does.
    * **Average cost per unit sold** (Σ units × unit cost ÷ Σ units, the unit cost in effect
      at the sale: recorded on the online order line, for offline sales from the history on
      the sale day) and its change against the baseline month's average. It moves with the
      mix of what sold as well as with costs.

    The **mix effect** = average change − like-for-like change (points): the part of the
    average's movement due to selling a different mix. Units without a known cost are left
    out (counted in `units_without_cost`)."""
    baseline = baseline.replace(day=1)
    params = {
        **range_bounds(min(start, baseline), end),
        "baseline": baseline,
        "from": start,
        "now": timezone.now(),
    }
    month_end = "LEAST((m.month + interval '1 month')::timestamp AT TIME ZONE %(tz)s, %(now)s)"
    sql = f"""
    WITH {PRODUCT_DIM},
    {COST_PERIODS},
    units AS (
        SELECT date_trunc('month', {SOLD_AT} AT TIME ZONE %(tz)s)::date AS month,
               l.product_id, l.quantity AS qty, l.unit_cost_price AS cost
          FROM order_line l JOIN order_order o ON o.id = l.order_id
         WHERE o.status = ANY(%(paid_statuses)s)
           AND {SOLD_AT} >= %(start_at)s AND {SOLD_AT} < %(end_at)s
        UNION ALL
        SELECT date_trunc('month', s.day)::date, s.product_id, s.quantity, h.cost_price
          FROM reports_offlinesale s
          LEFT JOIN cost_periods h ON {SALE_DAY_COST}
         WHERE s.day BETWEEN %(start)s AND %(end)s
    ),
    months AS (
        SELECT m::date AS month
          FROM generate_series(date_trunc('month', %(from)s::date),
                               date_trunc('month', %(end)s::date), interval '1 month') AS m
        UNION SELECT %(baseline)s::date
    ),
    basket AS (
        SELECT product_id, SUM(qty) AS q FROM units WHERE month = %(baseline)s
         GROUP BY product_id
    ),
    priced AS (
        SELECT m.month, b.product_id, b.q,
               {COST_BEFORE.format(product="b.product_id", moment=month_end)} AS cost
          FROM months m CROSS JOIN basket b
    ),
    like_for_like AS (
        SELECT p.month,
               CASE WHEN GROUPING(pd.category) = 0 THEN 'category'
                    WHEN GROUPING(pd.sustainable) = 0 THEN 'line' ELSE 'all' END AS dimension,
               CASE WHEN GROUPING(pd.category) = 0 THEN COALESCE(pd.category, 'Uncategorised')
                    WHEN GROUPING(pd.sustainable) = 0 THEN
                        CASE WHEN pd.sustainable THEN %(line)s ELSE 'Other lines' END
                    ELSE 'All products' END AS label,
               SUM(p.q * p.cost) AS basket_cost, SUM(p.q * b0.cost) AS basket_baseline_cost
          FROM priced p
          JOIN priced b0 ON b0.product_id = p.product_id AND b0.month = %(baseline)s
          JOIN product_dim pd ON pd.product_id = p.product_id
         WHERE p.cost IS NOT NULL AND b0.cost IS NOT NULL
         GROUP BY GROUPING SETS ((p.month), (p.month, pd.category), (p.month, pd.sustainable))
    ),
    grouped AS (
        SELECT u.month,
               CASE WHEN GROUPING(pd.category) = 0 THEN 'category'
                    WHEN GROUPING(pd.sustainable) = 0 THEN 'line' ELSE 'all' END AS dimension,
               CASE WHEN GROUPING(pd.category) = 0 THEN COALESCE(pd.category, 'Uncategorised')
                    WHEN GROUPING(pd.sustainable) = 0 THEN
                        CASE WHEN pd.sustainable THEN %(line)s ELSE 'Other lines' END
                    ELSE 'All products' END AS label,
               SUM(u.qty) FILTER (WHERE u.cost IS NOT NULL) AS units,
               SUM(u.qty) FILTER (WHERE u.cost IS NULL) AS units_without_cost,
               ROUND(SUM(u.qty * u.cost) / NULLIF(SUM(u.qty) FILTER (
                   WHERE u.cost IS NOT NULL), 0), 2) AS average_cost
          FROM units u JOIN product_dim pd ON pd.product_id = u.product_id
         GROUP BY GROUPING SETS ((u.month), (u.month, pd.category), (u.month, pd.sustainable))
    ),
    joined AS (
        SELECT COALESCE(g.month, l.month) AS month,
               COALESCE(g.dimension, l.dimension) AS dimension,
               COALESCE(g.label, l.label) AS label,
               COALESCE(g.units, 0) AS units, COALESCE(g.units_without_cost, 0)
                   AS units_without_cost,
               g.average_cost, l.basket_cost, l.basket_baseline_cost
          FROM grouped g FULL OUTER JOIN like_for_like l
            ON l.month = g.month AND l.dimension = g.dimension AND l.label = g.label
    ),
    measured AS (
        SELECT j.*, b.average_cost AS baseline_cost,
               ROUND(100 * (j.average_cost - b.average_cost) / NULLIF(b.average_cost, 0), 1)
                   AS average_change_percent,
               ROUND(100 * (j.basket_cost - j.basket_baseline_cost)
                     / NULLIF(j.basket_baseline_cost, 0), 1) AS like_for_like_percent
          FROM joined j
          LEFT JOIN grouped b ON b.month = %(baseline)s AND b.dimension = j.dimension
                             AND b.label = j.label
    )
    SELECT m.*, m.average_change_percent - m.like_for_like_percent AS mix_effect_points
      FROM measured m
     WHERE m.month >= date_trunc('month', %(from)s::date) OR m.month = %(baseline)s
     ORDER BY m.dimension = 'all' DESC, m.dimension, m.label, m.month
    """
    return fetch_rows(sql, params)


def production_cost_headline(rows: list[dict]) -> dict | None:
    """The KPI card: the like-for-like change of all products in the range's latest month
    that has one, against the −15 % target (negative = cheaper)."""
    overall = [
        r for r in rows if r["dimension"] == "all" and r["like_for_like_percent"] is not None
    ]
    if not overall:
        return None
    latest = overall[-1]
    change = latest["like_for_like_percent"]
    return {
        "month": latest["month"],
        "like_for_like_percent": change,
        "mix_effect_points": latest["mix_effect_points"],
        "target_percent": COST_TARGET_PERCENT,
        "to_go_points": max(Decimal("0.0"), change - COST_TARGET_PERCENT),
        "reached": change <= COST_TARGET_PERCENT,
    }


def cost_history(*, limit: int = 100) -> list[dict]:
    """The latest cost price changes, newest first."""
    return list(
        CostPriceRecord.objects.select_related("stockrecord__product")
        .order_by("-changed_at", "-pk")
        .values(
            "changed_at",
            "cost_price",
            "source",
            "stockrecord__partner_sku",
            "stockrecord__product__title",
        )[:limit]
    )


def facts_refreshed() -> FactsRefresh | None:
    """When the customer fact tables were last rebuilt (None: never)."""
    return FactsRefresh.objects.order_by("-refreshed_at").first()


# --- personalization economics ------------------------------------------------------------------

NEGLIGIBLE_UPTAKE_PERCENT = Decimal("2.0")

# Which product (its parent for a variant) offers which kind of personalization now: an active
# offer on the product itself, else its class's (a product-level offer overrides the class's,
# an inactive one switches the kind off).
OFFERED_KINDS = """
offered AS (
    SELECT p.id AS product_id, k.kind
      FROM catalogue_product p
      JOIN catalogue_product base ON base.id = COALESCE(p.parent_id, p.id)
     CROSS JOIN (SELECT DISTINCT kind FROM personalization_personalizationoffer) k
     WHERE COALESCE(
           (SELECT o.is_active FROM personalization_personalizationoffer o
             WHERE o.product_id = base.id AND o.kind = k.kind),
           (SELECT o.is_active FROM personalization_personalizationoffer o
             WHERE o.product_class_id = base.product_class_id AND o.kind = k.kind
               AND o.product_id IS NULL), false)
)"""

OPTIONS_CTE = """options (option, option_label, kind, field, display_order) AS (
    VALUES ('monogram_style', 'Monogram style', 'monogram', 'style', 1),
           ('monogram_position', 'Monogram position', 'monogram', 'position', 2),
           ('thread_colour', 'Thread colour', 'thread', 'colour', 3),
           ('hardware_finish', 'Hardware finish', 'hardware', 'finish', 4),
           ('gift_message', 'Gift message', 'gift_message', NULL, 5)
)"""

# The sources of the line fact tables (rebuilt with the order facts by
# services.report_facts_refresh, after them: they read reports_orderfact, so they hold the
# same paid orders). One row per line sold, with its product's class (the parent's for a
# variant) and whether its order was the customer's first paid order; one row per recorded
# choice on such a line as (option, value).
LINE_FACTS_SOURCE = """
WITH firsts AS (
    SELECT customer_key, MIN(sold_at) AS first_sold_at FROM reports_orderfact GROUP BY 1
)
SELECT l.id AS line_id, f.order_id, f.customer_key, f.sold_at, l.product_id,
       COALESCE(pc.name, 'No class') AS product_class, l.quantity,
       f.sold_at = fi.first_sold_at AS first_order
  FROM reports_orderfact f
  JOIN order_line l ON l.order_id = f.order_id
  JOIN catalogue_product p ON p.id = l.product_id
  LEFT JOIN catalogue_product base ON base.id = p.parent_id
  LEFT JOIN catalogue_productclass pc
         ON pc.id = COALESCE(base.product_class_id, p.product_class_id)
  JOIN firsts fi ON fi.customer_key = f.customer_key
"""

LINE_CHOICE_FACTS_SOURCE = f"""
WITH {OPTIONS_CTE}
SELECT op.line_id, lf.sold_at, o.option,
       LEFT(CASE WHEN o.field IS NULL THEN 'with message' ELSE op.data ->> o.field END, 100)
           AS value,
       lf.quantity, op.surcharge, op.cost, op.lead_days
  FROM personalization_orderlinepersonalization op
  JOIN options o ON o.kind = op.kind
  JOIN reports_linefact lf ON lf.line_id = op.line_id
 WHERE (o.field IS NULL OR op.data ->> o.field <> '')
"""

IN_RANGE = "sold_at >= %(start_at)s AND sold_at < %(end_at)s"


@dataclass
class PersonalizationReport:
    rows: list[dict]  # per option and value: uptake, money, lead days, margin, flags
    by_class: list[dict]  # per option, value and product class: uptake
    by_segment: list[dict]  # per option, value and segment (new/returning, RFM): uptake
    conversion: list[dict]  # per option: conversion of the products that offer it, and not
    on_time: list[dict]  # personalised vs plain orders: dispatched by the promised date


def personalization_economics(
    *, start: date, end: date, detail: bool = True
) -> PersonalizationReport:
    """The economics of each personalization option and value over the range (paid online
    orders, sold in the range; see PERSONALIZATION_FORMULAS), read from the line fact tables.
    `detail=False` leaves out the splits, conversion and on-time figures (the CSV export)."""
    params = {**_customer_params(start, end), "vat": VAT_DIVISOR}
    sql = f"""
    WITH {OPTIONS_CTE},
    {OFFERED_KINDS},
    per_value AS (
        SELECT o.option, o.option_label, o.display_order, c.value,
               COUNT(*) AS lines, SUM(c.quantity) AS units,
               ROUND(SUM(c.surcharge * c.quantity / %(vat)s), 2) AS surcharge_revenue,
               SUM(c.cost * c.quantity) AS workshop_cost,
               ROUND(AVG(c.lead_days), 1) AS lead_days
          FROM reports_linechoicefact c JOIN options o ON o.option = c.option
         WHERE c.{IN_RANGE}
         GROUP BY 1, 2, 3, 4
    ),
    per_product AS (
        SELECT product_id, COUNT(*) AS lines FROM reports_linefact
         WHERE {IN_RANGE} GROUP BY product_id
    ),
    per_option AS (
        SELECT o.option, SUM(p.lines) AS eligible_lines
          FROM per_product p JOIN offered ofr ON ofr.product_id = p.product_id
          JOIN options o ON o.kind = ofr.kind
         GROUP BY o.option
    )
    SELECT v.*, COALESCE(e.eligible_lines, 0) AS eligible_lines,
           ROUND(100.0 * v.lines / NULLIF(e.eligible_lines, 0), 1) AS uptake_percent,
           ROUND((v.surcharge_revenue - v.workshop_cost) / NULLIF(v.units, 0), 2)
               AS margin_per_unit,
           (SELECT MIN(pv.label) FROM personalization_personalizationvalue pv
             WHERE pv.code = v.value) AS value_label
      FROM per_value v LEFT JOIN per_option e ON e.option = v.option
     ORDER BY v.display_order, v.lines DESC, v.value
    """
    rows = fetch_rows(sql, params)
    for row in rows:
        row["value_label"] = row["value_label"] or row["value"].capitalize()
        flags = []
        if row["margin_per_unit"] is not None and row["margin_per_unit"] < 0:
            flags.append("negative margin")
        if row["uptake_percent"] is not None and row["uptake_percent"] < NEGLIGIBLE_UPTAKE_PERCENT:
            flags.append("negligible uptake")
        row["flags"] = flags
    if not detail:
        return PersonalizationReport(
            rows=rows, by_class=[], by_segment=[], conversion=[], on_time=[]
        )
    # Uptake within each product class, new/returning and RFM segment: the lines sold in the
    # range with their groups, grouped three ways at once.
    share_sql = f"""
    WITH {OPTIONS_CTE},
    {OFFERED_KINDS},
    {ORDER_FACTS.format(order_filter="", offline_filter="")},
    {RFM_SCORED},
    rfm AS (SELECT customer_key, {RFM_SEGMENTS} AS rfm_segment FROM scored),
    sold AS (
        SELECT l.line_id, l.product_id, l.product_class,
               CASE WHEN l.first_order THEN 'New' ELSE 'Returning' END AS customer,
               COALESCE(r.rfm_segment, 'Needs attention') AS rfm_segment
          FROM reports_linefact l LEFT JOIN rfm r ON r.customer_key = l.customer_key
         WHERE l.{IN_RANGE}
    ),
    taken AS (
        SELECT c.option, c.value,
               CASE WHEN GROUPING(s.product_class) = 0 THEN 'class'
                    WHEN GROUPING(s.customer) = 0 THEN 'customer' ELSE 'rfm' END AS kind,
               COALESCE(s.product_class, s.customer, s.rfm_segment) AS grp, COUNT(*) AS lines
          FROM reports_linechoicefact c JOIN sold s ON s.line_id = c.line_id
         WHERE c.{IN_RANGE}
         GROUP BY GROUPING SETS ((c.option, c.value, s.product_class),
                                 (c.option, c.value, s.customer),
                                 (c.option, c.value, s.rfm_segment))
    ),
    per_product AS (
        SELECT s.product_id,
               CASE WHEN GROUPING(s.product_class) = 0 THEN 'class'
                    WHEN GROUPING(s.customer) = 0 THEN 'customer' ELSE 'rfm' END AS kind,
               COALESCE(s.product_class, s.customer, s.rfm_segment) AS grp, COUNT(*) AS lines
          FROM sold s
         GROUP BY GROUPING SETS ((s.product_id, s.product_class), (s.product_id, s.customer),
                                 (s.product_id, s.rfm_segment))
    ),
    could AS (
        SELECT o.option, p.kind, p.grp, SUM(p.lines) AS eligible_lines
          FROM per_product p JOIN offered ofr ON ofr.product_id = p.product_id
          JOIN options o ON o.kind = ofr.kind
         GROUP BY 1, 2, 3
    )
    SELECT t.kind, t.option, t.value, t.grp, t.lines, b.eligible_lines,
           ROUND(100.0 * t.lines / NULLIF(b.eligible_lines, 0), 1) AS uptake_percent
      FROM taken t JOIN could b ON b.option = t.option AND b.kind = t.kind AND b.grp = t.grp
     ORDER BY t.kind, t.option, t.value, t.grp
    """
    shares = fetch_rows(share_sql, params)
    by_class = [r for r in shares if r["kind"] == "class"]
    by_customer = [r for r in shares if r["kind"] == "customer"]
    by_rfm = [r for r in shares if r["kind"] == "rfm"]
    conversion_sql = f"""
    WITH {OFFERED_KINDS},
    options (option, option_label, kind, display_order) AS (
        VALUES ('monogram', 'Monogram', 'monogram', 1), ('thread', 'Thread colour', 'thread', 2),
               ('hardware', 'Hardware finish', 'hardware', 3),
               ('gift_message', 'Gift message', 'gift_message', 4)
    ),
    records AS (
        SELECT r.product_id, r.num_views, r.num_basket_additions, r.num_purchases
          FROM analytics_productrecord r
    )
    SELECT o.option, o.option_label, ofr.product_id IS NOT NULL AS offered,
           COUNT(r.product_id) AS products,
           COALESCE(SUM(r.num_views), 0) AS views,
           COALESCE(SUM(r.num_purchases), 0) AS purchases,
           ROUND(100.0 * SUM(r.num_purchases) / NULLIF(SUM(r.num_views), 0), 1)
               AS conversion_percent
      FROM options o CROSS JOIN records r
      LEFT JOIN offered ofr ON ofr.product_id = r.product_id AND ofr.kind = o.kind
     GROUP BY o.option, o.option_label, o.display_order, 3
     ORDER BY o.display_order, 3 DESC
    """
    conversion = fetch_rows(conversion_sql, params)
    # On time, personalised against plain, as the Lead time page counts it, from the facts.
    on_time_sql = f"""
    WITH facts AS (
        SELECT personalized, shipped_at IS NOT NULL AS shipped,
               promised_dispatch_date AS promised,
               (shipped_at AT TIME ZONE %(tz)s)::date AS shipped_day, status
          FROM reports_orderfact
         WHERE {IN_RANGE} AND paid_at IS NOT NULL AND NOT {LEAD_TIME_EXCLUDED}
    )
    SELECT CASE WHEN personalized THEN 'personalized' ELSE 'not personalized' END AS kind,
           COUNT(*) AS orders, COUNT(*) FILTER (WHERE shipped) AS shipped,
           COUNT(*) FILTER (WHERE {ON_TIME}) AS on_time,
           COUNT(*) FILTER (WHERE {DUE}) AS due
      FROM facts GROUP BY personalized
    """
    counted = {
        r["kind"]: r
        for r in fetch_rows(
            on_time_sql,
            {**params, "open_statuses": list(OPEN_STATUSES), "today": timezone.localdate()},
        )
    }
    on_time = []
    for kind in ("personalized", "not personalized"):
        row = counted.get(kind, {"orders": 0, "shipped": 0, "on_time": 0, "due": 0})
        on_time.append(
            {
                "kind": kind,
                "orders": row["orders"],
                "shipped": row["shipped"],
                "on_time": row["on_time"],
                "due": row["due"],
                "on_time_share": percent_of(row["on_time"], row["due"]),
            }
        )
    return PersonalizationReport(
        rows=rows,
        by_class=by_class,
        by_segment=by_customer + by_rfm,
        conversion=conversion,
        on_time=on_time,
    )


PERSONALIZATION_FORMULAS = [
    (
        "Sales counted",
        "Lines of paid online orders sold in the period (the day paid, shop's time zone), with "
        "the choices recorded on the line at placement (never today's prices), as of the fact "
        "tables' last rebuild (shown above; every few minutes) and the product's class then.",
    ),
    (
        "Uptake",
        "Lines with the option's value ÷ lines sold of products that offer the option (offered"
        " now: an active offer on the product, else on its product class). By product class and "
        "by customer segment the same, within the class or segment.",
    ),
    (
        "Surcharge revenue",
        "Σ recorded unit surcharge × quantity ÷ 1.20 (surcharges are recorded incl. VAT).",
    ),
    ("Workshop cost", "Σ recorded unit workshop cost × quantity."),
    (
        "Working days added",
        "The average extra lead time (working days) recorded on the lines with the value.",
    ),
    ("Margin per unit", "(Surcharge revenue − workshop cost) ÷ units."),
    (
        "Monogram rows",
        "A monogram has a style and may have a position: its figures appear under its style and"
        " again under its position. Add up within one option, never across options.",
    ),
    (
        "Flags",
        f"Negative margin: margin per unit below 0. Negligible uptake: below "
        f"{NEGLIGIBLE_UPTAKE_PERCENT} % of the lines that could have taken it.",
    ),
    (
        "Segments",
        "New: the line's order is the customer's first paid order; returning: any later one. "
        "RFM segment as on the Segments page, scored at the period's end.",
    ),
    (
        "Conversion",
        "Units purchased ÷ product page views (Oscar's product analytics, all time: views are "
        "not dated), for the products that offer the option against those that do not.",
    ),
    (
        "On time",
        "Orders dispatched by the date promised at checkout ÷ orders due, personalised (at least"
        " one personalised line) against plain, as on the Lead time page (from the facts: an "
        "order dispatched since their last rebuild counts from the next one).",
    ),
]
