"""Refuse a request whose path or query string carries a NUL byte: 400, before any view.

No page of ours has a use for one, and PostgreSQL refuses NUL in text, so a `%00` in a URL
reached the database as a DataError (a 500) wherever a path segment or parameter became a
lookup (`/dashboard/fulfilment/orders/1%00/ship/`, any `<str:…>` pattern). Form bodies are
not concerned: Django's CharField already refuses NUL with a form error."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse

from shop.common.parsing import has_nul


def has_nul_in_url(request: HttpRequest) -> bool:
    return has_nul(request.path) or any(
        has_nul(key) or any(has_nul(value) for value in values)
        for key, values in request.GET.lists()
    )


class NulInUrlMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if has_nul_in_url(request):
            raise BadRequest("A NUL byte in the address")  # handler400: the shop's 400 page
        return self.get_response(request)
