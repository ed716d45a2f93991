"""Only two views take a POST without a CSRF token: the Stripe webhook (signed by Stripe) and
the one-click unsubscribe of marketing emails (RFC 8058: the mail client POSTs to the link of
the List-Unsubscribe header; the link carries a signed token naming its recipient)."""

from django.urls import URLPattern, URLResolver, get_resolver


def _callbacks(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _callbacks(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def test_only_the_webhook_and_one_click_unsubscribe_are_csrf_exempt():
    exempt = sorted(
        route
        for route, callback in _callbacks(get_resolver().url_patterns)
        if getattr(callback, "csrf_exempt", False)
    )
    assert exempt == ["email/unsubscribe/<str:token>/", "payments/stripe/webhook/"]
