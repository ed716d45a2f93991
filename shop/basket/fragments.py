"""Rendered HTML kept in memory, keyed on everything it shows (a content key).

A fragment's key is a digest of the plain data its template is rendered from (see
shop.basket.selectors.basket_page): when a price, a quantity, stock, an offer or anything else
it shows changes, the data changes, so does the key, and the old entry is simply never asked
for again. Nothing has to be invalidated and nothing can be stale.

The store is per process (a bounded LRU): no network on a hit, and a deploy (new code, new
templates) starts empty. The template object is part of the key, so a template reloaded in
development (runserver resets the loaders) is never served from an entry made with the old one.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable

from django.template import engines

FRAGMENTS_MAX_CHARS = 8_000_000  # of HTML per process (a basket's content is about 12,000)


class LRU:
    """Least recently used entries go first once the values hold more than `max_chars`."""

    def __init__(self, max_chars: int):
        self.max_chars = max_chars
        self.chars = 0
        self._data: OrderedDict[bytes, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes) -> str | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def set(self, key: bytes, value: str) -> None:
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.chars -= len(old)
            self._data[key] = value
            self.chars += len(value)
            while self.chars > self.max_chars and self._data:
                _, dropped = self._data.popitem(last=False)
                self.chars -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.chars = 0

    def __len__(self) -> int:
        return len(self._data)


store = LRU(FRAGMENTS_MAX_CHARS)


def _template_identity(template) -> str:
    """A token that changes when the template object does (reloaded, or another process)."""
    inner = getattr(template, "template", template)
    token = getattr(inner, "_mv_fragment_token", None)
    if token is None:
        token = uuid.uuid4().hex
        inner._mv_fragment_token = token
    return token


def content_key(templates, data) -> bytes:
    """The digest of `data` (frozen dataclasses, tuples, str, int, Decimal, bool, None: their
    repr is exact) for those templates (the fragment's, and any whose HTML it embeds)."""
    tokens = "/".join(_template_identity(template) for template in templates)
    text = f"{tokens}\x00{data!r}"
    return hashlib.blake2b(text.encode(), digest_size=20).digest()


def get_templates(*names: str) -> list:
    engine = engines["django"]
    return [engine.get_template(name) for name in names]


def render_fragment(templates: list, data, render: Callable[[], str]) -> str:
    """The HTML for `data` made with `templates`: from the store, else `render()`, kept."""
    key = content_key(templates, data)
    html = store.get(key)
    if html is None:
        html = render()
        store.set(key, html)
    return html
