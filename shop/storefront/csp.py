"""Content-Security-Policy and Permissions-Policy for every page (django-csp 4).

Storefront pages get the strict policy of settings.CONTENT_SECURITY_POLICY, always with a fresh
nonce in script-src (inline scripts must carry it: `nonce="{{ request.csp_nonce }}"`). Paths
under settings.CSP_DASHBOARD_PATH_PREFIXES (Oscar's dashboard) get CSP_DASHBOARD_DIRECTIVES
instead, without the nonce: see the settings comment for why it allows inline scripts.
The Stripe API base of the moment is added: tests and the local demo point Stripe at a
localstripe on a port chosen at run time, whose fake Stripe.js, API and 3-D Secure page the
payment step must reach."""

from __future__ import annotations

from dataclasses import asdict
from types import SimpleNamespace
from urllib.parse import urlsplit

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject, CSPMiddleware, PolicyParts
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

STRIPE_DIRECTIVES = ("script-src", "connect-src", "frame-src", "img-src", "form-action")
PERMISSIONS_POLICY_HEADER = "Permissions-Policy"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def is_dashboard(request) -> bool:
    prefixes = tuple(getattr(settings, "CSP_DASHBOARD_PATH_PREFIXES", ()))
    return bool(prefixes) and request.path_info.startswith(prefixes)


# A response's own policy (django-csp's decorators) or a report-only policy go django-csp's
# way; every other response's policy is one of a few strings, built once per process.
_OWN_POLICY = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt",
    "_csp_exempt_ro",
)
_NONCE_MARK = "__MV_POLICY_NONCE__"
_built: dict[tuple, str] = {}


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    _built.clear()  # a test's override_settings: the policies are built again


class StoreCSPMiddleware(CSPMiddleware):
    def process_response(self, request, response):
        if not self._set_kept_policy(request, response):
            response = super().process_response(request, response)
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy and PERMISSIONS_POLICY_HEADER not in response:
            response[PERMISSIONS_POLICY_HEADER] = policy
        return response

    def _set_kept_policy(self, request, response) -> bool:
        """The header as django-csp builds it, from a copy built once per (dashboard or not,
        Stripe's origin) with this request's nonce put in: building it cost more than the
        rest of a cached page's middleware. False where django-csp must decide."""
        if any(hasattr(response, name) for name in _OWN_POLICY) or HEADER in response:
            return False
        if getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None):
            return False
        excluded = (getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}).get(
            "EXCLUDE_URL_PREFIXES"
        )
        if excluded and request.path_info.startswith(tuple(excluded)):
            return False
        key = (is_dashboard(request), settings.STRIPE_API_BASE or "")
        policy = _built.get(key)
        if policy is None:
            marked = SimpleNamespace(
                path_info=request.path_info, _csp_nonce=_NONCE_MARK, csp_nonce=_NONCE_MARK
            )
            policy = _built[key] = build_policy(**asdict(self.get_policy_parts(marked, response)))
        if _NONCE_MARK in policy:
            policy = policy.replace(_NONCE_MARK, str(request.csp_nonce))
        response[HEADER] = policy
        if getattr(request, "_csp_nonce", None) is None:  # as django-csp: too late for one now
            request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return True

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
