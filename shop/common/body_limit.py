"""Refuse an oversize request body from its Content-Length, before anything reads it.

Django would otherwise read a 60 MB upload in full (to memory up to
FILE_UPLOAD_MAX_MEMORY_SIZE, then to a temporary file) before a form said no. The cap is
per path: the first pattern of settings.REQUEST_BODY_LIMITS that matches the path, else
settings.REQUEST_BODY_MAX_BYTES. Over it: 413 with a short page, and the view never runs.

A body without a Content-Length (chunked) is not read by Django at all under WSGI (it reads
Content-Length bytes, 0 when the header is missing or unreadable), so the header is the
whole story here; the proxy in front caps what it passes on (README, "In front of it")."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string


@cache
def _limits(table: tuple[tuple[str, int], ...]) -> tuple[tuple[re.Pattern[str], int], ...]:
    return tuple((re.compile(pattern), limit) for pattern, limit in table)


def body_limit_for(path: str) -> int:
    """The largest request body, in bytes, accepted on `path`."""
    for pattern, limit in _limits(tuple(tuple(row) for row in settings.REQUEST_BODY_LIMITS)):
        if pattern.match(path):
            return limit
    return settings.REQUEST_BODY_MAX_BYTES


def _content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except (TypeError, ValueError):
        return 0  # as Django: an unreadable length reads no body


class RequestBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = body_limit_for(request.path_info)
        if _content_length(request) > limit:
            page = render_to_string("shop/request_too_large.html", {"max_mb": limit / 2**20})
            response = HttpResponse(page, status=413)
            response["Connection"] = "close"  # the unread body is not worth draining
            return response
        return self.get_response(request)
