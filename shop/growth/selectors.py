"""The funnel report: visitors who accepted analytics, step by step, from the events the
server wrote (shop.growth.models), beside every paid order from the order table.

Definitions (one place):
- A visitor *reached* a step in the range when they have at least one event of that step in
  it (dates in the store's time zone, both ends included). The figure of a step is the number
  of distinct visitors who reached it; conversion compares it with the step before and with
  the first step (visits), and the drop is the difference from the step before.
- Source: the visitor's utm_source, else the referring site's host, else "(direct)", all as
  kept from their first visit.
- Returning: first seen before the range starts, or a signed-in customer with a paid order
  before it; new otherwise.
- RFM segment: of the customer account last seen with the visitor, scored at the range's end
  (shop.reports.selectors.customer_segments); "(not signed in)" and "(no paid order yet)"
  for the others.
- Paid orders: every order paid in the range (the order table: paid, in the workshop, ready,
  shipped, delivered or later refunded; consent or not), on the day it was paid.
- Bots: requests from known crawler agents or with no user agent, never events; only their
  number per day (BotDay).
Every figure set is one query; the database aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from oscar.core.loading import get_model

from shop.growth.models import FUNNEL_STEPS, Step
from shop.reports.selectors import customer_segments, fetch_rows, percent_of, range_bounds

DIRECT = "(direct)"
NOT_SIGNED_IN = "(not signed in)"
NO_PAID_ORDER = "(no paid order yet)"
DIMENSIONS = {
    "source": "Source",
    "device": "Device",
    "visitor_kind": "New or returning",
    "segment": "RFM segment",
}
VISITOR_KINDS = ("new", "returning")
BREAKDOWN_LIMIT = 50
STEP_LABELS = dict(Step.choices)


@dataclass(frozen=True)
class FunnelFilters:
    start: date
    end: date
    source: str = ""  # "" = every source
    device: str = ""
    visitor_kind: str = ""  # "new", "returning" or ""
    segment: str = ""


@dataclass
class FunnelStep:
    step: str
    label: str
    visitors: int
    from_previous: Decimal | None  # % of the step before
    from_first: Decimal | None  # % of visits
    drop: int | None  # visitors lost since the step before
    drop_percent: Decimal | None


@dataclass
class FunnelReport:
    filters: FunnelFilters
    steps: list[FunnelStep]
    paid_orders: int  # every paid order in the range, from the order table
    bot_requests: int
    days: list[dict] = field(default_factory=list)
    breakdown: list[dict] = field(default_factory=list)
    breakdown_by: str = "source"


def funnel_steps(counts: dict[str, int]) -> list[FunnelStep]:
    """The funnel's six steps from the visitors reaching each: conversion from the step
    before and from the first, and the drop at each step."""
    steps = []
    first = counts.get(FUNNEL_STEPS[0], 0)
    previous: int | None = None
    for step in FUNNEL_STEPS:
        n = counts.get(step, 0)
        steps.append(
            FunnelStep(
                step=step,
                label=STEP_LABELS[step],
                visitors=n,
                from_previous=percent_of(n, previous) if previous is not None else None,
                from_first=percent_of(n, first),
                drop=previous - n if previous is not None else None,
                drop_percent=percent_of(previous - n, previous) if previous is not None else None,
            )
        )
        previous = n
    return steps


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "orders": quote(get_model("order", "Order")._meta.db_table),
        "users": quote(get_user_model()._meta.db_table),
    }


_STEP_COUNTS = ",\n".join(
    f"COUNT(DISTINCT ev.visitor_id) FILTER (WHERE ev.step = '{step}') AS {step}"
    for step in FUNNEL_STEPS
)
_PAID_AT = "COALESCE(o.paid_at, o.date_placed)"

# The range's events and their visitors with each dimension, filtered. Needs `range_bounds`, the
# filters (`source`, `device`, `kind`, `segment`, "" for any) and the segments of the
# visitors' customers as two arrays (`seg_users`, `seg_names`).
_BASE = """
ev AS (
    SELECT e.visitor_id, e.step, e.at FROM growth_event e
     WHERE e.at >= %(start_at)s AND e.at < %(end_at)s
),
vis AS (
    SELECT v.id,
           COALESCE(NULLIF(v.utm_source, ''), NULLIF(v.referrer_host, ''), '{direct}') AS source,
           v.device,
           CASE WHEN v.first_seen_at < %(start_at)s OR EXISTS (
                    SELECT 1 FROM {orders} o
                     WHERE o.user_id = v.user_id AND o.status = ANY(%(paid_statuses)s)
                       AND {paid_at} < %(start_at)s)
                THEN 'returning' ELSE 'new' END AS visitor_kind,
           COALESCE(seg.segment, CASE WHEN v.user_id IS NULL THEN '{not_signed_in}'
                                      ELSE '{no_paid_order}' END) AS segment
      FROM growth_visitor v
      LEFT JOIN unnest(%(seg_users)s::int[], %(seg_names)s::text[]) AS seg(user_id, segment)
        ON seg.user_id = v.user_id
     WHERE v.id IN (SELECT visitor_id FROM ev)
),
fvis AS (
    SELECT * FROM vis
     WHERE (%(source)s = '' OR source = %(source)s)
       AND (%(device)s = '' OR device = %(device)s)
       AND (%(kind)s = '' OR visitor_kind = %(kind)s)
       AND (%(segment)s = '' OR segment = %(segment)s)
)"""


def _base_sql() -> str:
    return _BASE.format(
        direct=DIRECT,
        not_signed_in=NOT_SIGNED_IN,
        no_paid_order=NO_PAID_ORDER,
        paid_at=_PAID_AT,
        **_tables(),
    )


def _segments_needed(filters: FunnelFilters, breakdown_by: str) -> bool:
    return bool(filters.segment) or breakdown_by == "segment"


def visitor_segments(*, start: date, end: date) -> dict[int, str]:
    """The RFM segment (at `end`) of each customer account seen with a visitor who has
    events in the range."""
    params = range_bounds(start, end)
    rows = fetch_rows(
        """SELECT DISTINCT v.user_id FROM growth_visitor v
            WHERE v.user_id IS NOT NULL AND EXISTS (
                  SELECT 1 FROM growth_event e WHERE e.visitor_id = v.id
                     AND e.at >= %(start_at)s AND e.at < %(end_at)s)""",
        params,
    )
    return customer_segments(user_ids=[row["user_id"] for row in rows], on=end)


def _params(filters: FunnelFilters, segments: dict[int, str]) -> dict[str, Any]:
    return {
        **range_bounds(filters.start, filters.end),
        "source": filters.source,
        "device": filters.device,
        "kind": filters.visitor_kind,
        "segment": filters.segment,
        "seg_users": list(segments),
        "seg_names": list(segments.values()),
    }


def funnel_totals(*, filters: FunnelFilters, segments: dict[int, str]) -> dict[str, int]:
    """Visitors reaching each step, every paid order and the bot requests of the range: one
    query."""
    sql = f"""
    WITH {_base_sql()}
    SELECT {_STEP_COUNTS},
           (SELECT COUNT(*) FROM {_tables()["orders"]} o
             WHERE o.status = ANY(%(paid_statuses)s)
               AND {_PAID_AT} >= %(start_at)s AND {_PAID_AT} < %(end_at)s) AS paid_orders,
           (SELECT COALESCE(SUM(b.requests), 0) FROM growth_botday b
             WHERE b.day BETWEEN %(start)s AND %(end)s) AS bot_requests
      FROM ev JOIN fvis ON fvis.id = ev.visitor_id
    """
    return fetch_rows(sql, _params(filters, segments))[0]


def funnel_by_day(*, filters: FunnelFilters, segments: dict[int, str]) -> list[dict]:
    """One row per day of the range (days without events included): visitors reaching each
    step, the day's paid orders and bot requests. One query."""
    sql = f"""
    WITH {_base_sql()},
    steps AS (
        SELECT (ev.at AT TIME ZONE %(tz)s)::date AS day, {_STEP_COUNTS}
          FROM ev JOIN fvis ON fvis.id = ev.visitor_id GROUP BY 1
    ),
    orders AS (
        SELECT ({_PAID_AT} AT TIME ZONE %(tz)s)::date AS day, COUNT(*) AS paid_orders
          FROM {_tables()["orders"]} o
         WHERE o.status = ANY(%(paid_statuses)s)
           AND {_PAID_AT} >= %(start_at)s AND {_PAID_AT} < %(end_at)s
         GROUP BY 1
    )
    SELECT d::date AS day,
           {", ".join(f"COALESCE(s.{step}, 0) AS {step}" for step in FUNNEL_STEPS)},
           COALESCE(o.paid_orders, 0) AS paid_orders,
           COALESCE(b.requests, 0) AS bot_requests
      FROM generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS d
      LEFT JOIN steps s ON s.day = d::date
      LEFT JOIN orders o ON o.day = d::date
      LEFT JOIN growth_botday b ON b.day = d::date
     ORDER BY d
    """
    return fetch_rows(sql, _params(filters, segments))


def funnel_breakdown(*, filters: FunnelFilters, segments: dict[int, str], by: str) -> list[dict]:
    """Visitors reaching each step per value of one dimension (source, device, new or
    returning, RFM segment), the largest first (at most BREAKDOWN_LIMIT rows). One query."""
    if by not in DIMENSIONS:
        raise ValueError(by)
    sql = f"""
    WITH {_base_sql()}
    SELECT fvis.{by} AS value, {_STEP_COUNTS}
      FROM ev JOIN fvis ON fvis.id = ev.visitor_id
     GROUP BY fvis.{by}
     ORDER BY {FUNNEL_STEPS[0]} DESC, fvis.{by}
     LIMIT {BREAKDOWN_LIMIT}
    """
    return fetch_rows(sql, _params(filters, segments))


def funnel_sources(*, start: date, end: date) -> list[str]:
    """The sources of the range's visitors, the commonest first (for the filter)."""
    sql = f"""
    SELECT COALESCE(NULLIF(v.utm_source, ''), NULLIF(v.referrer_host, ''), '{DIRECT}') AS source
      FROM growth_visitor v
     WHERE EXISTS (SELECT 1 FROM growth_event e WHERE e.visitor_id = v.id
                      AND e.at >= %(start_at)s AND e.at < %(end_at)s)
     GROUP BY 1 ORDER BY COUNT(*) DESC, 1 LIMIT 100
    """
    return [row["source"] for row in fetch_rows(sql, range_bounds(start, end))]


def funnel_report(*, filters: FunnelFilters, breakdown_by: str = "source") -> FunnelReport:
    """The whole report: steps with conversion and drop, the trend by day, a breakdown, all
    paid orders and the bots left out."""
    segments = (
        visitor_segments(start=filters.start, end=filters.end)
        if _segments_needed(filters, breakdown_by)
        else {}
    )
    totals = funnel_totals(filters=filters, segments=segments)
    return FunnelReport(
        filters=filters,
        steps=funnel_steps(totals),
        paid_orders=totals["paid_orders"],
        bot_requests=int(totals["bot_requests"]),
        days=funnel_by_day(filters=filters, segments=segments),
        breakdown=funnel_breakdown(filters=filters, segments=segments, by=breakdown_by),
        breakdown_by=breakdown_by,
    )
