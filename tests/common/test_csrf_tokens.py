"""Django's CSRF secrets and masks come from shop.common.csrf_tokens.random_string: one read
of os.urandom per string, the same uniform characters as get_random_string."""

import re
from collections import Counter

import django.middleware.csrf
import pytest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, get_token
from django.test import Client, RequestFactory

from shop.common.csrf_tokens import random_string


def test_django_csrf_draws_with_it():
    assert django.middleware.csrf.get_random_string is random_string


def test_strings_have_the_length_and_alphabet_asked_for():
    for length in (0, 1, 32, 100):
        text = random_string(length, CSRF_ALLOWED_CHARS)
        assert len(text) == length and set(text) <= set(CSRF_ALLOWED_CHARS)
    assert set(random_string(400, "ab")) == {"a", "b"}
    assert len({random_string(32) for _ in range(1000)}) == 1000
    with pytest.raises(ValueError):
        random_string(4, "")


def test_every_character_is_as_likely():
    """62 characters from bytes: without dropping the bytes at or above 248, the first eight
    would come 25% more often than the others."""
    counts = Counter("".join(random_string(64, CSRF_ALLOWED_CHARS) for _ in range(40_000)))
    expected = 64 * 40_000 / len(CSRF_ALLOWED_CHARS)  # ~41,300 each, sd ~200
    assert len(counts) == len(CSRF_ALLOWED_CHARS)
    assert max(abs(n - expected) for n in counts.values()) < 0.04 * expected


def test_a_masked_token_differs_per_response_and_is_accepted(db):
    request = RequestFactory().get("/")
    request.META["CSRF_COOKIE"] = random_string(32, CSRF_ALLOWED_CHARS)
    first, second = get_token(request), get_token(request)
    assert first != second and len(first) == 64
    unmask = django.middleware.csrf._unmask_cipher_token
    assert unmask(first) == unmask(second) == request.META["CSRF_COOKIE"]


def test_a_form_posts_with_its_token_and_not_without(db):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    data = {"login_submit": "1", "login-username": "nobody@example.com", "login-password": "x"}
    posted = client.post("/accounts/login/", {**data, "csrfmiddlewaretoken": token})
    assert posted.status_code == 200  # the form again, with its error: the token passed
    forged = token[:-1] + ("a" if token[-1] != "a" else "b")
    refused = client.post("/accounts/login/", {**data, "csrfmiddlewaretoken": forged})
    assert refused.status_code == 403
