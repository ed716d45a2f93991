"""The shop's own pages of lifecycle, mounted at the site root by config/urls.py."""

from django.urls import path  # noqa: F401

app_name = "lifecycle"

urlpatterns: list = []
