"""Who the visitor is, for analytics and experiments, and whether we may count them.

Nothing here identifies a visitor who has not accepted analytics (UK PECR / GDPR): the
consent cookie says what they chose ("analytics" or "declined"; absent: not asked yet), and
only with "analytics" do they carry a visitor id (a random token, no personal data). Bots
(known crawler agents, or no user agent at all) are never counted, whatever cookies they send.
"""

from __future__ import annotations

import re
import secrets
import time
from functools import lru_cache

from django.http import HttpRequest, HttpResponse

CONSENT_COOKIE = "mv_consent"
CONSENT_ACCEPTED = "analytics"
CONSENT_DECLINED = "declined"
CONSENT_VALUES = frozenset({CONSENT_ACCEPTED, CONSENT_DECLINED})
VISITOR_COOKIE = "mv_vid"
COOKIE_MAX_AGE = 365 * 24 * 3600  # a choice is remembered for a year
# A visit is the first request of a counted visitor after VISIT_GAP_SECONDS without one: this
# cookie (only ever set for visitors who accepted analytics) lives that long after each request.
VISIT_COOKIE = "mv_visit"
VISIT_GAP_SECONDS = 30 * 60
VISIT_RENEW_SECONDS = 60
_VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
# Crawlers, monitors, link previews and scripted clients, by their user agent.
_BOT_AGENT = re.compile(
    r"bot|crawl|spider|slurp|fetch|preview|monitor|lighthouse|headlesschrome"
    r"|curl|wget|python-requests|python-urllib|httpx|aiohttp|go-http-client|java/|okhttp"
    r"|libwww|scrapy|phantomjs|facebookexternalhit|embedly|whatsapp|wrk|locust|apachebench",
    re.I,
)


def is_bot(request: HttpRequest) -> bool:
    """A crawler or a scripted client: a known agent, or none at all."""
    return _agent_is_bot(request.META.get("HTTP_USER_AGENT", ""))


@lru_cache(maxsize=2048)
def _agent_is_bot(agent: str) -> bool:
    # Asked on every page; the same few agents come again and again, and the pattern costs
    # tens of microseconds a search (bounded: an agent seen once is soon forgotten).
    return not agent.strip() or bool(_BOT_AGENT.search(agent[:1024]))


def analytics_consent(request: HttpRequest) -> str | None:
    """What the visitor chose ("analytics", "declined"), or None when not asked yet (or the
    cookie holds anything else)."""
    value = request.COOKIES.get(CONSENT_COOKIE)
    return value if value in CONSENT_VALUES else None


def analytics_allowed(request: HttpRequest) -> bool:
    """The visitor accepted analytics and is not a bot."""
    return analytics_consent(request) == CONSENT_ACCEPTED and not is_bot(request)


def visitor_id_new() -> str:
    return secrets.token_urlsafe(16)  # 22 characters


def visitor_id(request: HttpRequest) -> str | None:
    """The visitor's id when they may be counted: accepted analytics, not a bot, and a well
    formed id cookie (anything else, forged or truncated, is ignored). A visitor who has just
    accepted carries the id set on this request's response (`visitor_id_ensure`)."""
    if not analytics_allowed(request):
        return None
    value = getattr(request, "_mv_visitor_id", None) or request.COOKIES.get(VISITOR_COOKIE, "")
    return value if _VISITOR_ID.match(value) else None


def visitor_id_ensure(request: HttpRequest) -> str | None:
    """The visitor's id, made now (and remembered on the request) for a visitor who accepted
    analytics but has no id yet; None when they may not be counted. The caller sets the cookie
    on its response with `visitor_cookie_set`."""
    if not analytics_allowed(request):
        return None
    current = visitor_id(request)
    if current is None:
        current = request._mv_visitor_id = visitor_id_new()
    return current


def _cookie_set(
    request: HttpRequest, response: HttpResponse, name: str, value: str, *, max_age: int
) -> None:
    """Our cookies are all first-party, Lax, HTTP-only, and Secure on HTTPS."""
    response.set_cookie(
        name, value, max_age=max_age, samesite="Lax", httponly=True, secure=request.is_secure()
    )


def visitor_cookie_set(request: HttpRequest, response: HttpResponse) -> None:
    """Put a visitor id made on this request on the response (no-op otherwise)."""
    made = getattr(request, "_mv_visitor_id", None)
    if made and request.COOKIES.get(VISITOR_COOKIE) != made:
        _cookie_set(request, response, VISITOR_COOKIE, made, max_age=COOKIE_MAX_AGE)


def consent_choose(request: HttpRequest, choice: str) -> None:
    """The visitor's choice applies to the rest of this request (its cookies are set on the
    response by `consent_cookies_set`): accepting makes a visitor id (for a browser, not a
    bot), declining forgets it."""
    if choice not in CONSENT_VALUES:
        raise ValueError(choice)
    request.COOKIES[CONSENT_COOKIE] = choice
    if choice == CONSENT_ACCEPTED:
        visitor_id_ensure(request)
    else:
        request._mv_visitor_id = None


def consent_cookies_set(request: HttpRequest, response: HttpResponse) -> None:
    """The consent cookie for a year; with "analytics", the visitor id; with "declined", the
    visitor id and visit cookies deleted."""
    choice = analytics_consent(request)
    if choice is None:
        return
    _cookie_set(request, response, CONSENT_COOKIE, choice, max_age=COOKIE_MAX_AGE)
    if choice == CONSENT_ACCEPTED:
        visitor_cookie_set(request, response)
    else:
        response.delete_cookie(VISITOR_COOKIE, samesite="Lax")
        response.delete_cookie(VISIT_COOKIE, samesite="Lax")


def visit_cookie_set(request: HttpRequest, response: HttpResponse) -> None:
    """A visit is under way: no new one begins for VISIT_GAP_SECONDS after this request. The
    cookie holds the minute it was last renewed and is renewed at most once a minute (a visit's
    gap is measured to the minute), so most pages carry no Set-Cookie for it."""
    minute = str(int(time.time()) // VISIT_RENEW_SECONDS)
    if request.COOKIES.get(VISIT_COOKIE) == minute:
        return
    _cookie_set(request, response, VISIT_COOKIE, minute, max_age=VISIT_GAP_SECONDS)
