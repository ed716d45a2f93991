"""Funnel events on their way to the database, kept off the request path.

A request that reaches a funnel step only appends a small dict to this process's buffer (a
deque: no lock, no I/O). A background thread of the process pushes the buffer to one Redis
list in a single round trip (RPUSH of the whole batch, plus LTRIM and EXPIRE in the same
pipeline) every FLUSH_SECONDS, or sooner once FLUSH_EVENTS are waiting. The Celery beat task
`shop.growth.tasks.drain_events` empties the list into PostgreSQL in chunks
(shop.growth.services.events_drain). Bot requests are only counted per day here and pushed as
one item per day and batch.

What can be lost, and why that is acceptable: the events a process holds when it dies
without a clean exit (at most about FLUSH_SECONDS' worth, or FLUSH_EVENTS; a clean exit
flushes them, see `atexit`), everything pushed while Redis is down (dropped with a log line,
never an error on the page), a chunk the drain had popped when its worker died, and the
oldest events beyond LIST_MAX if no drain runs for a long time. These are analytics: a
funnel that misses a fraction of a percent of its events still shows the same conversion.
Orders are never counted from here: the report reads paid orders from the order table,
which is written in the order's own transaction.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
from collections import deque
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)

FLUSH_EVENTS = 50  # wake the flusher once this many are waiting
FLUSH_SECONDS = 1.0  # and flush at least this often
LIST_MAX = 2_000_000  # the newest kept if nothing drains the list (bounded Redis memory)
LIST_TTL = 7 * 24 * 3600  # a list nothing drains for a week goes
REDIS_RETRY_AFTER = 5.0  # after a failed push, batches are dropped without trying for this long
DEFAULT_KEY = "mv:growth:events"


def events_enabled() -> bool:
    return getattr(settings, "GROWTH_EVENTS", True)


def events_key() -> str:
    return getattr(settings, "GROWTH_EVENTS_KEY", DEFAULT_KEY)


@lru_cache(maxsize=4)
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=2.0)


def events_redis() -> redis.Redis:
    """The Redis holding the events list (GROWTH_EVENTS_REDIS_URL, by default REDIS_URL)."""
    url = getattr(settings, "GROWTH_EVENTS_REDIS_URL", "") or settings.REDIS_URL
    return _client_for(url)


class EventBuffer:
    """One per process (`BUFFER`). `add` and `bot` are called from request threads; the flush
    runs on the process's flusher thread (or directly, `flush`)."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._items: deque[dict[str, Any]] = deque()
        self._bots: dict[str, int] = {}
        self._bots_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._down_until = 0.0
        self.dropped = 0  # events given up (Redis down), for the logs and tests

    # --- request side: no I/O ---

    def add(self, item: dict[str, Any]) -> None:
        if self._thread is None:
            self._start()
        self._items.append(item)
        if len(self._items) >= FLUSH_EVENTS:
            self._wake.set()

    def bot(self) -> None:
        if self._thread is None:
            self._start()
        day = timezone.localdate().isoformat()
        with self._bots_lock:
            self._bots[day] = self._bots.get(day, 0) + 1

    def pending(self) -> int:
        return len(self._items) + len(self._bots)

    # --- flushing ---

    def _start(self) -> None:
        with self._flush_lock:
            if self._thread is None:
                thread = threading.Thread(target=self._run, name="growth-events", daemon=True)
                thread.start()
                self._thread = thread

    def _run(self) -> None:
        while True:
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the thread must outlive any one failure
                logger.exception("growth: events flush failed")

    def _take(self) -> list[dict[str, Any]]:
        items = []
        while True:
            try:
                items.append(self._items.popleft())
            except IndexError:
                break
        with self._bots_lock:
            bots, self._bots = self._bots, {}
        items += [{"k": "b", "d": day, "n": n} for day, n in bots.items()]
        return items

    def flush(self) -> int:
        """Push what is waiting to Redis in one round trip; the number of items pushed. Never
        raises for Redis: a batch that cannot be pushed is dropped with a log line."""
        with self._flush_lock:
            items = self._take()
            if not items:
                return 0
            if time.monotonic() < self._down_until:
                self.dropped += len(items)
                return 0
            try:
                key = events_key()
                pipe = events_redis().pipeline(transaction=False)
                pipe.rpush(key, *(json.dumps(item, separators=(",", ":")) for item in items))
                pipe.ltrim(key, -LIST_MAX, -1)
                pipe.expire(key, LIST_TTL)
                pipe.execute()
            except (redis.RedisError, OSError):
                self._down_until = time.monotonic() + REDIS_RETRY_AFTER
                self.dropped += len(items)
                logger.warning(
                    "growth: Redis unavailable, %d funnel events dropped (analytics only; "
                    "orders are counted from the order table)",
                    len(items),
                )
                return 0
            return len(items)

    def clear(self) -> None:
        """Forget what is waiting (tests)."""
        with self._flush_lock:
            self._take()
            self._down_until = 0.0
            self.dropped = 0


BUFFER = EventBuffer()

# A forked child (gunicorn's workers, Celery's prefork) starts with an empty buffer and no
# thread: the parent's thread does not exist there, and its items are the parent's to push.
os.register_at_fork(after_in_child=BUFFER._reset)
# A clean exit (a gunicorn worker restarted, a deploy) pushes what is left.
atexit.register(BUFFER.flush)


def events_flush() -> int:
    """Push this process's waiting events now (tests, the bench, shutdown)."""
    return BUFFER.flush()
