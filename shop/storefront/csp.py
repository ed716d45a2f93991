"""Content-Security-Policy for every page (django-csp 4), with the Stripe API base of the
moment added: tests and the local demo point Stripe at a localstripe on a port chosen at
run time, whose fake Stripe.js, API and 3-D Secure page the payment step must reach."""

from __future__ import annotations

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings

STRIPE_DIRECTIVES = ("script-src", "connect-src", "frame-src", "img-src", "form-action")


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


class StoreCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        local = origin(settings.STRIPE_API_BASE or "")
        if local and not report_only:
            update = dict(parts.update or {})
            for directive in STRIPE_DIRECTIVES:
                update[directive] = [*update.get(directive, []), local]
            parts.update = update
        return parts
