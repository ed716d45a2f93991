"""The share link's cookie: which code brought this browser, signed so that it cannot be
forged, kept REFERRAL_COOKIE_DAYS. It names a code, never a person."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from shop.referrals.selectors import code_parse

REFERRAL_COOKIE = "mv_ref"
_SALT = "shop.referrals.cookie"


def _max_age() -> int:
    return int(settings.REFERRAL_COOKIE_DAYS) * 24 * 3600


def referral_cookie_set(response: HttpResponse, *, request: HttpRequest, code: str) -> None:
    response.set_signed_cookie(
        REFERRAL_COOKIE,
        code,
        salt=_SALT,
        max_age=_max_age(),
        samesite="Lax",
        httponly=True,
        secure=request.is_secure(),
    )


def referral_cookie_code(request: HttpRequest) -> str | None:
    """The code the browser's cookie carries, or None (absent, expired, tampered, unsigned,
    or not a code)."""
    raw = request.COOKIES.get(REFERRAL_COOKIE)
    if not raw or len(raw) > 200:
        return None
    value = request.get_signed_cookie(REFERRAL_COOKIE, default=None, salt=_SALT, max_age=_max_age())
    return code_parse(value)
