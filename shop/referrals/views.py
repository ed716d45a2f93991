"""The shop's referral pages: the share link (/r/<code>/) and the customer's invite page
(/accounts/referrals/, a tab of the account area)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from shop.referrals.cookies import referral_cookie_set
from shop.referrals.selectors import (
    code_parse,
    referral_account_summary,
    referral_code_owner,
    referral_programme,
    referrals_of,
)
from shop.referrals.services import referral_code_get_or_create

# The campaign parameters a link may carry on to the home page (the funnel reads them),
# each clipped as the funnel stores them; a link without any is marked as a share link.
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
UTM_MAX = 64
UTM_DEFAULT = {"utm_source": "referral", "utm_medium": "share-link"}


def _utm(request) -> dict[str, str]:
    kept = {}
    for key in UTM_KEYS:
        value = " ".join(request.GET.get(key, "").split())[:UTM_MAX]
        if value:
            kept[key] = value
    return kept or dict(UTM_DEFAULT)


@require_GET
@never_cache
def share(request, code: str):
    """A share link: a valid code is remembered in a signed cookie; any code (valid or not)
    goes on to the home page with the link's campaign parameters. Nothing is stored."""
    response = HttpResponseRedirect(f"{reverse('home')}?{urlencode(_utm(request))}")
    referrer = referral_code_owner(code=code)
    if referrer is not None and not (
        request.user.is_authenticated and request.user.pk == referrer.pk
    ):
        referral_cookie_set(response, request=request, code=code_parse(code))
    return response


@login_required
@require_GET
def invite(request):
    """The customer's share link (made the first time), the terms, and their friends."""
    code = referral_code_get_or_create(user=request.user)
    link = request.build_absolute_uri(reverse("referrals:share", kwargs={"code": code.code}))
    return render(
        request,
        "shop/referrals/invite.html",
        {
            "share_link": link,
            "programme": referral_programme(),
            "summary": referral_account_summary(user=request.user),
            "friends": referrals_of(user=request.user)[:100],
            "cookie_days": settings.REFERRAL_COOKIE_DAYS,
            "active_tab": "referrals",
            "page_title": "Invite friends",
        },
    )
