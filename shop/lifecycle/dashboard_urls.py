"""Staff screens of lifecycle, mounted under /dashboard/lifecycle/ by config/urls.py."""

from django.urls import path  # noqa: F401

app_name = "lifecycle-dashboard"

urlpatterns: list = []
