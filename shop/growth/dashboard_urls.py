"""Staff screens of growth, mounted under /dashboard/growth/ by config/urls.py."""

from django.urls import path  # noqa: F401

app_name = "growth-dashboard"

urlpatterns: list = []
