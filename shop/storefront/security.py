"""Login lockout helpers for django-axes."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model


def login_username(request: Any, credentials: dict | None) -> str:
    """The account a login attempt was for, as one key per account: its email address,
    lowercased, whatever was typed or passed.

    It comes from the credentials given to `authenticate` or, for the lockout check before
    it, from the posted form (Oscar's customer login posts `login-username`, the dashboard
    login `username`). A value without "@" is a username (the dashboard accepts one, and
    axes passes `user.get_username()` after a successful login): it is mapped to that
    account's email, so the success resets the failures counted under the email and a
    guesser cannot double the allowance by alternating username and email."""
    if credentials:
        value = credentials.get("username") or credentials.get("email") or ""
    else:
        data = getattr(request, "POST", {}) or {}
        value = data.get("login-username") or data.get("username") or ""
    value = str(value).strip()[:254]
    if value and "@" not in value:
        email = (
            get_user_model()
            ._default_manager.filter(username=value)
            .values_list("email", flat=True)
            .first()
        )
        value = email or value
    return value.lower()
