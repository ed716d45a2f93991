"""Content-Security-Policy and Permissions-Policy for every page (django-csp 4).

Storefront pages get the strict policy of settings.CONTENT_SECURITY_POLICY, always with a fresh
nonce in script-src (inline scripts must carry it: `nonce="{{ request.csp_nonce }}"`). Paths
under settings.CSP_DASHBOARD_PATH_PREFIXES (Oscar's dashboard) get CSP_DASHBOARD_DIRECTIVES
instead, without the nonce: see the settings comment for why it allows inline scripts.
The Stripe API base of the moment is added: tests and the local demo point Stripe at a
localstripe on a port chosen at run time, whose fake Stripe.js, API and 3-D Secure page the
payment step must reach."""

from __future__ import annotations

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings

STRIPE_DIRECTIVES = ("script-src", "connect-src", "frame-src", "img-src", "form-action")
PERMISSIONS_POLICY_HEADER = "Permissions-Policy"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def is_dashboard(request) -> bool:
    prefixes = tuple(getattr(settings, "CSP_DASHBOARD_PATH_PREFIXES", ()))
    return bool(prefixes) and request.path_info.startswith(prefixes)


class StoreCSPMiddleware(CSPMiddleware):
    def process_response(self, request, response):
        response = super().process_response(request, response)
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy and PERMISSIONS_POLICY_HEADER not in response:
            response[PERMISSIONS_POLICY_HEADER] = policy
        return response

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if report_only:
            return parts
        if is_dashboard(request):
            parts.replace = {**settings.CSP_DASHBOARD_DIRECTIVES, **(parts.replace or {})}
            parts.nonce = None
        elif parts.nonce is None:
            # A nonce on every storefront page, used or not: the policy is the same on every
            # page (no fallback to a nonce-less script-src), and a whole-page cached page can
            # be given this response's nonce (shop.storefront.page_cache).
            parts.nonce = str(request.csp_nonce)
        local = origin(settings.STRIPE_API_BASE or "")
        if local:
            update = dict(parts.update or {})
            for directive in STRIPE_DIRECTIVES:
                update[directive] = [*update.get(directive, []), local]
            parts.update = update
        return parts
