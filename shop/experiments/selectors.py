"""Reading experiments: which are live (cached in process), the variant a request sees (the
ONE helper templates and views use: `variant(request, name)`), the part of the page-cache key
it makes, and the report.

Who is counted: a visitor who accepted analytics, is not a bot and carries a visitor id
(shop.growth.visitor), inside the experiment's audience. Everyone else sees control and is
not counted. An anonymous request never writes and, on the page cache's path, never queries
the database for an experiment with audience "all": the live experiments come from a
process-local copy (refreshed from the cache every few seconds; the cache from the database
when it lost them), the visitor's variant from a hash. New/returning audiences read one
memo per visitor from the cache (filled from the Visitor row once a day at most); signed-in
pages read the account's Assignment (once per request).
"""

from __future__ import annotations

import datetime
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from shop.experiments import stats
from shop.experiments.hashing import BUCKET_SQL, pick
from shop.experiments.models import CONTROL, NAME_MAX, Assignment, Experiment
from shop.growth.models import Visitor
from shop.growth.visitor import analytics_allowed, visitor_id

logger = logging.getLogger(__name__)

DEFS_KEY = "mv:exp:defs"
DEFS_SECONDS = 300  # the cache's copy (services forget it at once on every change)
LOCAL_SECONDS = 5.0  # each process's own copy: a change shows within this
SEEN_KEY = "mv:exp:seen:{}"  # a visitor's memo: "r" returning, "n" new (until midnight)
SEEN_RETURNING_SECONDS = 30 * 24 * 3600
ACCOUNT_KEY = "mv:exp:acct:{}"  # a browser's account variants, where they differ from its hash
ACCOUNT_SECONDS = 180 * 24 * 3600
SEGMENT_KEY = "mv:exp:seg:{}:{}"
SEGMENT_SECONDS = 600  # the RFM facts are rebuilt every 10 minutes
_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_local: dict = {"at": -math.inf, "defs": ()}


@dataclass(frozen=True)
class LiveExperiment:
    """What the request path needs of a running experiment (picklable, no model)."""

    id: int
    name: str
    audience: str
    segment: str
    starts_at: datetime.datetime | None
    ends_at: datetime.datetime | None
    variants: tuple[tuple[str, int], ...]  # (key, weight), control first
    variant_ids: tuple[int, ...]

    def is_live(self, now: datetime.datetime) -> bool:
        return (self.starts_at is None or self.starts_at <= now) and (
            self.ends_at is None or now < self.ends_at
        )

    @property
    def segment_on(self) -> datetime.date:
        """Segment membership is read as of the test's first day, the same for every page
        and for the report."""
        return timezone.localdate(self.starts_at) if self.starts_at else timezone.localdate()


# --- the running experiments, cached --------------------------------------------------------


def _definitions_from_database() -> tuple[LiveExperiment, ...]:
    now = timezone.now()
    running = (
        Experiment.objects.filter(status=Experiment.Status.RUNNING)
        .exclude(ends_at__lte=now)
        .prefetch_related("variants")
        .order_by("name")
    )
    return tuple(
        LiveExperiment(
            id=exp.pk,
            name=exp.name,
            audience=exp.audience,
            segment=exp.segment,
            starts_at=exp.starts_at,
            ends_at=exp.ends_at,
            variants=tuple((v.key, v.weight) for v in exp.variants.all()),
            variant_ids=tuple(v.pk for v in exp.variants.all()),
        )
        for exp in running
        if exp.variants.all()
    )


def experiment_definitions() -> tuple[LiveExperiment, ...]:
    """The running experiments (some may start later or have just ended: see is_live)."""
    now = time.monotonic()
    if now - _local["at"] < LOCAL_SECONDS:
        return _local["defs"]
    defs = cache.get(DEFS_KEY)
    if defs is None:
        defs = _definitions_from_database()
        cache.set(DEFS_KEY, defs, timeout=DEFS_SECONDS)
    _local.update(at=now, defs=defs)
    return defs


def experiments_forget() -> None:
    """Experiments changed: this process and the cache read them again."""
    _local.update(at=-math.inf, defs=())
    try:
        cache.delete(DEFS_KEY)
    except Exception:
        logger.warning("experiments: could not forget the cached definitions", exc_info=True)


def live_experiments(now: datetime.datetime | None = None) -> list[LiveExperiment]:
    now = now or timezone.now()
    return [exp for exp in experiment_definitions() if exp.is_live(now)]


# --- who is in the audience ------------------------------------------------------------------


def _seconds_to_midnight() -> int:
    now = timezone.localtime()
    midnight = datetime.datetime.combine(
        now.date() + datetime.timedelta(days=1), datetime.time(), tzinfo=now.tzinfo
    )
    return max(60, int((midnight - now).total_seconds()))


def visitor_seen_before_today(vid: str, memo: str | None = None) -> bool:
    """First seen before today (store time): from the memo, else from the Visitor row once
    (no row yet = first seen now = new, remembered until midnight)."""
    if memo in ("r", "n"):
        return memo == "r"
    today = timezone.localdate()
    first = Visitor.objects.filter(pk=vid).values_list("first_seen_at", flat=True).first()
    returning = first is not None and timezone.localdate(first) < today
    try:
        if returning:
            cache.set(SEEN_KEY.format(vid), "r", timeout=SEEN_RETURNING_SECONDS)
        else:
            cache.set(SEEN_KEY.format(vid), "n", timeout=_seconds_to_midnight())
    except Exception:
        logger.warning("experiments: could not remember visitor %s", vid, exc_info=True)
    return returning


def account_has_paid_order(user_id: int, *, before: datetime.datetime | None = None) -> bool:
    from shop.order.models import Order
    from shop.order.pipeline import PAID_STATUSES

    return Order.objects.filter(
        user_id=user_id, status__in=PAID_STATUSES, date_placed__lt=before or timezone.now()
    ).exists()


def account_segment(user_id: int, on: datetime.date) -> str:
    """The account's RFM segment on that day ("" when it has not bought), cached a while."""
    key = SEGMENT_KEY.format(user_id, on.isoformat())
    found = cache.get(key)
    if found is None:
        from shop.reports.selectors import customer_segments

        found = customer_segments(user_ids=[user_id], on=on).get(user_id, "")
        cache.set(key, found, timeout=SEGMENT_SECONDS)
    return found


class Audience:
    """What a request knows of its visitor, read lazily (each at most once)."""

    def __init__(self, *, vid: str | None, user_id: int | None, seen_memo: str | None = None):
        self.vid, self.user_id, self._memo = vid, user_id, seen_memo
        self._answers: dict = {}

    def _once(self, name: str, compute: Callable[[], object]):
        if name not in self._answers:
            self._answers[name] = compute()
        return self._answers[name]

    def returning(self) -> bool:
        """Returning = first seen before today, or an account with an earlier paid order."""
        seen = self.vid is not None and self._once(
            "seen", lambda: visitor_seen_before_today(self.vid, self._memo)
        )
        return bool(seen) or (
            self.user_id is not None
            and self._once("paid", lambda: account_has_paid_order(self.user_id))
        )

    def includes(self, exp: LiveExperiment) -> bool:
        if exp.audience == Experiment.Audience.ALL:
            return True
        if exp.audience == Experiment.Audience.NEW:
            return not self.returning()
        if exp.audience == Experiment.Audience.RETURNING:
            return self.returning()
        if exp.audience == Experiment.Audience.SEGMENT and self.user_id is not None:
            return account_segment(self.user_id, exp.segment_on) == exp.segment
        return False  # a segment needs an account


# --- the variant a request sees -------------------------------------------------------------


def _signed_in_user_id(request: HttpRequest) -> int | None:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


def _variants_for(request: HttpRequest) -> dict[str, str]:
    if not analytics_allowed(request):
        return {}
    experiments = live_experiments()
    if not experiments:
        return {}
    vid = visitor_id(request)
    user_id = _signed_in_user_id(request)
    memo = None
    if user_id is not None:
        accounts = dict(
            Assignment.objects.filter(
                user_id=user_id, experiment_id__in=[e.id for e in experiments]
            ).values_list("experiment__name", "variant__key")
        )
    elif vid is not None:
        keys = [ACCOUNT_KEY.format(vid)]
        if any(e.audience in ("new", "returning") for e in experiments):
            keys.append(SEEN_KEY.format(vid))
        found = cache.get_many(keys)  # one round trip
        accounts = found.get(ACCOUNT_KEY.format(vid)) or {}
        memo = found.get(SEEN_KEY.format(vid))
    else:
        accounts = {}
    audience = Audience(vid=vid, user_id=user_id, seen_memo=memo)
    chosen: dict[str, str] = {}
    for exp in experiments:
        keys = {key for key, _ in exp.variants}
        if accounts.get(exp.name) in keys:
            chosen[exp.name] = accounts[exp.name]  # the account's variant wins
        elif vid is None or not audience.includes(exp):
            chosen[exp.name] = CONTROL
        else:
            chosen[exp.name] = pick(exp.name, vid, exp.variants)
    return chosen


def request_variants(request: HttpRequest) -> dict[str, str]:
    """Every live experiment's variant for this request (control for visitors who are not
    counted), computed once per request. Never raises: on any failure, control."""
    found = getattr(request, "_mv_variants", None)
    if found is not None:
        return found
    try:
        found = _variants_for(request)
    except Exception:
        logger.warning("experiments: variants unavailable, showing control", exc_info=True)
        found = {}
    request._mv_variants = found
    return found


def clip_name(name: object) -> str | None:
    """An experiment name as templates and views may pass it: a slug of up to 50
    characters; anything else (long, HTML, NUL, not a string) is None."""
    if not isinstance(name, str):
        return None
    name = name.strip()[: NAME_MAX + 1]
    return name if len(name) <= NAME_MAX and _NAME.match(name) else None


def variant(request: HttpRequest, name: object) -> str:
    """THE helper: the key of the variant this request sees in experiment `name`; "control"
    for an unknown, stopped or garbage name and for visitors who are not counted."""
    clean = clip_name(name)
    if clean is None or request is None:
        return CONTROL
    return request_variants(request).get(clean, CONTROL)


def page_key_part(request: HttpRequest) -> str:
    """For the page cache's key: the visitor's variants other than control, sorted
    ("takeback-promise=promise"); "" when the visitor sees control everywhere, so that
    everyone who sees control shares one cached page."""
    chosen = request_variants(request)
    return "&".join(f"{name}={key}" for name, key in sorted(chosen.items()) if key != CONTROL)


# --- dashboard -------------------------------------------------------------------------------


def experiment_list() -> QuerySet:
    return Experiment.objects.annotate(variant_count=Count("variants")).order_by(
        "-created_at", "-pk"
    )


# --- the report ------------------------------------------------------------------------------

_PAID_BEFORE = """(e.user_id IS NOT NULL AND EXISTS (
                    SELECT 1 FROM order_order o
                     WHERE o.user_id = e.user_id AND o.status = ANY(%(paid)s)
                       AND o.date_placed < e.at))"""
AUDIENCE_SQL = {
    "all": "TRUE",
    "new": "(e.at AT TIME ZONE %(tz)s)::date <= (v.first_seen_at AT TIME ZONE %(tz)s)::date"
    f" AND NOT {_PAID_BEFORE}",
    "returning": "((e.at AT TIME ZONE %(tz)s)::date > (v.first_seen_at AT TIME ZONE %(tz)s)::date"
    f" OR {_PAID_BEFORE})",
    "segment": "e.user_id IN (SELECT u FROM segment_members)",
}

# One pass over the window's events gives each visitor their entry (first event in the
# audience) and their last goal event; the variant is the account's Assignment (through the
# accounts seen with the visitor: the Visitor row's, and those signed in on its events), else
# the hash. Converted = a goal event at or after the entry.
REPORT_SQL = """
WITH variants AS (
    SELECT id, key, label, is_control, position,
           SUM(weight) OVER (ORDER BY position, id) - weight AS lo,
           SUM(weight) OVER (ORDER BY position, id) AS hi,
           SUM(weight) OVER () AS total
      FROM experiments_variant WHERE experiment_id = %(exp)s
),
segment_members AS (
    SELECT m.u FROM unnest(%(seg_users)s::int[], %(seg_names)s::text[]) AS m(u, s)
     WHERE m.s = %(segment)s
),
assigned_users AS (
    SELECT user_id, variant_id, created_at, id
      FROM experiments_assignment WHERE experiment_id = %(exp)s
),
per_visitor AS (
    SELECT e.visitor_id,
           MIN(e.at) FILTER (
               WHERE ({audience}) OR e.user_id IN (SELECT user_id FROM assigned_users)
           ) AS entered_at,
           MAX(e.at) FILTER (WHERE e.step = %(goal)s) AS last_goal_at
      FROM growth_event e JOIN growth_visitor v ON v.id = e.visitor_id
     WHERE e.at >= %(start)s AND e.at < %(end)s
     GROUP BY e.visitor_id
),
entered AS (SELECT * FROM per_visitor WHERE entered_at IS NOT NULL),
visitor_accounts AS (
    SELECT e.visitor_id, e.user_id FROM growth_event e
     WHERE e.at >= %(start)s AND e.at < %(end)s AND e.user_id IS NOT NULL
    UNION
    SELECT v.id, v.user_id FROM growth_visitor v
      JOIN entered n ON n.visitor_id = v.id WHERE v.user_id IS NOT NULL
),
by_account AS (
    SELECT DISTINCT ON (va.visitor_id) va.visitor_id, a.variant_id
      FROM visitor_accounts va JOIN assigned_users a ON a.user_id = va.user_id
     ORDER BY va.visitor_id, a.created_at, a.id
),
placed AS (
    SELECT n.visitor_id, COALESCE(b.variant_id, h.id) AS variant_id,
           n.last_goal_at >= n.entered_at AS converted
      FROM entered n
      LEFT JOIN by_account b ON b.visitor_id = n.visitor_id
      LEFT JOIN variants h ON {bucket} >= h.lo AND {bucket} < h.hi
)
SELECT vr.key, vr.label, vr.is_control,
       COUNT(p.visitor_id) AS visitors,
       COUNT(*) FILTER (WHERE p.converted) AS conversions
  FROM variants vr LEFT JOIN placed p ON p.variant_id = vr.id
 GROUP BY vr.id, vr.key, vr.label, vr.is_control, vr.position
 ORDER BY vr.position, vr.id
"""


def bucket_sql(*, name_param: str, visitor_column: str, total_column: str) -> str:
    return BUCKET_SQL.format(name=name_param, visitor=visitor_column, total=total_column)


def report_window(
    experiment: Experiment, now: datetime.datetime | None = None
) -> tuple[datetime.datetime, datetime.datetime] | None:
    """[start, end) of the experiment's data: from its start to its stop (or now)."""
    now = now or timezone.now()
    if experiment.starts_at is None or experiment.status == Experiment.Status.DRAFT:
        return None
    end = min(experiment.ends_at, now) if experiment.ends_at else now
    return (experiment.starts_at, end) if end > experiment.starts_at else None


def experiment_counts(
    *, experiment: Experiment, now: datetime.datetime | None = None
) -> list[dict]:
    """Per variant (control first): counted visitors in the audience with an event in the
    window, and those of them who reached the goal step at or after their first such event.
    A visitor's variant is their account's Assignment, else the hash (hashing.BUCKET_SQL)."""
    from shop.order.pipeline import PAID_STATUSES

    window = report_window(experiment, now)
    start, end = window or (timezone.now(), timezone.now())  # an empty window: zeros
    seg_users: list[int] = []
    seg_names: list[str] = []
    if experiment.audience == Experiment.Audience.SEGMENT and window:
        from shop.reports.selectors import customer_segments

        on = timezone.localdate(experiment.starts_at)
        segments = customer_segments(on=on)
        seg_users, seg_names = list(segments.keys()), list(segments.values())
    sql = REPORT_SQL.format(
        audience=AUDIENCE_SQL[experiment.audience],
        bucket=bucket_sql(
            name_param="%(name)s", visitor_column="n.visitor_id", total_column="h.total"
        ),
    )
    params = {
        "exp": experiment.pk,
        "name": experiment.name,
        "start": start,
        "end": end,
        "goal": experiment.goal,
        "tz": timezone.get_current_timezone_name(),
        "paid": list(PAID_STATUSES),
        "seg_users": seg_users,
        "seg_names": seg_names,
        "segment": experiment.segment,
    }
    from shop.reports.selectors import fetch_rows  # the report cursor: JIT off, more work_mem

    return fetch_rows(sql, params)


def experiment_report(*, experiment: Experiment, now: datetime.datetime | None = None) -> dict:
    """The report page's figures: each variant's visitors, conversions and rate, the
    difference against control with its 95% interval, and the verdict."""
    rows = experiment_counts(experiment=experiment, now=now)
    control = next((row for row in rows if row["is_control"]), None)
    for row in rows:
        row["label"] = row["label"] or row["key"]
        row["rate"] = stats.rate(row["conversions"], row["visitors"])
        row["interval"] = (
            None
            if row["is_control"] or control is None
            else stats.difference_interval(
                control_visitors=control["visitors"],
                control_conversions=control["conversions"],
                visitors=row["visitors"],
                conversions=row["conversions"],
            )
        )
    return {
        "rows": rows,
        "window": report_window(experiment, now),
        "verdicts": stats.verdict(rows),
        "min_visitors": stats.MIN_VISITORS,
        "min_conversions": stats.MIN_CONVERSIONS,
    }
