"""Login lockout helpers for django-axes."""

from __future__ import annotations

from typing import Any


def login_username(request: Any, credentials: dict | None) -> str:
    """The username (an email here) a login attempt was for, from the credentials given to
    `authenticate` or, for the lockout check before it, from the posted form (Oscar's
    customer login posts `login-username`, the dashboard login `username`)."""
    if credentials:
        value = credentials.get("username") or credentials.get("email") or ""
    else:
        data = getattr(request, "POST", {}) or {}
        value = data.get("login-username") or data.get("username") or ""
    return str(value).strip().lower()[:254]
