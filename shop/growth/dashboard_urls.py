"""Staff screens of growth, mounted under /dashboard/growth/ by config/urls.py."""

from django.urls import path

from shop.growth import dashboard

app_name = "growth-dashboard"

urlpatterns = [
    path("funnel/", dashboard.funnel, name="funnel"),
]
