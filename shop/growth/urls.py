"""The shop's own pages of growth, mounted at the site root by config/urls.py."""

from django.urls import path  # noqa: F401

app_name = "growth"

urlpatterns: list = []
