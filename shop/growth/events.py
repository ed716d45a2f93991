"""Recording funnel events: what the middleware, the consent view and the sign-in receivers
call. Each call appends one item to this process's buffer (shop.growth.buffer) and returns at
once; the items reach PostgreSQL through Redis and the drain task.

Items are small JSON objects: "k" is the kind ("e" an event, "l" a visitor seen signed in,
"b" a day's bot count), "v" the visitor id, "s" the step, "t" the moment (Unix seconds),
"u" the user id, "p" the path, "o" the order number and, on a visit, "l" the landing.
The drain checks every field again: nothing in the list is trusted.
"""

from __future__ import annotations

import time

from shop.growth.buffer import BUFFER, events_enabled
from shop.growth.landing import PATH_MAX, Landing
from shop.growth.models import Step

ORDER_NUMBER_MAX = 128


def event_record(
    *,
    visitor_id: str,
    step: str,
    user_id: int | None = None,
    path: str = "",
    order_number: str = "",
    at: float | None = None,
) -> None:
    """One funnel step reached by a visitor who accepted analytics."""
    if not events_enabled():
        return
    item = {"k": "e", "v": visitor_id, "s": step, "t": at or time.time()}
    if user_id:
        item["u"] = user_id
    if path:
        item["p"] = path[:PATH_MAX]
    if order_number:
        item["o"] = str(order_number)[:ORDER_NUMBER_MAX]
    BUFFER.add(item)


def visit_record(
    *,
    visitor_id: str,
    landing: Landing,
    user_id: int | None = None,
    at: float | None = None,
) -> None:
    """A visit begins (the first request after VISIT_GAP without one), with what the visitor
    arrived with; the visitor's row keeps the landing of their first visit."""
    if not events_enabled():
        return
    item = {
        "k": "e",
        "v": visitor_id,
        "s": Step.VISIT.value,
        "t": at or time.time(),
        "p": landing.landing_path,
        "l": landing.as_dict(),
    }
    if user_id:
        item["u"] = user_id
    BUFFER.add(item)


def visitor_seen_signed_in(*, visitor_id: str, user_id: int, at: float | None = None) -> None:
    """The visitor signed in or registered as this customer (their row's user)."""
    if not events_enabled():
        return
    BUFFER.add({"k": "l", "v": visitor_id, "u": user_id, "t": at or time.time()})


def bot_request_count() -> None:
    """One request from a bot: counted per day only, never an event."""
    if not events_enabled():
        return
    BUFFER.bot()


def visitor_forget(*, visitor_id: str) -> None:
    """The visitor declined analytics after accepting: their row and events are deleted when
    the drain reaches this item (after the events their browser sent before it)."""
    BUFFER.add({"k": "f", "v": visitor_id, "t": time.time()})
