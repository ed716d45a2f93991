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

FRAGMENTS_MAX = 2000  # entries per process: a few MB of HTML at most


class LRU:
    def __init__(self, size: int):
        self.size = size
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
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


store = LRU(FRAGMENTS_MAX)


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
