"""Work gathered for the commit: one callback per transaction (and savepoint) instead of one
per change."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from django.db import transaction


class CommitBatch(Protocol):
    """A commit callback holding what it will act on (built from items, merging more)."""

    def __init__(self, items: Iterable[Any]) -> None: ...
    def merge(self, items: Iterable[Any]) -> None: ...
    def __call__(self) -> None: ...


def commit_batch_add(kind: Callable[[Iterable[Any]], CommitBatch], items: Iterable[Any]) -> None:
    """Hand `items` to the commit callback of type `kind`: the one already registered under
    exactly the current savepoints, or a new one. Exactly those savepoints, so a savepoint
    rolled back drops the batch holding its own items and nothing else. Outside a
    transaction the batch runs at once, as on_commit callbacks do."""
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        savepoints = set(connection.savepoint_ids)
        for sids, callback, _robust in connection.run_on_commit:
            if isinstance(callback, kind) and sids == savepoints:
                callback.merge(items)
                return
    transaction.on_commit(kind(items))
