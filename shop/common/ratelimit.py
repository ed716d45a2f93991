"""A small fixed-window rate limit on the cache (Redis in production), for forms that send
email or create work: password reset, take-back registration."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.cache import cache
from django.shortcuts import render


def client_ip(request: Any) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def limit_hit(*, scope: str, keys: list[str], limit: int, window: int) -> bool:
    """Count one attempt under each key; True when any key is over `limit` in the current
    `window` seconds."""
    over = False
    for key in keys:
        digest = hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:32]
        name = f"ratelimit:{scope}:{digest}"
        cache.add(name, 0, timeout=window)
        try:
            count = cache.incr(name)
        except ValueError:  # expired between add and incr
            cache.add(name, 1, timeout=window)
            count = 1
        over = over or count > limit
    return over


def rate_limit_post(
    *, scope: str, limit: int, window: int, keys: Callable[[Any], list[str]]
) -> Callable:
    """Decorate a view: POSTs over the limit get a 429 page and do nothing."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method == "POST" and limit_hit(
                scope=scope, keys=keys(request), limit=limit, window=window
            ):
                return render(request, "shop/rate_limited.html", status=429)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
