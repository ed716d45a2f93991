"""Values a process keeps once read from the cache.

Kept: values cached under a version that is part of their key (the catalogue or listing
version): an entry is never stale, only unused once the version moves, so the process may
keep it without asking the cache again. Cleared when full.

Recent: a version itself, as read from the cache, kept for a moment, for what may follow
another process's change that much later."""

from __future__ import annotations

import time
from typing import Any


class Kept:
    def __init__(self, entries: int):
        self.entries = entries
        self._values: dict[str, Any] = {}

    def get_many(self, keys) -> dict[str, Any]:
        return {key: self._values[key] for key in keys if key in self._values}

    def update(self, values: dict[str, Any]) -> None:
        if len(self._values) + len(values) > self.entries:
            self._values.clear()
        self._values.update(values)

    def clear(self) -> None:
        self._values.clear()

    def read(self, keys: list[str], cache) -> dict[str, Any]:
        """The values of ``keys`` kept here, then those ``cache`` has (kept from now on); a
        key found in neither is left out. The cache's own errors are raised."""
        found = self.get_many(keys)
        if len(found) < len(keys):
            fresh = cache.get_many([key for key in keys if key not in found])
            self.update(fresh)
            found.update(fresh)
        return found


class Recent:
    """A value this process read, trusted for ``seconds`` after the read (``clock``: a
    monotonic clock, replaceable in tests)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.clock = time.monotonic
        self._read: tuple[float, str] | None = None

    def get(self) -> str | None:
        """The value read less than ``seconds`` ago, else None."""
        read = self._read
        if read is not None and self.clock() - read[0] < self.seconds:
            return read[1]
        return None

    def seen(self, value: str) -> None:
        """The value has just been read (or set by this process)."""
        self._read = (self.clock(), value)

    def forget(self) -> None:
        self._read = None
