"""The shop's own growth pages: the analytics choice (the banner's two buttons post here) and
the "Cookie settings" page to change it. Plain forms, no JavaScript."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from shop.common.parsing import parse_next_url
from shop.growth import events, visitor
from shop.growth.landing import landing_from_next

NEXT_MAX = 2000


def _next(request: HttpRequest) -> str:
    value = request.POST.get("next", "")
    safe = parse_next_url(
        value[:NEXT_MAX] if isinstance(value, str) else None,
        host=request.get_host(),
        secure=request.is_secure(),
    )
    return safe or reverse("storefront:home")


@require_GET
def cookie_settings(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "shop/growth/cookies.html",
        {
            "choice": visitor.analytics_consent(request),
            "next": request.get_full_path(),
            "page_title": "Cookie settings",
        },
    )


@require_POST
def consent(request: HttpRequest) -> HttpResponse:
    """Accept or decline analytics, then back to the page the visitor was on. Accepting on
    the page they landed on records their visit with where it came from: that page's UTM
    parameters (from `next`) and the referring host it was served with (`ref`)."""
    choice = request.POST.get("choice")
    if choice not in visitor.CONSENT_VALUES:
        messages.error(request, "Please choose Accept analytics or Decline.")
        return redirect("growth:cookies")
    next_url = _next(request)
    forgotten = visitor.visitor_id(request)
    visitor.consent_choose(request, choice)
    response = redirect(next_url)
    visitor.consent_cookies_set(request, response)
    visitor_id = visitor.visitor_id(request)
    user = request.user
    counted = not (user.is_authenticated and user.is_staff)
    if visitor_id and counted and visitor.VISIT_COOKIE not in request.COOKIES:
        landing = landing_from_next(request, next_url=next_url, referrer=request.POST.get("ref"))
        events.visit_record(
            visitor_id=visitor_id,
            landing=landing,
            user_id=user.pk if user.is_authenticated else None,
        )
        visitor.visit_cookie_set(request, response)
    elif choice == visitor.CONSENT_DECLINED and forgotten:
        events.visitor_forget(visitor_id=forgotten)
    if next_url.startswith(reverse("growth:cookies")):
        if choice == visitor.CONSENT_ACCEPTED:
            messages.success(request, "Thank you. Analytics are on for this browser.")
        else:
            deleted = " What was recorded for this browser is deleted." if forgotten else ""
            messages.success(request, f"Thank you. Analytics are off for this browser.{deleted}")
    return response
