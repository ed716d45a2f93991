"""The funnel's server-side counting, and the consent banner on the way out.

GrowthMiddleware sits just outside (before) the page cache in MIDDLEWARE, so it sees every
response, pages served from the cache included: a cached product page is still a product
view, because the count is taken here, from the request and the response, after the cache
answered (the cached HTML itself holds nothing per visitor).

For each response it
1. handles the consent banner region (`<!--mv:consent-->`...`<!--/mv:consent-->`, in every
   storefront page, cached or not): removed for visitors who have chosen; for the others,
   the referring host of this request is put in the banner form (see `banner_apply`);
2. maps the resolved view and the response to a funnel step (`funnel_step`) and records it
   for visitors who accepted analytics (not bots, not staff), plus a visit on their first
   page after VISIT_GAP_SECONDS; bots' page requests are only counted per day.
Recording appends to the process's buffer (shop.growth.buffer): no I/O on the request path.
Nothing here may break a page: any error is logged and the response goes out as it is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import cache
from html import escape

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from shop.growth import visitor
from shop.growth.buffer import events_enabled
from shop.growth.events import bot_request_count, event_record, visit_record
from shop.growth.landing import landing_from_request, referrer_host
from shop.growth.models import Step

logger = logging.getLogger(__name__)

BANNER_START = b"<!--mv:consent-->"
BANNER_END = b"<!--/mv:consent-->"
# In the banner form, filled per response with the referrer host of the request (a page from
# the cache holds the placeholder).
REFERRER_PLACEHOLDER = b"__MV_LANDING_REF__"
BANNER_MAX = 8192  # the banner's own length, at most: the placeholder is looked for in it
# Never counted: staff screens, the admin, files, the payment provider's webhooks.
EXCLUDED_PREFIXES = ("/dashboard/", "/admin/", "/media/", "/static/", "/payments/", "/i18n/")


@cache
def _basket_url() -> str:
    return reverse("basket:summary")


def funnel_step(request: HttpRequest, response: HttpResponse) -> tuple[str, str] | None:
    """(step, order number) for a response that is a funnel step, else None.

    product view: a product page shown (200, or 304 when the browser still had it);
    add to basket: the add form posted and answered with a redirect (accepted);
    checkout started: the checkout's first page (shown, or passed on to the next step; not
    sent back to the basket); payment page: the card form shown; order paid: the thank-you
    page (Oscar shows it only for the order just placed, with its number)."""
    match = request.resolver_match
    if match is None:
        return None
    name, method, status = match.view_name, request.method, response.status_code
    if name == "catalogue:detail":
        return (Step.PRODUCT_VIEW, "") if method == "GET" and status in (200, 304) else None
    if name == "basket:add":
        return (Step.ADD_TO_BASKET, "") if method == "POST" and status in (302, 303) else None
    if name == "checkout:index":
        if status == 200 and method == "GET":
            return Step.CHECKOUT_STARTED, ""
        if status in (302, 303) and not response.get("Location", "").startswith(_basket_url()):
            return Step.CHECKOUT_STARTED, ""
        return None
    if name == "checkout:payment-details":
        return (Step.PAYMENT_PAGE, "") if method == "GET" and status == 200 else None
    if name == "checkout:thank-you" and method == "GET" and status == 200:
        order = (getattr(response, "context_data", None) or {}).get("order")
        return Step.ORDER_PAID, str(getattr(order, "number", "") or "")
    return None


def _is_page(request: HttpRequest, response: HttpResponse) -> bool:
    """A page the visitor looked at (what keeps a visit going)."""
    if request.method != "GET" or response.status_code not in (200, 304):
        return False
    return response.status_code == 304 or response.get("Content-Type", "").startswith("text/html")


def _own_host(request: HttpRequest) -> str:
    try:
        return request.get_host()
    except Exception:  # DisallowedHost: the 400 page still goes out
        return ""


def banner_apply(request: HttpRequest, response: HttpResponse) -> None:
    """The consent banner region: cut out for a visitor who has chosen; for one who has not,
    the form is given this request's referring host (only the host, escaped), so that if they
    accept on the page they landed on, their visit keeps where it came from. Nothing is
    stored on their device before they choose: the host travels in the page's own form and
    comes back only if they press "Accept analytics"."""
    if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
        return
    content = response.content
    start = content.find(BANNER_START)
    if start < 0:
        return
    if visitor.analytics_consent(request) is not None:
        end = content.find(BANNER_END, start, start + BANNER_MAX)
        if end < 0:
            return
        content = content[:start] + content[end + len(BANNER_END) :]
    else:
        at = content.find(REFERRER_PLACEHOLDER, start, start + BANNER_MAX)
        if at < 0:
            return
        host = referrer_host(request.META.get("HTTP_REFERER"), own_host=_own_host(request))
        content = content[:at] + escape(host).encode() + content[at + len(REFERRER_PLACEHOLDER) :]
    response.content = content
    if response.has_header("Content-Length"):
        response["Content-Length"] = str(len(content))


def funnel_count(request: HttpRequest, response: HttpResponse) -> None:
    """Record this response's funnel step (and a visit starting) for a counted visitor."""
    if request.path_info.startswith(EXCLUDED_PREFIXES):
        return
    step = funnel_step(request, response)
    if step is None and not _is_page(request, response):
        return
    if visitor.is_bot(request):
        bot_request_count()
        return
    if visitor.analytics_consent(request) != visitor.CONSENT_ACCEPTED:
        return
    user = getattr(request, "user", None)
    if user is not None and user.is_staff:
        return  # staff looking at the shop are not customers
    visitor_id = visitor.visitor_id_ensure(request)
    if visitor_id is None:
        return
    visitor.visitor_cookie_set(request, response)  # an id lost since accepting is made again
    user_id = user.pk if user is not None and user.is_authenticated else None
    now = time.time()
    if visitor.VISIT_COOKIE not in request.COOKIES:
        landing = landing_from_request(request)
        visit_record(visitor_id=visitor_id, landing=landing, user_id=user_id, at=now)
    if step is not None:
        event_record(
            visitor_id=visitor_id,
            step=step[0].value,
            user_id=user_id,
            path=request.path,
            order_number=step[1],
            at=now,
        )
    visitor.visit_cookie_set(request, response)


class GrowthMiddleware:
    """Consent banner and funnel counting; place it just before PageCacheMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        try:
            banner_apply(request, response)
        except Exception:
            logger.warning("growth: consent banner not applied", exc_info=True)
        if events_enabled():
            try:
                funnel_count(request, response)
            except Exception:
                logger.warning("growth: funnel event not recorded", exc_info=True)
        return response
