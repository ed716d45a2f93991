"""The Stripe webhook is the only view that takes a POST without a CSRF token."""

from django.urls import URLPattern, URLResolver, get_resolver


def _callbacks(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _callbacks(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def test_only_the_webhook_is_csrf_exempt():
    exempt = sorted(
        route
        for route, callback in _callbacks(get_resolver().url_patterns)
        if getattr(callback, "csrf_exempt", False)
    )
    assert exempt == ["payments/stripe/webhook/"]
