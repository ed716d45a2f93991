"""The client's address, one rule for the whole shop (django-axes' lockouts through
AXES_CLIENT_IP_CALLABLE, and the rate limits of shop.common.ratelimit).

Behind TRUSTED_PROXY_COUNT proxies (settings, from the environment; 0 = no proxy, the
local default), each proxy appends the address it saw to X-Forwarded-For, so the client is
the entry TRUSTED_PROXY_COUNT places from the right. Anything further left was written by
the client and is not trusted. With no proxy, or a header shorter than the count (a request
that did not come through all the proxies), REMOTE_ADDR is the client."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings


def _valid(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return ""


def client_ip(request: Any) -> str:
    """The client's IP address as a normalised string, or "" when none can be told."""
    meta = getattr(request, "META", {}) or {}
    remote = _valid(str(meta.get("REMOTE_ADDR", "") or ""))
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < count:
        return remote
    return _valid(forwarded[-count]) or remote
