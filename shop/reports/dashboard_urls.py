"""Mounted under /dashboard/business-reports/ by config/urls.py."""

app_name = "business-reports"

urlpatterns: list = []
