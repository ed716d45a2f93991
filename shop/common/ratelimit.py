"""A small fixed-window rate limit on the cache (Redis in production), for forms that send
email or create work: password reset, take-back registration.

Who is counted is decided here, once (`limit_keys`): a signed-in customer by their account
only (customers behind one shared address, an office or a mobile carrier, must not use up
each other's allowance), an anonymous request by its IP address (`client_ip`, the same rule
as the login lockout's, proxies included) plus any keys the form adds
(e.g. the email address a reset is asked for)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.cache import cache
from django.shortcuts import render

from shop.common.clientip import client_ip


def limit_keys(request: Any, *, anonymous: Callable[[Any], list[str]] | None = None) -> list[str]:
    """The keys one request is counted under: the account when signed in, otherwise the IP
    address and `anonymous(request)`."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return [f"user:{user.pk}"]
    return [f"ip:{client_ip(request) or 'unknown'}", *(anonymous(request) if anonymous else [])]


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
    *,
    scope: str,
    limit: int,
    window: int,
    anonymous_keys: Callable[[Any], list[str]] | None = None,
) -> Callable:
    """Decorate a view: POSTs over the limit (counted under `limit_keys`) get a 429 page and
    do nothing. `anonymous_keys` adds keys for requests not signed in."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method == "POST" and limit_hit(
                scope=scope,
                keys=limit_keys(request, anonymous=anonymous_keys),
                limit=limit,
                window=window,
            ):
                return render(request, "shop/rate_limited.html", status=429)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
