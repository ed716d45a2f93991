"""Where a visitor came from, read from the request they landed with: UTM parameters, the
referring site's host (only the host: never its path or query), the landing path and the kind
of device. Pure functions over strings; nothing here stores anything.

Every value is cleaned before it goes anywhere: control and format characters (NUL, line
breaks, right-to-left marks and other bidirectional controls) removed, then clipped to the
column's length. What is left is plain text, and pages escape it like any other text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache
from urllib.parse import parse_qs, urlsplit

UTM_MAX = 64
REFERRER_MAX = 128
PATH_MAX = 200
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign")
# Control (Cc), format (Cf: bidi marks, zero-width joiners...), surrogate and private-use
# characters, and the line and paragraph separators.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^(?=.{{1,128}}$){_LABEL}(?:\.{_LABEL})*$")
_TABLET = re.compile(r"ipad|tablet|kindle|silk/|playbook|(android(?!.*mobile))", re.I)
_MOBILE = re.compile(r"mobi|iphone|ipod|android|blackberry|opera mini|iemobile|windows phone", re.I)


def clean_value(value: object, limit: int) -> str:
    """Text with control and format characters removed, whitespace collapsed, clipped to
    `limit` characters ("" for anything that is not text)."""
    if not isinstance(value, str):
        return ""
    # Only a bounded prefix is looked at: a 5,000-character value costs no more than a short one.
    head = value[: limit * 4]
    kept = "".join(ch for ch in head if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    return " ".join(kept.split())[:limit]


def referrer_host(referer: object, *, own_host: str) -> str:
    """The referring site's host name, lower case, when it is a well-formed host name other
    than ours; "" otherwise (no referrer, our own pages, an IP literal with a port is kept as
    its host, anything malformed)."""
    if not isinstance(referer, str) or not referer or len(referer) > 4096:
        return ""
    try:
        parts = urlsplit(referer.strip())
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not _HOST.match(host):
        return ""
    own = own_host.lower().split(":", 1)[0]
    if host in (own, f"www.{own}") or own == f"www.{host}":
        return ""
    return host


def device_class(user_agent: object) -> str:
    """mobile, tablet or desktop, from the user agent."""
    return _device_class(user_agent[:512] if isinstance(user_agent, str) else "")


@lru_cache(maxsize=1024)
def _device_class(agent: str) -> str:
    if _TABLET.search(agent):
        return "tablet"
    if _MOBILE.search(agent):
        return "mobile"
    return "desktop"


@dataclass(frozen=True)
class Landing:
    """What a visitor arrived with, as stored on their Visitor row (first visit wins)."""

    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    referrer_host: str = ""
    landing_path: str = ""
    device: str = "desktop"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def landing_from(
    *, query: dict[str, list[str]] | None, path: str, referer: object, own_host: str, agent: object
) -> Landing:
    """The landing from a request's parts: its query parameters (as parse_qs gives them), path,
    Referer header, host and user agent."""
    query = query or {}
    utm = {name: clean_value((query.get(name) or [""])[0], UTM_MAX) for name in UTM_FIELDS}
    return Landing(
        **utm,
        referrer_host=referrer_host(referer, own_host=own_host),
        landing_path=clean_value(path, PATH_MAX) or "/",
        device=device_class(agent),
    )


def landing_from_request(request) -> Landing:
    """The landing of the request being served."""
    return landing_from(
        query={name: request.GET.getlist(name) for name in UTM_FIELDS if name in request.GET},
        path=request.path,
        referer=request.META.get("HTTP_REFERER"),
        own_host=request.get_host(),
        agent=request.META.get("HTTP_USER_AGENT"),
    )


def landing_from_next(request, *, next_url: str, referrer: object) -> Landing:
    """The landing of a visitor who accepts analytics on the page they landed on: that page's
    address (the consent form's `next`, already checked to be one of our paths) and the
    referrer host the page was given when it was served (the form's `ref`)."""
    parts = urlsplit(next_url)
    host = clean_value(referrer, REFERRER_MAX).lower()
    try:
        query = parse_qs(parts.query[:8192], max_num_fields=50)
    except ValueError:  # more fields than any real link has
        query = {}
    return landing_from(
        query=query,
        path=parts.path,
        referer=f"https://{host}/" if host else "",
        own_host=request.get_host(),
        agent=request.META.get("HTTP_USER_AGENT"),
    )
