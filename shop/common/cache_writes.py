"""Cache writes a request makes, sent to the cache together when the request ends.

Each write to Redis is a round trip: ~0.1-0.2 ms of a worker's CPU (most of it the kernel's
loopback) and some of Redis's. A page rendered from scratch wrote in up to six: the listing's
memos (typo corrections, counts, suggestion), its missing cards and thumbnails, the page itself,
then the freeing of its render lock. While a request is served (the page cache middleware opens
a batch around the view) such writes are collected and sent in one pipeline, in the order they
were made, when the response is ready (or the view failed).

Only writes that may land late go through here: values kept under a version in their key, which
every reader computes when it finds them missing (and this process keeps what it computed,
shop.common.kept), and the page cache's store and lock, which waiting requests poll for. A
write another request must see before this one goes on (a version bump, a basket's count) goes
to the cache at once. Outside a batch (tasks, commands, a selector called from a test) writes
go at once too. A cache that does not answer at the end is logged, never raised: the response
is ready and the values are only memos.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)

# ("set", {key: value}, timeout) or ("delete", key, None), in the order made.
_pending: ContextVar[list[tuple[str, Any, int | None]] | None] = ContextVar(
    "mv_cache_writes", default=None
)


def redis_client():
    """The default cache's Redis client when the cache is django-redis (production's), for
    pipelines and scripts; None for another backend (the tests' local memory)."""
    client = getattr(cache, "client", None)
    return client.get_client(write=True) if hasattr(client, "get_client") else None


def set_many(values: dict[str, Any], timeout: int | None) -> None:
    """cache.set_many, at the end of the request when a batch is open. Outside a batch the
    cache's own errors are raised, as cache.set_many raises them."""
    if not values:
        return
    pending = _pending.get()
    if pending is None:
        cache.set_many(values, timeout=timeout)
    else:
        pending.append(("set", dict(values), timeout))


def delete(key: str) -> None:
    """cache.delete, at the end of the request (after the writes made before it) when a batch
    is open."""
    pending = _pending.get()
    if pending is None:
        cache.delete(key)
    else:
        pending.append(("delete", key, None))


def pending_count() -> int:
    """Writes waiting in the open batch (0 outside one)."""
    pending = _pending.get()
    return len(pending) if pending else 0


@contextmanager
def batched() -> Iterator[None]:
    """Collect the writes made inside, and send them in one round trip on the way out (an
    exception inside included). A batch inside a batch sends its own at its end."""
    token = _pending.set([])
    try:
        yield
    finally:
        writes = _pending.get() or []
        _pending.reset(token)
        send(writes)


def send(writes: list[tuple[str, Any, int | None]]) -> None:
    """The writes, in order: one pipeline on django-redis (no MULTI: they need not be atomic),
    else one call each."""
    if not writes:
        return
    try:
        redis = redis_client()
        if redis is not None:  # django-redis' client encodes and names the keys
            pipeline = redis.pipeline(transaction=False)
            for kind, what, timeout in writes:
                if kind == "set":
                    for key, value in what.items():
                        cache.client.set(key, value, timeout, client=pipeline)
                else:
                    cache.client.delete(what, client=pipeline)
            pipeline.execute()
            return
        for kind, what, timeout in writes:
            if kind == "set":
                cache.set_many(what, timeout=timeout)
            else:
                cache.delete(what)
    except Exception:  # the cache backend's own errors (redis.ConnectionError...)
        logger.warning("cache writes: %d not sent, cache unavailable", len(writes), exc_info=True)
