"""A visitor's variant: a deterministic weighted hash of (experiment name, visitor id).

The bucket is the first 60 bits of md5("<name>:<visitor id>") modulo the experiment's total
weight; the variants own consecutive ranges of buckets in their order (control first). The
report computes the same in SQL (BUCKET_SQL), so a visitor's variant needs no stored row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

# The same as bucket() below, in PostgreSQL: 15 hex digits = 60 bits, a positive bigint.
BUCKET_SQL = (
    "mod(('x' || substr(md5({name} || ':' || {visitor}), 1, 15))::bit(60)::bigint, {total})"
)


def bucket(name: str, visitor_id: str, total: int) -> int:
    digest = hashlib.md5(f"{name}:{visitor_id}".encode(), usedforsecurity=False).hexdigest()
    return int(digest[:15], 16) % total


def pick(name: str, visitor_id: str, variants: Sequence[tuple[str, int]]) -> str:
    """The key of the visitor's variant among (key, weight) pairs in their order."""
    total = sum(weight for _, weight in variants)
    point = bucket(name, visitor_id, total)
    upto = 0
    for key, weight in variants:
        upto += weight
        if point < upto:
            return key
    raise AssertionError("bucket beyond the total weight")  # pragma: no cover
