"""Staff screens of referrals, mounted under /dashboard/referrals/ by config/urls.py."""

from django.urls import path  # noqa: F401

app_name = "referrals-dashboard"

urlpatterns: list = []
