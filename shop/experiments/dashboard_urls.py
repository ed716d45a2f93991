"""Staff screens of experiments, mounted under /dashboard/experiments/ by config/urls.py."""

from django.urls import path  # noqa: F401

app_name = "experiments-dashboard"

urlpatterns: list = []
