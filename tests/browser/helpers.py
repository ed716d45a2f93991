"""Helpers for browser tests on pytest-django's live server."""

from __future__ import annotations

from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, Page, expect

TIMEOUT_MS = 30_000  # two shared CPUs: slow page loads happen


def signed_in_page(browser: Browser, live_server, user) -> Page:
    """A page in a new browser context already signed in as `user` (a session made by the
    test client, its cookie handed to the browser)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context()
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    return page
