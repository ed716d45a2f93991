"""Growth's writes: moving buffered funnel events from Redis into PostgreSQL.

`events_drain` (the beat task drain_events, every GROWTH_DRAIN_SECONDS) pops the events list
in chunks (LPOP with a count: atomic, so two drains never take the same item) and stores each
chunk in one transaction (`events_store`): the visitors first (one INSERT ... ON CONFLICT,
first visit wins), then the events and the day's bot counts (one INSERT each), and last the
visitors who declined after accepting are deleted with their events. Every item is checked
again here; malformed ones are counted and left out.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import redis
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from shop.growth.buffer import events_key, events_redis
from shop.growth.events import ORDER_NUMBER_MAX
from shop.growth.landing import PATH_MAX, REFERRER_MAX, UTM_MAX, clean_value
from shop.growth.models import FUNNEL_STEPS, Visitor

logger = logging.getLogger(__name__)

DRAIN_CHUNK = 5000
DRAIN_MAX_CHUNKS = 200  # one run takes at most a million events; the next run goes on
_VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
_DEVICES = frozenset(Visitor.Device.values)
_STEPS = frozenset(FUNNEL_STEPS)
# Moments outside this window are not real events (a forged or corrupted item).
_OLDEST = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC).timestamp()
_FUTURE_SLACK = 24 * 3600


@dataclass
class DrainResult:
    events: int = 0
    visitors: int = 0  # visitor rows written (new or updated)
    bot_requests: int = 0
    rejected: int = 0  # items left out as malformed
    forgotten: int = 0  # visitors deleted (they declined analytics after accepting)

    def add(self, other: DrainResult) -> None:
        self.events += other.events
        self.visitors += other.visitors
        self.bot_requests += other.bot_requests
        self.rejected += other.rejected
        self.forgotten += other.forgotten


def events_drain(*, chunk: int = DRAIN_CHUNK, max_chunks: int = DRAIN_MAX_CHUNKS) -> DrainResult:
    """Move what the shop's processes pushed to Redis into the funnel tables, chunk by chunk.
    Redis unavailable: logged, nothing stored (the next run tries again)."""
    result = DrainResult()
    key = events_key()
    for _ in range(max_chunks):
        try:
            raw = events_redis().lpop(key, chunk)
        except (redis.RedisError, OSError):
            logger.warning("growth: Redis unavailable, funnel events not drained this time")
            break
        if not raw:
            break
        items = []
        for value in raw:
            try:
                items.append(json.loads(value))
            except (ValueError, UnicodeDecodeError):
                result.rejected += 1
        result.add(events_store(items=items))
        if len(raw) < chunk:
            break
    return result


def _moment(value: Any, now: float) -> datetime.datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not _OLDEST <= value <= now + _FUTURE_SLACK:
        return None
    return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)


def _user(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def events_store(*, items: list[dict[str, Any]]) -> DrainResult:
    """Store one chunk of buffered items (see shop.growth.events for their shape) in one
    transaction. Returns what was stored and how many items were malformed."""
    now = datetime.datetime.now(tz=datetime.UTC).timestamp()
    result = DrainResult()
    seen: dict[str, list] = {
        name: [] for name in ("id", "at", "user", "landed", "us", "um", "uc", "rh", "lp", "dev")
    }
    events: dict[str, list] = {
        name: [] for name in ("visitor", "step", "at", "user", "path", "order")
    }
    bots: dict[str, list] = {"day": [], "n": []}
    forget: list[str] = []
    for item in items:
        kind = item.get("k") if isinstance(item, dict) else None
        if kind not in ("e", "l", "b", "f"):
            result.rejected += 1
            continue
        if kind == "f":
            visitor = item.get("v")
            if isinstance(visitor, str) and _VISITOR_ID.match(visitor):
                forget.append(visitor)
            else:
                result.rejected += 1
            continue
        if kind == "b":
            try:
                day = datetime.date.fromisoformat(str(item.get("d"))[:10])
            except ValueError:
                day = None
            n = item.get("n")
            if day is None or not isinstance(n, int) or isinstance(n, bool) or not 0 < n < 10**9:
                result.rejected += 1
                continue
            bots["day"].append(day)
            bots["n"].append(n)
            continue
        visitor = item.get("v")
        at = _moment(item.get("t"), now)
        if not isinstance(visitor, str) or not _VISITOR_ID.match(visitor) or at is None:
            result.rejected += 1
            continue
        step = item.get("s")
        if kind == "e" and step not in _STEPS:
            result.rejected += 1
            continue
        user = _user(item.get("u"))
        landing = item.get("l") if kind == "e" and step == "visit" else None
        landing = landing if isinstance(landing, dict) else None
        seen["id"].append(visitor)
        seen["at"].append(at)
        seen["user"].append(user)
        seen["landed"].append(landing is not None)
        landing = landing or {}
        seen["us"].append(clean_value(landing.get("utm_source", ""), UTM_MAX))
        seen["um"].append(clean_value(landing.get("utm_medium", ""), UTM_MAX))
        seen["uc"].append(clean_value(landing.get("utm_campaign", ""), UTM_MAX))
        seen["rh"].append(clean_value(landing.get("referrer_host", ""), REFERRER_MAX).lower())
        seen["lp"].append(clean_value(landing.get("landing_path", ""), PATH_MAX) or "/")
        device = landing.get("device")
        seen["dev"].append(device if device in _DEVICES else Visitor.Device.DESKTOP.value)
        if kind == "e":
            events["visitor"].append(visitor)
            events["step"].append(step)
            events["at"].append(at)
            events["user"].append(user)
            events["path"].append(clean_value(item.get("p", ""), PATH_MAX))
            events["order"].append(clean_value(item.get("o", ""), ORDER_NUMBER_MAX))
    users = connection.ops.quote_name(get_user_model()._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        if seen["id"]:
            cursor.execute(_VISITORS_UPSERT.format(users=users), seen)
            result.visitors = cursor.rowcount
        if events["visitor"]:
            cursor.execute(_EVENTS_INSERT.format(users=users), events)
            result.events = cursor.rowcount
        if bots["day"]:
            cursor.execute(_BOTS_UPSERT, bots)
            result.bot_requests = sum(bots["n"])
        if forget:
            # After this chunk's inserts: what the browser sent before declining goes too.
            cursor.execute("DELETE FROM growth_event WHERE visitor_id = ANY(%s::text[])", [forget])
            cursor.execute("DELETE FROM growth_visitor WHERE id = ANY(%s::text[])", [forget])
            result.forgotten = len(forget)
    return result


# One row per visitor of the chunk: first and last moment, the latest signed-in user, the
# landing of their earliest visit in the chunk. An existing row keeps its first moment and its
# landing (first visit wins) unless it has none yet (its first items came without a visit: a
# visit pushed by another process, later); a deleted user is not linked. Rows are written in
# id order, so two drains at once lock them in the same order.
_VISITORS_UPSERT = """
WITH t AS (
    SELECT * FROM unnest(
        %(id)s::text[], %(at)s::timestamptz[], %(user)s::int[], %(landed)s::bool[],
        %(us)s::text[], %(um)s::text[], %(uc)s::text[], %(rh)s::text[], %(lp)s::text[],
        %(dev)s::text[]
    ) AS t(id, at, user_id, landed, us, um, uc, rh, lp, dev)
), agg AS (
    SELECT id, MIN(at) AS first_seen_at, MAX(at) AS last_seen_at,
           (array_agg(user_id ORDER BY at DESC) FILTER (WHERE user_id IS NOT NULL))[1] AS user_id,
           bool_or(landed) AS landed,
           (array_agg(us ORDER BY at) FILTER (WHERE landed))[1] AS us,
           (array_agg(um ORDER BY at) FILTER (WHERE landed))[1] AS um,
           (array_agg(uc ORDER BY at) FILTER (WHERE landed))[1] AS uc,
           (array_agg(rh ORDER BY at) FILTER (WHERE landed))[1] AS rh,
           (array_agg(lp ORDER BY at) FILTER (WHERE landed))[1] AS lp,
           (array_agg(dev ORDER BY at) FILTER (WHERE landed))[1] AS dev
      FROM t GROUP BY id
)
INSERT INTO growth_visitor AS v
       (id, first_seen_at, last_seen_at, user_id, utm_source, utm_medium, utm_campaign,
        referrer_host, landing_path, device)
SELECT a.id, a.first_seen_at, a.last_seen_at, u.id, COALESCE(a.us, ''), COALESCE(a.um, ''),
       COALESCE(a.uc, ''), COALESCE(a.rh, ''), CASE WHEN a.landed THEN a.lp ELSE '' END,
       COALESCE(a.dev, 'desktop')
  FROM agg a LEFT JOIN {users} u ON u.id = a.user_id
 ORDER BY a.id
ON CONFLICT (id) DO UPDATE SET
    first_seen_at = LEAST(v.first_seen_at, EXCLUDED.first_seen_at),
    last_seen_at = GREATEST(v.last_seen_at, EXCLUDED.last_seen_at),
    user_id = COALESCE(EXCLUDED.user_id, v.user_id),
    utm_source = CASE WHEN v.landing_path = '' THEN EXCLUDED.utm_source ELSE v.utm_source END,
    utm_medium = CASE WHEN v.landing_path = '' THEN EXCLUDED.utm_medium ELSE v.utm_medium END,
    utm_campaign = CASE WHEN v.landing_path = '' THEN EXCLUDED.utm_campaign
                        ELSE v.utm_campaign END,
    referrer_host = CASE WHEN v.landing_path = '' THEN EXCLUDED.referrer_host
                         ELSE v.referrer_host END,
    device = CASE WHEN v.landing_path = '' THEN EXCLUDED.device ELSE v.device END,
    landing_path = CASE WHEN v.landing_path = '' THEN EXCLUDED.landing_path
                        ELSE v.landing_path END
"""

_EVENTS_INSERT = """
INSERT INTO growth_event (visitor_id, step, at, user_id, path, order_number)
SELECT t.visitor, t.step, t.at, u.id, t.path, t.ord
  FROM unnest(
        %(visitor)s::text[], %(step)s::text[], %(at)s::timestamptz[], %(user)s::int[],
        %(path)s::text[], %(order)s::text[]
  ) WITH ORDINALITY AS t(visitor, step, at, user_id, path, ord, n)
  LEFT JOIN {users} u ON u.id = t.user_id
 ORDER BY t.n
"""

_BOTS_UPSERT = """
INSERT INTO growth_botday AS b (day, requests)
SELECT day, SUM(n) FROM unnest(%(day)s::date[], %(n)s::bigint[]) AS t(day, n) GROUP BY day
ON CONFLICT (day) DO UPDATE SET requests = b.requests + EXCLUDED.requests
"""
