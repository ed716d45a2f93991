"""CSRF tokens from one read of the system's random source instead of one per character.

Django makes each CSRF secret and each response's mask (django.middleware.csrf) with
django.utils.crypto.get_random_string, which calls secrets.choice once per character: 32
calls to os.urandom for a mask, 64 for a visitor without a cookie yet, ~40 us of CPU per
string. Every page with a form asks for a masked token, a page served from the cache too
(shop.storefront.page_cache), where it was about 8% of the response's CPU. random_string draws
the same thing, uniform characters from os.urandom, from one read: each random byte below the
largest multiple of the alphabet's size is one character (a byte above it is dropped, so no
character is likelier than another). install() gives it to Django's CSRF module only.
"""

from __future__ import annotations

import secrets

import django.middleware.csrf
from django.utils.crypto import RANDOM_STRING_CHARS


def random_string(length: int, allowed_chars: str = RANDOM_STRING_CHARS) -> str:
    """``length`` characters drawn uniformly and independently from ``allowed_chars`` with
    the system's cryptographic random source (as get_random_string)."""
    size = len(allowed_chars)
    if not 0 < size <= 256:
        raise ValueError("random_string draws from 1 to 256 characters")
    limit = 256 - 256 % size  # bytes at or above it would favour the first characters
    chars: list[str] = []
    while len(chars) < length:
        for byte in secrets.token_bytes(length - len(chars) + 16):
            if byte < limit:
                chars.append(allowed_chars[byte % size])
                if len(chars) == length:
                    break
    return "".join(chars)


def install() -> None:
    """Django's CSRF secrets and masks drawn with random_string."""
    django.middleware.csrf.get_random_string = random_string
