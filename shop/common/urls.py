"""Addresses worked out once per process.

What `django.urls.reverse` answers depends only on the URL configuration and on what it is
asked: the name, its arguments, the current app, the script prefix and the language. Each
answer is kept under exactly those when the arguments are plain strings and integers
(anything else, e.g. a model instance, is reversed each time); a reverse costs ~60 µs, a
lookup ~2 µs. A change of settings (tests swapping ROOT_URLCONF) forgets them all. Bounded:
cleared when full."""

from __future__ import annotations

from django.core.signals import setting_changed
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.safestring import SafeString
from django.utils.translation import get_language

URLS_MAX = 4096
# Exactly these types (not bool, which equals 1 in a key but reverses as "True"): a literal
# in a template is a SafeString.
PLAIN = (str, SafeString, int)
_urls: dict[tuple, str] = {}


def reverse_once(
    view_name: str,
    args: tuple = (),
    kwargs: dict | None = None,
    current_app: str | None = None,
) -> str:
    """`reverse(...)`, kept; NoReverseMatch as reverse raises it."""
    kwargs = kwargs or {}
    plain = all(type(v) in PLAIN for v in (*args, *kwargs.values()))
    if not plain or not isinstance(view_name, str):
        return reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
    key = (
        view_name,
        tuple(args),
        tuple(sorted(kwargs.items())),
        current_app,
        get_script_prefix(),
        get_urlconf(),
        get_language(),
    )
    found = _urls.get(key)
    if found is None:
        found = reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
        if len(_urls) >= URLS_MAX:
            _urls.clear()
        _urls[key] = found
    return found


def clear_urls(**kwargs) -> None:
    _urls.clear()


setting_changed.connect(clear_urls)
